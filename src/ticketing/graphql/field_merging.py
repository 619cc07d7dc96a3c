"""Fields that share a response name can be merged: graphql-core's rule, in linear time.

`FieldsCanMergeRule` refuses exactly the documents graphql-core 3.3's
OverlappingFieldsCanBeMergedRule refuses (checked against it by a property test),
but its work grows with the document, not with the square of a repeated field:
each selection set is summarized once (`merged_selections.py`), in up to two
passes. The first keys fields by response name and parent bucket, for what
must agree where both fields can apply to one object (the field name and its
arguments). The second keys them by response name alone, for what must agree
wherever fields meet (their response shape, and no @stream); it is needed only
when some response name has fields of several parent types, an interface
parent or @stream: otherwise fields that agree in name, arguments and parent
type are the same field, and so agree in shape.

What graphql-core decides, kept here:
- A field's definition is looked up on its parent if that is an object or
  interface type, else it is unknown; unknown fields have no shape to compare,
  and meta fields (`__typename`, `__schema`, `__type`) count as unknown. Yet
  the selection of `__schema` or `__type` is one of __Schema or __Type, as
  graphql-core's visitor sees it (see `_Definition`).
- Parents of two different object types make two fields mutually exclusive, and
  everything below them too (names and arguments may differ; shapes may not).
- Arguments are compared by their source form (`argument_keys.py`).
- A field with @stream conflicts with any other field it is merged with.
- A fragment is merged wherever it is spread; a fragment spread within itself
  adds nothing (cycles are NoFragmentCyclesRule's), an unknown one neither.

Errors name both fields (and their locations); at most `MAX_CONFLICTS` are
reported per document. Work beyond `work_budget(document)` refuses the document
as too complex to validate; only type conditions nested under abstract parents
can get there (see `merged_selections.py`). Fragment arguments (experimental syntax
that our parser is never asked to accept) are refused rather than compared.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLWrappingType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Token,
    get_named_type,
    is_leaf_type,
    is_list_type,
)
from graphql.validation import ValidationRule

from ticketing.graphql.argument_keys import arguments_key
from ticketing.graphql.merged_selections import (
    ABSTRACT,
    Bucket,
    Entry,
    Merger,
    Selection,
    TooComplex,
    Work,
)

MAX_CONFLICTS = 10
# Units of work allowed per token of the document, with a floor for small ones.
# The worst shapes we know without abstract parents take at most ~2.3 units a
# token (tests/graphql/test_validation_work.py); abstract parents nested under
# object types can take more; at 6 a document at the token limit stops well
# before it costs what its parsing does (docs/performance.md).
WORK_PER_TOKEN = 6
MIN_WORK = 4_000
MAX_NAME_IN_MESSAGE = 100
COMPOSITE = "composite"
META_TYPES = {"__schema": "__Schema", "__type": "__Type"}


def work_budget(document: DocumentNode) -> int:
    return max(MIN_WORK, WORK_PER_TOKEN * _token_count(document))


def _token_count(document: DocumentNode) -> int:
    """The tokens the parser read (none known for a document parsed without locations)."""
    location = document.loc
    if location is None:
        return 0
    count = 0
    token: Token | None = location.start_token
    while token is not None:
        count += 1
        token = token.next
    return count


class FieldsCanMergeRule(ValidationRule):
    """OverlappingFieldsCanBeMergedRule, in time linear in the document."""

    def leave_document(self, node: DocumentNode, *_args: Any) -> None:
        # After the whole visit: graphql-core has by then refused fragments
        # that nest deeper than the recursion here could follow.
        check = FieldMergeCheck(self.context.schema, node)
        for error in check.run():
            self.report_error(error)


class FieldMergeCheck:
    """The conflicts of one document, and the work it took to find them."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self.schema = schema
        self.document = document
        self.work = Work(work_budget(document))
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self._definitions: dict[tuple[str, int], _Definition] = {}
        self._errors: list[GraphQLError] = []
        self._reported: set[frozenset[int]] = set()

    def run(self) -> list[GraphQLError]:
        if _has_fragment_arguments(self.document):
            return [GraphQLError("Fragment arguments are not supported.")]
        try:
            names = _NamesPass(self)
            names.run()
            if names.shapes_may_differ:
                _ShapesPass(self).run()
        except _Enough:
            pass
        except TooComplex:
            self._errors.append(
                GraphQLError(
                    "The operation is too complex to validate: "
                    "fewer fields, fragments or type conditions under one name, please."
                )
            )
        except RecursionError:
            self._errors.append(GraphQLError("The operation is nested too deeply to validate."))
        return self._errors

    def definition(self, name: str, parent: GraphQLNamedType | None) -> _Definition:
        key = (name, id(parent))
        definition = self._definitions.get(key)
        if definition is None:
            definition = self._definitions[key] = _Definition(name, parent, self.schema)
        return definition

    def report(self, response_name: str, reason: str, one: FieldNode, other: FieldNode) -> None:
        pair = frozenset((id(one), id(other)))
        if pair in self._reported:
            return
        self._reported.add(pair)
        self._errors.append(
            GraphQLError(
                f"Fields '{_short(response_name)}' conflict because {reason}. "
                "Use different aliases on the fields to fetch both if this was intentional.",
                [one, other],
            )
        )
        if len(self._errors) >= MAX_CONFLICTS:
            raise _Enough


