"""Properties of the pure input handling, for any input Hypothesis can think of.

Whatever a client sends, the code that reads ids, cursors and form fields either
accepts it (and then what it returns keeps the documented rules) or refuses it
with BAD_USER_INPUT naming the right field. It never raises anything else: any
other exception would reach the client as INTERNAL_SERVER_ERROR.
"""

from __future__ import annotations

import base64
import unicodedata
from collections.abc import Callable
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ticketing.configuration.service import (
    MAX_CATEGORIES,
    MAX_MESSAGE_LENGTH_RANGE,
    MAX_OPEN_TICKETS_RANGE,
    ConfigurationChanges,
    _validated,
)
from ticketing.errors import InvalidInput
from ticketing.ids import MAX_DATABASE_ID, parse_id
from ticketing.pagination import decode_cursor, encode_cursor
from ticketing.text import check_text, has_visible_character
from ticketing.tickets.models import CATEGORY_MAX_LENGTH
from ticketing.tickets.service import _text
from ticketing.users.emails import email_key, validate_email
from ticketing.users.models import DISPLAY_NAME_MAX_LENGTH, EMAIL_MAX_LENGTH
from ticketing.users.service import validate_display_name, validate_password

# Fast and repeatable (the same examples on every run, no example database), with
# no deadline on a busy 2-core machine. Per test, so no other test's settings change.
repeatable = settings(
    max_examples=300,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)

T = TypeVar("T")
CURSOR_KINDS = ("ticket", "message", "log")
database_ids = st.integers(min_value=0, max_value=MAX_DATABASE_ID)
# Any Unicode text, lone surrogates included (JSON can carry them as \ud800 escapes).
any_text = st.text(st.characters(codec=None), max_size=300)
# Kinds are the code's own names: no ":" (the separator), and encodable.
kinds = st.text(st.characters(exclude_categories=["Cs"], exclude_characters=":"), max_size=20)


def attempt(call: Callable[[], T]) -> T | InvalidInput:
    """What `call` returns, or the InvalidInput it raises (anything else fails the test)."""
    try:
        return call()
    except InvalidInput as refused:
        return refused


def raw_cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@repeatable
@given(kind=kinds, row_id=database_ids)
def test_a_cursor_gives_back_the_id_it_was_made_from(kind: str, row_id: int) -> None:
    assert decode_cursor(kind, encode_cursor(kind, row_id)) == row_id


@repeatable
@given(kind=st.sampled_from(CURSOR_KINDS), other=st.sampled_from(CURSOR_KINDS), row_id=database_ids)
def test_a_cursor_of_another_kind_is_refused(kind: str, other: str, row_id: int) -> None:
    if kind == other:
        return
    with pytest.raises(InvalidInput) as refused:
        decode_cursor(kind, encode_cursor(other, row_id))
    assert refused.value.field == "after"


@repeatable
@given(
    kind=st.sampled_from(CURSOR_KINDS),
    cursor=st.one_of(
        any_text,
        any_text.map(lambda text: raw_cursor(text.encode("utf-8", "replace").decode())),
        st.builds(lambda k, v: raw_cursor(f"{k}:{v}"), st.sampled_from(CURSOR_KINDS), any_text),
        st.integers().map(lambda n: raw_cursor(f"ticket:{n}")),
    ),
    field=st.sampled_from(["after", "before"]),
)
@example(kind="ticket", cursor=raw_cursor("ticket:²"), field="after")
@example(kind="ticket", cursor=raw_cursor(f"ticket:{2**64}"), field="after")
@example(kind="ticket", cursor=raw_cursor("ticket:" + "9" * 5000), field="after")
@example(kind="ticket", cursor="\ud800", field="after")
def test_decoding_any_text_gives_an_id_in_range_or_bad_user_input(
    kind: str, cursor: str, field: str
) -> None:
    row_id = attempt(lambda: decode_cursor(kind, cursor, field))

    if isinstance(row_id, InvalidInput):
        assert row_id.field == field
        assert row_id.code == "BAD_USER_INPUT"
    else:
        assert row_id is not None
        assert 0 <= row_id <= MAX_DATABASE_ID


@repeatable
@given(raw=any_text)
@example(raw="²")
@example(raw="١٢")
@example(raw=str(2**63))
@example(raw=" 42\n")
def test_parse_id_never_raises_and_gives_only_database_ids(raw: str) -> None:
    value = parse_id(raw)

    if value is not None:
        assert 1 <= value <= MAX_DATABASE_ID
        assert raw.strip() == str(value) or raw.strip().lstrip("0") == str(value)


@repeatable
@given(row_id=st.integers(min_value=1, max_value=MAX_DATABASE_ID))
def test_every_database_id_parses_to_itself(row_id: int) -> None:
    assert parse_id(str(row_id)) == row_id


@repeatable
@given(email=st.one_of(any_text, st.emails().map(str)))
@example(email="a@b.c" + "x" * 300)
@example(email="A@B.CO ")
@example(email="\ud800@example.com")
def test_validate_email_normalises_or_refuses_the_email_field(email: str) -> None:
    normalized = attempt(lambda: validate_email(email))

    if isinstance(normalized, InvalidInput):
        assert normalized.field == "email"
    else:
        assert normalized == unicodedata.normalize("NFKC", email.strip()).lower()
        assert "@" in normalized
        assert len(normalized) <= EMAIL_MAX_LENGTH
        assert normalized.isprintable()
        assert not any(ch.isspace() for ch in normalized)
        assert email_key(normalized) == email_key(email)


