"""Parsing and validating a document takes work linear in its size, for the worst shapes known.

Time is not measured here (benchmarks do that: bench/validation.py); work is:
the Python lines run while the schema parses and validates a document, counted
by a trace function, for each shape of bench/lib/worst_documents.py at sizes n
and 2n. Linear work at most doubles; graphql-core's OverlappingFieldsCanBeMergedRule
(compare every pair of fields of a response name) about quadruples on most
shapes, and fails this test.

Each document also holds an unused fragment, so that validation refuses it
and nothing executes; every rule still runs to the end (but past 100 errors,
where graphql-core stops validating).
"""

from __future__ import annotations

import importlib.util
import sys
import uuid
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

import pytest

from ticketing.graphql.schema import build_schema

ROOT = Path(__file__).resolve().parents[2]
# Linear work doubles with n, plus a little: what does not grow with n, shrinks
# relative to it, and graphql-core's Python lines are not all the same cost.
MAX_GROWTH = 2.3
UNUSED = "fragment Unused on Query { __typename }"


def _worst_documents() -> ModuleType:
    # bench/ is not a package: load its module by path.
    path = ROOT / "bench" / "lib" / "worst_documents.py"
    spec = importlib.util.spec_from_file_location("worst_documents", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # for its dataclasses
    spec.loader.exec_module(module)
    return module


WORST = _worst_documents()
SCHEMA = build_schema()


async def lines_run(document: str) -> int:
    """Python lines run while the schema parses and validates `document`."""
    count = 0

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return local

    def on_call(frame: FrameType, event: str, arg: Any) -> Any:
        return local

    # A comment of its own: no parse or validation cache has seen this text.
    text = f"{document}\n{UNUSED}\n# {uuid.uuid4()}"
    name = "Q0" if "query Q0" in document else None
    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        result = await SCHEMA.execute(text, operation_name=name)
    finally:
        sys.settrace(previous)
    assert result.data is None, result  # refused: the unused fragment, or more
    return count


@pytest.mark.parametrize("shape", WORST.SHAPES, ids=lambda shape: shape.name)
async def test_the_work_of_validation_grows_linearly(shape: Any) -> None:
    # Half the largest the token limit allows at 2n, a quarter at n.
    n = WORST.largest(shape, 2000) // 4

    once = await lines_run(shape.document(n))
    twice = await lines_run(shape.document(2 * n))

    assert twice / once < MAX_GROWTH, (n, once, twice)
