"""What an error may show a client: a contract code, and nothing of the server's insides."""

from __future__ import annotations

import re
from typing import Any

CONTRACT_CODES = frozenset(
    {
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "NOT_FOUND",
        "BAD_USER_INPUT",
        "CONFLICT",
        "RATE_LIMITED",
        "INTERNAL_SERVER_ERROR",
    }
)

# A traceback or an exception class name (ValueError, OperationalError, ...).
_PYTHON = re.compile(r"Traceback|\b[A-Z][A-Za-z0-9_]*(?:Error|Exception)\b")
# SQL as Tortoise writes it, and what MySQL/MariaDB and SQLite say about it.
_SQL = re.compile(
    r"\bSELECT\b.*\bFROM\b|\bINSERT INTO\b|\bUPDATE\b.*\bSET\b|\bDELETE FROM\b|"
    r"syntax to use near|Unknown column|Duplicate entry|Data too long|Out of range value|"
    r"Incorrect \w+ value|no such (?:table|column)|UNIQUE constraint|too large to convert"
)
_INTERNALS = re.compile(
    r"asyncmy|pymysql|aiosqlite|sqlite3|tortoise|redis\.|errno|127\.0\.0\.1|"
    r"connection refused|lost connection|server has gone away",
    re.IGNORECASE,
)


def leak_in(message: str) -> str | None:
    """What in `message` should not be there, or None."""
    for pattern in (_PYTHON, _SQL, _INTERNALS):
        found = pattern.search(message)
        if found:
            return found.group(0)
    return None


def problems_with(error: dict[str, Any]) -> list[str]:
    """Why one GraphQL error breaks the contract's error shape (empty if it does not)."""
    problems = []
    extensions = error.get("extensions") or {}
    if extensions.get("code") not in CONTRACT_CODES:
        problems.append(f"code {extensions.get('code')!r} is not a contract code")
    leak = leak_in(str(error.get("message", "")))
    if leak:
        problems.append(f"the message shows {leak!r}")
    return problems