class _Pass:
    """Every selection set of the document summarized once, fragments merged where spread."""

    def __init__(self, check: FieldMergeCheck, merger: Merger) -> None:
        self.check = check
        self.schema = check.schema
        self.merger = merger
        self._summaries: dict[tuple[int, int], Selection] = {}
        self._entered: set[str] = set()

    def run(self) -> None:
        # Each operation and fragment, as graphql-core checks each selection set
        # (unused fragments too); nested selection sets are summarized on the way.
        for definition in self.check.document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                root = self.schema.get_root_type(definition.operation)
                self.summary(definition.selection_set, root)
            elif isinstance(definition, FragmentDefinitionNode):
                self._fragment(definition)

    def entry(
        self, node: FieldNode, definition: _Definition, children: Selection | None
    ) -> tuple[Bucket, Entry]:
        raise NotImplementedError

    def summary(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None
    ) -> Selection:
        """The fields of the selection set merged, its fragments' included."""
        key = (id(selection_set), id(parent))
        summary = self._summaries.get(key)
        if summary is not None:
            return summary
        fields: list[tuple[FieldNode, GraphQLNamedType | None]] = []
        spreads: dict[str, None] = {}
        self._collect(selection_set, parent, fields, spreads)
        self.check.work.spend(1 + len(fields) + len(spreads))
        grouped: dict[str, dict[Bucket, list[Entry]]] = {}
        for node, field_parent in fields:
            name = node.name.value
            definition = self.check.definition(name, field_parent)
            children = None
            if node.selection_set is not None:
                children = self.summary(node.selection_set, definition.child_type)
            bucket, entry = self.entry(node, definition, children)
            response_name = node.alias.value if node.alias else name
            by_bucket = grouped.get(response_name)
            if by_bucket is None:
                grouped[response_name] = {bucket: [entry]}
            else:
                by_bucket.setdefault(bucket, []).append(entry)
        summary = self.merger.selection(grouped)
        spread = [self._spread(name) for name in spreads]
        if spread:
            summary = self.merger.merge([summary, *(s for s in spread if s is not None)])
        self._summaries[key] = summary
        return summary

    def _collect(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType | None,
        fields: list[tuple[FieldNode, GraphQLNamedType | None]],
        spreads: dict[str, None],
    ) -> None:
        """Fields with their parents and fragment names, through inline fragments."""
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                fields.append((selection, parent))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                self._collect(selection.selection_set, inner, fields, spreads)
            elif isinstance(selection, FragmentSpreadNode):
                spreads[selection.name.value] = None

    def _spread(self, name: str) -> Selection | None:
        definition = self.check.fragments.get(name)
        if definition is None or name in self._entered:
            return None  # unknown, or spread within itself
        return self._fragment(definition)

    def _fragment(self, definition: FragmentDefinitionNode) -> Selection:
        name = definition.name.value
        self._entered.add(name)
        try:
            condition = self.schema.get_type(definition.type_condition.name.value)
            return self.summary(definition.selection_set, condition)
        finally:
            self._entered.discard(name)


