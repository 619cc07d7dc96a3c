"""How deep a GraphQL document nests and how many aliases it uses, from its text alone.

Both need no schema, so they are checked before validation, and they take time
linear in the document: each fragment is measured once and reused wherever it
is spread. (strawberry's QueryDepthLimiter and MaxAliasesLimiter walk a fragment
again at every spread, which takes exponential time for fragments that spread
each other twice over; a document of a few hundred tokens ties up the server.)

- depth: the fields on the longest path, the leaf included (`{ me { id } }` is 2).
  Introspection fields (`__schema`, `__type`) do not count, as in strawberry:
  graphql-core's own MaxIntrospectionDepthRule bounds how they nest, and the
  standard introspection query of GraphiQL is 15 deep.
- aliases: aliased fields, a fragment's counted once for every place it is spread.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql.language import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
)


@dataclass(frozen=True, slots=True)
class Shape:
    depth: int = 0
    aliases: int = 0


def measure(document: DocumentNode) -> Shape:
    """The deepest operation's depth, and the aliases of all operations in the document."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    measurer = _Measurer(fragments)
    shapes = [
        measurer.selection_set(d.selection_set)
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    ]
    return Shape(
        depth=max((s.depth for s in shapes), default=0),
        aliases=sum(s.aliases for s in shapes),
    )


class _Measurer:
    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self._fragments = fragments
        self._measured: dict[str, Shape] = {}
        self._entered: set[str] = set()

    def selection_set(self, node: SelectionSetNode | None) -> Shape:
        depth = aliases = 0
        for selection in node.selections if node is not None else ():
            shape = self._selection(selection)
            depth = max(depth, shape.depth)
            aliases += shape.aliases
        return Shape(depth, aliases)

    def _selection(self, node: SelectionNode) -> Shape:
        if isinstance(node, FieldNode):
            inner = self.selection_set(node.selection_set)
            aliases = inner.aliases + (1 if node.alias is not None else 0)
            if node.name.value.startswith("__"):
                return Shape(0, aliases)
            return Shape(1 + inner.depth, aliases)
        if isinstance(node, InlineFragmentNode):
            return self.selection_set(node.selection_set)
        if isinstance(node, FragmentSpreadNode):
            return self._fragment(node.name.value)
        return Shape()

    def _fragment(self, name: str) -> Shape:
        if name in self._measured:
            return self._measured[name]
        definition = self._fragments.get(name)
        if definition is None or name in self._entered:
            return Shape()  # unknown or cyclic: validation refuses the document
        self._entered.add(name)
        shape = self.selection_set(definition.selection_set)
        self._entered.discard(name)
        self._measured[name] = shape
        return shape
