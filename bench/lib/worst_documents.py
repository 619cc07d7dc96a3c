"""The costliest GraphQL documents we know of, to parse and validate, by shape and size.

Each shape repeats one unit `n` times; `largest(shape, tokens)` is the biggest
that the token limit lets through. They aim at graphql-core's validation
rules, OverlappingFieldsCanBeMergedRule above all (it compares the fields of a
response name pair by pair), and at the rules that follow variables and
fragments through every operation. Most are valid for the ticketing schema;
those that are not still run every validation rule to the end (validation
reports all it finds), which is the attacker's cost either way.

The tests (tests/graphql/test_validation_work.py) check that the work of
validation grows linearly in `n` for every shape; bench/validation.py times
the largest of each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from graphql import GraphQLSyntaxError, parse

# Object types of the schema with an `id: ID!`, for fields under one response
# name on mutually exclusive parents.
TYPES_WITH_ID = ("User", "Ticket", "Message", "LogEntry")


@dataclass(frozen=True)
class Shape:
    name: str
    what: str
    document: Callable[[int], str]


def _repeated(unit: str, n: int) -> str:
    return " ".join(unit for _ in range(n))


def _fragments(n: int, body: Callable[[int], str]) -> str:
    return "\n".join(f"fragment F{i} on Query {{ {body(i)} }}" for i in range(n))


SHAPES = (
    Shape(
        "repeated field",
        "`me { id }` n times: the 495-times attack",
        lambda n: "query Q { " + _repeated("me { id }", n) + " }",
    ),
    Shape(
        "repeated leaf",
        "`id` n times in one selection",
        lambda n: "{ me { " + _repeated("id", n) + " } }",
    ),
    Shape(
        "repeated deep field",
        "a 7-deep path (`tickets … author { id }`) n times",
        lambda n: (
            "{ "
            + _repeated(
                "tickets { edges { node { messages { edges { node { author { id } } } } } } }", n
            )
            + " }"
        ),
    ),
    Shape(
        "exclusive parents",
        "`id` on four object types in turn, n inline fragments (invalid here: no interfaces)",
        lambda n: (
            "{ " + " ".join(f"... on {TYPES_WITH_ID[i % 4]} {{ id }}" for i in range(n)) + " }"
        ),
    ),
    Shape(
        "equal arguments",
        '`tickets(first: 1, after: "a")` and the same arguments reordered, n times',
        lambda n: (
            "{ "
            + " ".join(
                'tickets(first: 1, after: "a") { totalCount }'
                if i % 2
                else 'tickets(after: "a", first: 1) { totalCount }'
                for i in range(n)
            )
            + " }"
        ),
    ),
    Shape(
        "conflicting arguments",
        "`tickets(first: i)` for n different i",
        lambda n: "{ " + " ".join(f"tickets(first: {i}) {{ totalCount }}" for i in range(n)) + " }",
    ),
    Shape(
        "inline fragments",
        "`... { me { id } }` n times",
        lambda n: "{ " + _repeated("... { me { id } }", n) + " }",
    ),
    Shape(
        "many fragments",
        "n fragments spread side by side, each `me { id }`",
        lambda n: (
            "{ "
            + " ".join(f"...F{i}" for i in range(n))
            + " }\n"
            + _fragments(n, lambda i: "me { id }")
        ),
    ),
    Shape(
        "fragment chain",
        "n fragments, each `me { id }` and a spread of the next",
        lambda n: (
            "{ ...F0 }\n"
            + _fragments(n, lambda i: "me { id }" + (f" ...F{i + 1}" if i + 1 < n else ""))
        ),
    ),
    Shape(
        "fragment lattice",
        "n levels of two fragments, each spreading both of the next level",
        lambda n: (
            "{ ...A0 ...B0 }\n"
            + "\n".join(
                f"fragment {side}{i} on Query {{ me {{ id }}"
                + (f" ...A{i + 1} ...B{i + 1}" if i + 1 < n else "")
                + " }"
                for i in range(n)
                for side in "AB"
            )
        ),
    ),
    Shape(
        "introspection",
        "`__schema { types { fields { name } } }` n times",
        lambda n: "{ " + _repeated("__schema { types { fields { name } } }", n) + " }",
    ),
    Shape(
        "many operations",
        "n operations, each spreading one shared fragment",
        lambda n: (
            "\n".join(f"query Q{i} {{ ...F }}" for i in range(n))
            + "\nfragment F on Query { me { id } configuration { version } }"
        ),
    ),
    Shape(
        "operations sharing variables",
        "n operations, each with `$v` used by a shared fragment of n fields",
        lambda n: (
            "\n".join(f"query Q{i}($v: Int) {{ ...F }}" for i in range(n))
            + "\nfragment F on Query { "
            + _repeated("tickets(first: $v) { totalCount }", n)
            + " }"
        ),
    ),
    Shape(
        "many variables",
        "n variables in one list argument",
        lambda n: (
            "query("
            + " ".join(f"$v{i}: TicketStatus!" for i in range(n))
            + ") { tickets(filter: { status: ["
            + " ".join(f"$v{i}" for i in range(n))
            + "] }) { totalCount } }"
        ),
    ),
)


def type_conditions_under_unknown_types(families: int, levels: int) -> str:
    """Fragments on an unknown type (so, abstract parents) whose fields sit under
    type conditions of object types too, each level spreading other fragments of
    the next: the one shape where FieldsCanMergeRule's work outgrows the document
    (it pairs selections across families), bounded by its work budget. Invalid
    for our schema, but validated to the end all the same."""
    parts = ["{ __schema { ...Z0_0 } }"]
    for level in range(levels):
        for family in range(families):

            def below(other: int, level: int = level) -> str:
                if level + 1 < levels:
                    return f"...Z{other % families}_{level + 1}"
                return f"x{other}"

            body = (
                f"... on User {{ a {{ {below(family + 1)} }} }} "
                f"... on Ticket {{ a {{ {below(family + 2)} }} }} a {{ {below(family)} }}"
            )
            parts.append(f"fragment Z{family}_{level} on Nope {{ {body} }}")
    return "\n".join(parts)


def tokens(document: str) -> int:
    """The tokens graphql-core's parser reads in `document` (its limit counts these)."""
    count = 0
    token = parse(document).loc.start_token  # type: ignore[union-attr]
    while token is not None:
        count += 1
        token = token.next
    return count - 2  # the start and end of file are not counted


def largest(shape: Shape, max_tokens: int) -> int:
    """The largest n whose document the parser reads within `max_tokens`."""
    low, high = 1, 1
    while _fits(shape.document(high), max_tokens):
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        if _fits(shape.document(middle), max_tokens):
            low = middle
        else:
            high = middle
    return low


def _fits(document: str, max_tokens: int) -> bool:
    try:
        parse(document, max_tokens=max_tokens)
    except GraphQLSyntaxError:
        return False
    return True
