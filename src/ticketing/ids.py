"""GraphQL ids are decimal strings of the database ids."""

from __future__ import annotations

from ticketing.errors import InvalidInput, NotFound

MAX_DATABASE_ID = 2**63 - 1


def parse_id(raw: str) -> int | None:
    text = raw.strip()
    # ASCII digits only: str.isdigit() also accepts "²" (which int() refuses) and
    # other scripts' digits (which int() reads, giving one row several ids).
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if 0 < value <= MAX_DATABASE_ID else None


def existing_id(raw: str, what: str) -> int:
    """The id of something the caller names; NOT_FOUND when it cannot exist."""
    value = parse_id(raw)
    if value is None:
        raise NotFound(f"No {what} with this id.")
    return value


def input_id(raw: str, field: str) -> int:
    """An id given as input to refer to something else; BAD_USER_INPUT when malformed."""
    value = parse_id(raw)
    if value is None:
        raise InvalidInput(field, f"`{field}` is not a valid id.")
    return value
