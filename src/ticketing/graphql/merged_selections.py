"""Selections merged by response name, each merge done once: what makes field merging linear.

graphql-core's OverlappingFieldsCanBeMergedRule compares the fields of one
response name pair by pair, so `{ me { id } me { id } … }` costs the square of
the repetitions (~1 s for 495 of them). Here every field set is summarized once
instead (the idea of XING's "Overlapping Fields Can Be Merged Fast", also in
graphql-java): a *selection* maps each response name to an *entry* per parent
bucket, and an entry keeps one representative of what must agree among its
fields (their response shape, or their name and arguments) and the selection
merged from all their sub-selections. Adding a field to an entry compares it
with the representative only; a disagreement is a conflict. Agreement is an
equivalence, so comparing with one representative is the same as comparing
every pair.

Merging selections copies the widest one (a C-level dict copy) and walks the
others, recursing only where response names meet; a fragment's selection is
built once and merged wherever it is spread. Merges are memoized by the
identity of what is merged, so a set met again costs a lookup.

Buckets follow graphql-core's mutual exclusivity: fields of two different object
types never apply to the same object, so their names and arguments may differ
(only their shapes must agree). A field whose parent is no object type
(interfaces, unions, unknown types) falls in the `ABSTRACT` bucket and must
agree with the fields of every object type in its entry, and its sub-selection
is compared with each of theirs, pair of entries by pair of entries (`_between`,
each pair of selections once). That comparison is the one place where work can
outgrow the document (many type conditions nested under abstract parents could
pair many selections); `Work` bounds it, as graphql-core bounds its own rule.
Our schema has no interfaces or unions: there only introspection selections and
invalid documents have abstract parents.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

from graphql import FieldNode, GraphQLObjectType

# Parents that are object types each have their own bucket; every other parent
# (interface, union, unknown or not composite) is abstract.
Bucket = GraphQLObjectType | None
ABSTRACT: Bucket = None

_T = TypeVar("_T")


class TooComplex(Exception):
    """The work bound was reached: the rule refuses the document rather than go on."""


class Work:
    """Units of work done by the merges (a field, an entry or a name visited), bounded."""

    __slots__ = ("budget", "done")

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.done = 0

    def spend(self, units: int) -> None:
        self.done += units
        if self.done > self.budget:
            raise TooComplex


class Entry:
    """The fields of one response name (and bucket) merged so far."""

    __slots__ = ("children", "fact", "fact_node", "first", "second", "stream")

    def __init__(
        self,
        fact: Hashable | None,
        fact_node: FieldNode,
        first: FieldNode,
        second: FieldNode | None,
        stream: FieldNode | None,
        children: Selection | None,
    ) -> None:
        self.fact = fact  # what these fields must agree on; None: nothing known
        # The field `fact` was taken from. Two of the fields (the second None for
        # one field): enough to name a field other than the one with @stream.
        self.fact_node = fact_node
        self.first = first
        self.second = second
        self.stream = stream  # a field with @stream among them
        self.children = children  # their sub-selections, merged


class Selection:
    """Response name -> bucket -> entry. Never changed once built (merges make new ones)."""

    __slots__ = ("names",)

    def __init__(self, names: dict[str, dict[Bucket, Entry]]) -> None:
        self.names = names


# The merger reports a conflict as (response name, reason, one field, the other).
Report = Callable[[str, str, FieldNode, FieldNode], None]
# Why two fields whose facts differ conflict, for the message.
Reason = Callable[[FieldNode, FieldNode], str]


class Merger:
    """Merges selections of one kind (shapes, or names and arguments), memoized."""

    def __init__(self, *, reason: Reason, report: Report, work: Work) -> None:
        self._reason = reason
        self._report = report
        self._work = work
        # Memo keys are identities; the values keep their inputs alive, so an
        # identity is never reused for another object while the memo stands.
        self._selections: dict[frozenset[int], tuple[Sequence[object], Selection]] = {}
        self._entries: dict[frozenset[int], tuple[Sequence[object], Entry]] = {}
        self._crossed: set[tuple[int, int]] = set()
        self._compared: set[tuple[int, int]] = set()
        # Whether some response name had fields in two buckets or more.
        self.met_several_buckets = False

    def selection(self, grouped: dict[str, dict[Bucket, list[Entry]]]) -> Selection:
        """The selection of these fields' entries (grouped by response name and bucket)."""
        names: dict[str, dict[Bucket, Entry]] = {}
        for name, by_bucket in grouped.items():
            if len(by_bucket) == 1:
                [(bucket, entries)] = by_bucket.items()
                if len(entries) == 1:  # most names: one field, nothing to merge
                    names[name] = {bucket: entries[0]}
                    continue
            names[name] = self._buckets(name, by_bucket)
        return Selection(names)

    def merge(self, selections: Sequence[Selection]) -> Selection:
        """One selection holding all of these (each already checked on its own)."""
        if len(selections) == 1:
            return selections[0]
        self._work.spend(len(selections))
        distinct = _distinct(selections)
        if len(distinct) == 1:
            return distinct[0]
        key = frozenset(map(id, distinct))
        memo = self._selections.get(key)
        if memo is not None:
            return memo[1]
        widest = max(distinct, key=lambda s: len(s.names))
        names = dict(widest.names)  # copied in C; only the others are walked
        self._work.spend(len(names) // 8)  # a copy costs less than a walk
        met: dict[str, list[dict[Bucket, Entry]]] = {}
        for selection in distinct:
            if selection is widest:
                continue
            self._work.spend(len(selection.names))
            for name, buckets in selection.names.items():
                present = names.get(name)
                if present is None:
                    names[name] = buckets
                elif present is buckets:  # the same fragment, reached twice
                    continue
                elif name in met:
                    met[name].append(buckets)
                else:
                    met[name] = [present, buckets]
        for name, bucket_maps in met.items():
            grouped: dict[Bucket, list[Entry]] = {}
            for bucket_map in _distinct(bucket_maps):
                for bucket, entry in bucket_map.items():
                    grouped.setdefault(bucket, []).append(entry)
            names[name] = self._buckets(name, grouped)
        merged = Selection(names)
        self._selections[key] = (distinct, merged)
        return merged

    def _buckets(self, name: str, grouped: dict[Bucket, list[Entry]]) -> dict[Bucket, Entry]:
        if len(grouped) > 1:
            self.met_several_buckets = True
        buckets = {bucket: self._entry(name, entries) for bucket, entries in grouped.items()}
        abstract = buckets.get(ABSTRACT)
        if abstract is not None and len(buckets) > 1:
            # An abstract parent may be any of the object types: its fields meet each.
            for bucket, entry in buckets.items():
                if bucket is not ABSTRACT:
                    self._cross(name, entry, abstract)
        return buckets

    def _cross(self, name: str, entry: Entry, abstract: Entry) -> None:
        self._work.spend(1)
        pair = (id(entry), id(abstract))
        if pair in self._crossed:
            return
        self._crossed.add(pair)
        self._agree(name, entry, abstract)
        if entry.children is not None and abstract.children is not None:
            self._between(entry.children, abstract.children)

    def _between(self, one: Selection, other: Selection) -> None:
        """Compare two selections' fields that may apply to one object, without merging them.

        Each selection is consistent on its own already. Merging them here would
        build selections that cross again one level down, and so on (as many
        combinations as nested type conditions allow); comparing pairs of
        existing entries, each pair of selections once, builds nothing.
        """
        if one is other:
            return
        pair = (id(one), id(other)) if id(one) < id(other) else (id(other), id(one))
        if pair in self._compared:
            return
        self._compared.add(pair)
        if len(one.names) > len(other.names):
            one, other = other, one
        self._work.spend(1 + len(one.names))
        for name, buckets in one.names.items():
            others = other.names.get(name)
            if others is None or others is buckets:
                continue
            for bucket, entry in buckets.items():
                for other_bucket, other_entry in others.items():
                    if entry is other_entry or not (
                        bucket is other_bucket or bucket is ABSTRACT or other_bucket is ABSTRACT
                    ):
                        continue  # the same fields, or parents of two object types
                    self._work.spend(1)
                    self._agree(name, entry, other_entry)
                    if entry.children is not None and other_entry.children is not None:
                        self._between(entry.children, other_entry.children)

    def _entry(self, name: str, entries: list[Entry]) -> Entry:
        if len(entries) == 1:
            return entries[0]
        self._work.spend(len(entries))
        distinct = _distinct(entries)
        if len(distinct) == 1:
            return distinct[0]
        key = frozenset(map(id, distinct))
        memo = self._entries.get(key)
        if memo is not None:
            return memo[1]
        # Distinct entries hold at least two distinct fields between them: a field
        # has one entry of its own, and merged entries hold two or more.
        first = distinct[0].first
        second = next(
            n for e in distinct for n in (e.first, e.second) if n is not None and n is not first
        )
        merged = Entry(None, first, first, second, None, None)
        children: list[Selection] = []
        for entry in distinct:
            self._agree(name, merged, entry)
            if merged.fact is None and entry.fact is not None:
                merged.fact, merged.fact_node = entry.fact, entry.fact_node
            if merged.stream is None:
                merged.stream = entry.stream
            if entry.children is not None:
                children.append(entry.children)
        if merged.stream is not None:
            # graphql-core refuses @stream on any of several fields merged together.
            other = first if merged.stream is not first else second
            self._report(name, "they have overlapping stream directives", merged.stream, other)
        merged.children = self.merge(children) if children else None
        self._entries[key] = (distinct, merged)
        return merged

    def _agree(self, name: str, one: Entry, other: Entry) -> None:
        if one.fact is None or other.fact is None or one.fact == other.fact:
            return
        self._report(
            name, self._reason(one.fact_node, other.fact_node), one.fact_node, other.fact_node
        )


def _distinct(items: Sequence[_T]) -> list[_T]:
    """The items, each object once (by identity), in their order."""
    if len(items) == 1:
        return list(items)
    return list({id(item): item for item in items}.values())
