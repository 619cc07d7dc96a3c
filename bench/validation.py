"""Benchmark 7, validation: parsing and validating the worst documents, before and after.

In this process, no server: for each document of lib/worst_documents.py at the
largest size the token limit (MAX_QUERY_TOKENS) lets through, the costly documents that
the length limit now refuses, the one shape that our rule's work budget stops,
and two real queries (GraphiQL's introspection query, an inbox page), the time
of what the server does before executing an operation:

- before: graphql-core's parse (token limit), our depth/alias measure, every
  validation rule strawberry runs (graphql-core's specified rules with its
  OverlappingFieldsCanBeMergedRule, strawberry's MaybeNull and OneOf rules),
  and the cost when valid; no length limit;
- after: the length limit, then the same with FieldsCanMergeRule in place of
  graphql-core's rule (as `ticketing.graphql.limits` runs it).

Each is the best of `--repeat` runs, each parsing afresh (no cache: a new
operation name defeats them). Time is CPU time of this one process.

    .venv/bin/python bench/validation.py                 # the table, and docs/performance.md
    .venv/bin/python bench/validation.py --repeat 3 --no-docs

Results: bench/results/validation-<timestamp>.json and the rows of the
validation table in docs/performance.md.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    get_introspection_query,
    parse,
    specified_rules,
    validate,
)
from lib import machine, report
from lib.worst_documents import SHAPES, largest, tokens, type_conditions_under_unknown_types
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

# The project has no py.typed marker: mypy type-checks it from src/, not from here.
from ticketing.graphql.cost import operation_cost  # type: ignore[import-untyped]
from ticketing.graphql.document_length import (  # type: ignore[import-untyped]
    DEFAULT_MAX_LENGTH,
    length_error,
)
from ticketing.graphql.document_shape import measure  # type: ignore[import-untyped]
from ticketing.graphql.limits import (  # type: ignore[import-untyped]
    OperationLimits,
    linear_rules,
)
from ticketing.graphql.schema import build_schema  # type: ignore[import-untyped]

TABLE = "validation"
COLUMNS = (
    "document",
    "n",
    "tokens",
    "characters",
    "before",
    "after",
    "after: parse",
    "after: validate",
    "after: answer",
    "date",
    "note",
)
MAX_TOKENS: int = OperationLimits().max_tokens
MAX_LENGTH: int = DEFAULT_MAX_LENGTH
STRAWBERRY_RULES = (MaybeNullValidationRule, OneOfInputValidationRule)
BEFORE_RULES = (*specified_rules, *STRAWBERRY_RULES)
AFTER_RULES = linear_rules(BEFORE_RULES)
INBOX = """
query Inbox($first: Int, $messages: Int) {
  tickets(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node { ...TicketRow messages(first: $messages) { edges { node { ...Message } } } }
    }
  }
}
fragment TicketRow on Ticket {
  id title status priority category createdAt updatedAt closedAt
  owner { ...Person } assignee { ...Person }
}
fragment Message on Message { id body createdAt author { ...Person } }
fragment Person on User { id displayName role }
"""


@dataclass(frozen=True)
class Case:
    name: str
    n: str
    document: str


@dataclass
class Timing:
    total_ms: float
    parse_ms: float
    validate_ms: float
    answer: str


def _cases(max_tokens: int) -> list[Case]:
    cases = []
    for shape in SHAPES:
        n = largest(shape, max_tokens)
        cases.append(Case(shape.name, str(n), shape.document(n)))
    cases.append(
        Case(
            "type conditions under unknown types",
            "5 x 12",
            type_conditions_under_unknown_types(5, 12),
        )
    )
    head = "{ ticket(id: 1) { id } }\n"
    mebibyte = 1024 * 1024 - 200  # what a 1 MiB JSON body can hold
    escapes = '{ ticket(id: "' + "\\u0041" * (mebibyte // 6) + '") { id } }'
    block = _at_limit('{ ticket(id: """', '""") { id } }', "x")
    cases += [
        Case("1 MiB comment", "", head + "#" + "x" * mebibyte),
        Case("1 MiB string of \\u escapes", "", escapes),
        Case("block string at the length limit", "", block),
        Case("comment at the length limit", "", _at_limit(head + "#", "", "x")),
        Case("GraphiQL's introspection query", "", _introspection()),
        Case("inbox page with fragments", "", INBOX),
    ]
    return cases


def _at_limit(before: str, after: str, filler: str) -> str:
    return before + filler * (MAX_LENGTH - len(before) - len(after)) + after


def _introspection() -> str:
    return str(
        get_introspection_query(
            descriptions=True,
            specified_by_url=True,
            directive_is_repeatable=True,
            schema_description=True,
            input_value_deprecation=True,
            one_of=True,
        )
    )


def _check(
    schema: GraphQLSchema, text: str, rules: Any, *, limit_length: bool, max_tokens: int
) -> Timing:
    """What the server does before executing `text`, timed: (total, parse, validate, answer)."""
    started = time.process_time()
    if limit_length and length_error(text, MAX_LENGTH) is not None:
        return Timing(_ms(started), 0.0, 0.0, "too long")
    try:
        document = parse(text, max_tokens=max_tokens)
    except GraphQLError:
        return Timing(_ms(started), _ms(started), 0.0, "too many tokens")
    parsed = time.process_time()
    shape = measure(document)
    if shape.depth > 12 or shape.aliases > 30:
        return Timing(_ms(started), (parsed - started) * 1000, 0.0, "too deep or wide")
    errors = validate(schema, document, rules)
    validated = time.process_time()
    answer = _answer(errors)
    if not errors:
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        name = operations[0].name.value if len(operations) > 1 and operations[0].name else None
        operation_cost(schema, document, name, {})
    return Timing(_ms(started), (parsed - started) * 1000, (validated - parsed) * 1000, answer)


def _run(
    schema: GraphQLSchema, text: str, rules: Any, *, limit_length: bool, max_tokens: int
) -> Callable[[], Timing]:
    return lambda: _check(schema, text, rules, limit_length=limit_length, max_tokens=max_tokens)


def _answer(errors: list[GraphQLError]) -> str:
    if not errors:
        return "valid"
    first = errors[0].message
    for known in ("Validation aborted.", "too complex to validate"):
        if known in first:
            return f"refused: {known.rstrip('.')}"
    return f"refused: {len(errors)} error{'s' if len(errors) > 1 else ''}"


def _ms(started: float) -> float:
    return (time.process_time() - started) * 1000


def _best(run: Callable[[], Timing], repeat: int) -> Timing:
    return min((run() for _ in range(repeat)), key=lambda timing: timing.total_ms)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per document (the best)")
    parser.add_argument(
        "--max-tokens", type=int, default=MAX_TOKENS, help="MAX_QUERY_TOKENS to size them by"
    )
    parser.add_argument("--no-docs", action="store_true", help="leave docs/performance.md alone")
    parser.add_argument("--note", default="", help="a note for the docs table")
    return parser.parse_args()


def main() -> int:
    args = _arguments()
    schema = build_schema()._schema
    result = report.new_document("validation", args)
    date = datetime.now(UTC).strftime("%Y-%m-%d")
    limit = f"{args.max_tokens} tokens" if args.max_tokens != MAX_TOKENS else ""
    note = "; ".join(filter(None, (args.note, limit, f"calibration {result['calibration_ms']} ms")))
    rows: list[dict[str, str]] = []
    measured = []
    print(f"{'document':38} {'n':>6} {'tokens':>6} {'chars':>8} {'before':>9} {'after':>8}")
    tokens_allowed = args.max_tokens
    for case in _cases(tokens_allowed):
        run_before = _run(
            schema, case.document, BEFORE_RULES, limit_length=False, max_tokens=tokens_allowed
        )
        run_after = _run(
            schema, case.document, AFTER_RULES, limit_length=True, max_tokens=tokens_allowed
        )
        before, after = _best(run_before, args.repeat), _best(run_after, args.repeat)
        count = _tokens_or_over(case.document)
        print(
            f"{case.name:38} {case.n:>6} {count:>6} {len(case.document):>8} "
            f"{before.total_ms:7.1f}ms {after.total_ms:6.1f}ms  {before.answer} -> {after.answer}"
        )
        measured.append(
            {"document": case.name, "n": case.n, "tokens": count, "before": vars(before),
             "characters": len(case.document), "after": vars(after)}
        )  # fmt: skip
        rows.append(
            {
                "document": case.name,
                "n": case.n,
                "tokens": count,
                "characters": f"{len(case.document):,}",
                "before": f"{before.total_ms:,.1f} ms ({before.answer})",
                "after": f"{after.total_ms:.1f} ms",
                "after: parse": f"{after.parse_ms:.1f} ms",
                "after: validate": f"{after.validate_ms:.1f} ms",
                "after: answer": after.answer,
                "date": date,
                "note": note,
            }
        )
    result["documents"] = measured
    result["calibration_ms_after"] = machine.calibration_ms()
    path = report.write_json("validation", report.timestamp(), result)
    print(f"calibration {result['calibration_ms']} ms, after {result['calibration_ms_after']} ms")
    print(f"results: {path}")
    if not args.no_docs:
        report.upsert_rows(rows, table=TABLE, columns=COLUMNS, key=("document",))
    return 0


def _tokens_or_over(document: str) -> str:
    try:
        return f"{tokens(document):,}"
    except RecursionError:
        return "?"


if __name__ == "__main__":
    raise SystemExit(main())