class _NamesPass(_Pass):
    """Fields that may apply to one object must be the same field with the same arguments.

    When every response name has fields of one object type only, with no
    @stream, this pass decides alone: the same field of the same type has one
    shape. Otherwise `shapes_may_differ` asks for the shapes pass.
    """

    def __init__(self, check: FieldMergeCheck) -> None:
        merger = Merger(reason=_name_reason, report=check.report, work=check.work)
        super().__init__(check, merger)

    @property
    def shapes_may_differ(self) -> bool:
        return self.merger.met_several_buckets or self._interface_or_stream

    _interface_or_stream = False

    def entry(
        self, node: FieldNode, definition: _Definition, children: Selection | None
    ) -> tuple[Bucket, Entry]:
        if definition.on_interface or (node.directives and _has_stream(node)):
            self._interface_or_stream = True
        fact = (node.name.value, arguments_key(node.arguments))
        return definition.bucket, Entry(fact, node, node, None, None, children)


class _ShapesPass(_Pass):
    """Fields that meet under one response name, wherever, must return the same shape."""

    def __init__(self, check: FieldMergeCheck) -> None:
        merger = Merger(reason=self._shape_reason, report=check.report, work=check.work)
        super().__init__(check, merger)
        self._types: dict[int, GraphQLOutputType | None] = {}  # by field node, for messages

    def entry(
        self, node: FieldNode, definition: _Definition, children: Selection | None
    ) -> tuple[Bucket, Entry]:
        self._types[id(node)] = definition.type
        stream = node if node.directives and _has_stream(node) else None
        # One bucket for all: parents do not matter to shapes.
        return ABSTRACT, Entry(definition.shape, node, node, None, stream, children)

    def _shape_reason(self, one: FieldNode, other: FieldNode) -> str:
        types = self._types
        return f"they return conflicting types '{types[id(one)]}' and '{types[id(other)]}'"


def _name_reason(one: FieldNode, other: FieldNode) -> str:
    if one.name.value != other.name.value:
        return f"'{_short(one.name.value)}' and '{_short(other.name.value)}' are different fields"
    return "they have differing arguments"


class _Enough(Exception):
    """As many conflicts as one document may report: the document is refused anyway."""


class _Definition:
    """What a field's definition on a parent decides: bucket, type, shape, sub-selection parent."""

    __slots__ = ("bucket", "child_type", "on_interface", "shape", "type")

    def __init__(self, name: str, parent: GraphQLNamedType | None, schema: GraphQLSchema) -> None:
        definition = None
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            definition = parent.fields.get(name)
        field_type = definition.type if definition is not None else None
        self.bucket: Bucket = parent if isinstance(parent, GraphQLObjectType) else ABSTRACT
        self.on_interface = isinstance(parent, GraphQLInterfaceType)
        self.type: GraphQLOutputType | None = field_type
        # None: an unknown field, whose shape is not compared
        self.shape = None if field_type is None else _shape(field_type)
        # the parent of its sub-selection
        self.child_type = None if field_type is None else get_named_type(field_type)
        if parent is not None and parent is schema.query_type and name in META_TYPES:
            # graphql-core looks fields up in `parent.fields`, where the meta fields
            # are not, but its visitor knows them: it checks the selection of one
            # `__schema` as one of __Schema, and compares the selections of two
            # as of an unknown type. As of __Schema here, both: the same answer
            # unless a type condition in them names another type (which
            # PossibleFragmentSpreadsRule refuses).
            self.child_type = schema.get_type(META_TYPES[name])


def _shape(field_type: GraphQLOutputType) -> Hashable:
    """Equal for two types exactly when graphql-core's do_types_conflict finds no conflict."""
    wrappers: list[str] = []
    current: Any = field_type
    while isinstance(current, GraphQLWrappingType):
        wrappers.append("list" if is_list_type(current) else "non-null")
        current = current.of_type
    # Leaf types must be the same; composite types are compared field by field.
    return (*wrappers, current if is_leaf_type(current) else COMPOSITE)


def _has_stream(node: FieldNode) -> bool:
    return any(directive.name.value == "stream" for directive in node.directives or ())


def _has_fragment_arguments(document: DocumentNode) -> bool:
    return any(
        isinstance(d, FragmentDefinitionNode) and d.variable_definitions
        for d in document.definitions
    )


def _short(text: str) -> str:
    return text if len(text) <= MAX_NAME_IN_MESSAGE else text[:MAX_NAME_IN_MESSAGE] + "..."
