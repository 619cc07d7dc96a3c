from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

import strawberry

from ticketing.pagination import Page, encode_cursor


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


class _Row(Protocol):
    @property
    def id(self) -> int: ...


RowT = TypeVar("RowT", bound=_Row)
EdgeT = TypeVar("EdgeT")


def edges_of(
    page: Page[RowT], kind: str, edge: Callable[[str, RowT], EdgeT]
) -> tuple[list[EdgeT], PageInfo]:
    """A connection's edges (each with its cursor) and page info, from a page of rows."""
    cursors = [encode_cursor(kind, row.id) for row in page.items]
    edges = [edge(cursor, row) for cursor, row in zip(cursors, page.items, strict=True)]
    end = cursors[-1] if cursors else None
    return edges, PageInfo(has_next_page=page.has_next_page, end_cursor=end)