@repeatable
@given(email=st.emails().map(str))
def test_an_email_s_key_ignores_case_and_width_and_is_hex(email: str) -> None:
    # the widths: ASCII letters and digits as their full-width forms (U+FF01..)
    wide = "".join(chr(ord(ch) + 0xFEE0) if ch.isascii() and ch.isalnum() else ch for ch in email)

    assert email_key(email.upper()) == email_key(email) == email_key(wide)
    assert len(email_key(email)) == 64
    assert set(email_key(email)) <= set("0123456789abcdef")


@repeatable
@given(password=st.one_of(any_text, st.text(min_size=1000, max_size=1100)))
def test_validate_password_accepts_8_to_1024_characters_else_refuses_the_password_field(
    password: str,
) -> None:
    refused = attempt(lambda: validate_password(password))

    if isinstance(refused, InvalidInput):
        assert refused.field == "password"
        assert not 8 <= len(password) <= 1024
    else:
        assert 8 <= len(password) <= 1024


@repeatable
@given(name=any_text)
def test_validate_display_name_trims_or_refuses_the_display_name_field(name: str) -> None:
    cleaned = attempt(lambda: validate_display_name(name))

    if isinstance(cleaned, InvalidInput):
        assert cleaned.field == "displayName"
    else:
        assert cleaned == name.strip()
        assert 1 <= len(cleaned) <= DISPLAY_NAME_MAX_LENGTH
        assert has_visible_character(cleaned)
        assert not any("\u202a" <= ch <= "\u202e" or "\u2066" <= ch <= "\u2069" for ch in cleaned)


@repeatable
@given(value=any_text, field=st.sampled_from(["title", "body"]), multiline=st.booleans())
@example(value="\ud800", field="title", multiline=True)
@example(value="a\x00b", field="body", multiline=True)
@example(value="line\nnext\ttab", field="body", multiline=True)
def test_text_is_accepted_only_as_valid_unicode_without_controls(
    value: str, field: str, multiline: bool
) -> None:
    refused = attempt(lambda: check_text(field, value, multiline=multiline))

    allowed_controls = "\t\n\r" if multiline else ""
    bad = [
        ch
        for ch in value
        if unicodedata.category(ch) == "Cs"
        or (unicodedata.category(ch) == "Cc" and ch not in allowed_controls)
        or (not multiline and ch in "\u2028\u2029")
        or (ord(ch) & 0xFFFE == 0xFFFE or 0xFDD0 <= ord(ch) <= 0xFDEF)  # noncharacters
    ]
    assert isinstance(refused, InvalidInput) == bool(bad), bad
    if isinstance(refused, InvalidInput):
        assert refused.field == field
    else:
        value.encode()  # what the database and the log need of it


@repeatable
@given(
    value=any_text,
    field=st.sampled_from(["title", "description", "body"]),
    max_length=st.integers(min_value=1, max_value=10_000),
)
def test_ticket_text_is_trimmed_and_bounded_or_refuses_its_field(
    value: str, field: str, max_length: int
) -> None:
    cleaned = attempt(lambda: _text(value, field, max_length))

    if isinstance(cleaned, InvalidInput):
        assert cleaned.field == field
    else:
        assert cleaned == value.strip()
        assert 1 <= len(cleaned) <= max_length


configuration_changes = st.builds(
    ConfigurationChanges,
    registration_open=st.none() | st.booleans(),
    max_open_tickets_per_user=st.none() | st.integers(),
    max_message_length=st.none() | st.integers(),
    ticket_categories=st.none()
    | st.lists(any_text, max_size=60)
    | st.lists(st.sampled_from(["Billing", "billing ", " Bug", "x" * 101, "", "Other"])),
)
CONFIGURATION_FIELDS = {"maxOpenTicketsPerUser", "maxMessageLength", "ticketCategories"}


@repeatable
@given(changes=configuration_changes)
def test_configuration_changes_are_in_range_or_refuse_the_offending_field(
    changes: ConfigurationChanges,
) -> None:
    updates = attempt(lambda: _validated(changes))

    if isinstance(updates, InvalidInput):
        assert updates.field in CONFIGURATION_FIELDS
        return
    low, high = MAX_OPEN_TICKETS_RANGE
    if changes.max_open_tickets_per_user is not None:
        assert low <= updates["max_open_tickets_per_user"] <= high  # type: ignore[operator]
    low, high = MAX_MESSAGE_LENGTH_RANGE
    if changes.max_message_length is not None:
        assert low <= updates["max_message_length"] <= high  # type: ignore[operator]
    if changes.ticket_categories is not None:
        categories = updates["ticket_categories"]
        assert isinstance(categories, list)
        assert 1 <= len(categories) <= MAX_CATEGORIES
        assert all(1 <= len(name) <= CATEGORY_MAX_LENGTH for name in categories)
        assert all(name == name.strip() for name in categories)
        assert len({name.casefold() for name in categories}) == len(categories)
    if changes.registration_open is not None:
        assert updates["registration_open"] is changes.registration_open
