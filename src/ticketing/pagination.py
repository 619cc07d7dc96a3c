"""Keyset pagination: opaque cursors over ids, `first` bounds, and the page shape.

Cursors encode the id of the last row seen. Pages continue with `id < cursor`
(newest first) or `id > cursor` (oldest first), never with OFFSET, so rows
inserted meanwhile neither shift nor repeat what a client pages through.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Generic, TypeVar

from ticketing.errors import InvalidInput
from ticketing.ids import MAX_DATABASE_ID

MAX_PAGE_SIZE = 100
MAX_ID_DIGITS = len(str(MAX_DATABASE_ID))
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    has_next_page: bool


def encode_cursor(kind: str, row_id: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{row_id}".encode()).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str | None, field: str = "after") -> int | None:
    """The id inside a cursor of this kind; BAD_USER_INPUT for anything else."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = raw.partition(":")
        # A cursor names a row id: ASCII digits, within the database's 64 bits.
        if prefix != kind or not (value.isascii() and value.isdigit()):
            raise ValueError(cursor)
        if len(value) > MAX_ID_DIGITS or int(value) > MAX_DATABASE_ID:
            raise ValueError(cursor)
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput(field, "This cursor is not valid here.") from None


def check_first(first: int, field: str = "first") -> int:
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise InvalidInput(field, f"`{field}` must be between 1 and {MAX_PAGE_SIZE}.")
    return first


def page_of(rows: list[T], first: int) -> Page[T]:
    """Rows fetched with `limit first + 1`: the extra row only says there is more."""
    return Page(items=rows[:first], has_next_page=len(rows) > first)
