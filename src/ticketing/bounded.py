"""A dict kept to a fixed size: for per-process memos of things that never change."""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def keep(store: dict[K, V], key: K, value: V, most: int) -> V:
    """Store `value` under `key`, first dropping the oldest entry if `most` are kept."""
    if key not in store and len(store) >= most:
        del store[next(iter(store))]  # dicts keep insertion order: the first is the oldest
    store[key] = value
    return value
