"""An opt-in diagnostic: the number of SQL statements an operation ran.

With `EXPOSE_SQL_STATEMENT_COUNT=true` every response carries
`extensions.sqlStatements`. The N+1 test and the query benchmark read it. It
counts Tortoise's per-statement debug records; those records hold the bound
values (password hashes among them), so the logger stops propagating and the
records go nowhere but into the count.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextvars import ContextVar

from strawberry.extensions import SchemaExtension

_STATEMENT_FORMATS = ("%s: %s",)
_counter: ContextVar[list[int] | None] = ContextVar("sql_statement_counter", default=None)


class _CountingHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        counter = _counter.get()
        if counter is None:
            return
        # Statements are logged as "%s: %s" (query, values) or as the bare
        # script; connection set-up and tear-down lines are not statements.
        if record.msg in _STATEMENT_FORMATS or not record.args:
            counter[0] += 1


def install_counter() -> None:
    """Route Tortoise's statement records into the counter (and nowhere else)."""
    logger = logging.getLogger("tortoise.db_client")
    if not any(isinstance(h, _CountingHandler) for h in logger.handlers):
        logger.addHandler(_CountingHandler())
    logger.setLevel(logging.DEBUG)
    logger.propagate = False


class SqlStatementCount(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        self._counter = [0]
        token = _counter.set(self._counter)
        try:
            yield
        finally:
            _counter.reset(token)

    def get_results(self) -> dict[str, object]:
        return {"sqlStatements": self._counter[0]}
