"""What text the service takes in: valid Unicode without control characters, and names
that a person can see.

A lone surrogate (JSON's `"\\ud800"`) cannot be encoded for the database or the
log, so it used to fail deep inside a driver as an unexpected error; NUL and
other control characters corrupt what other clients display. Text is checked
here once, where it enters (graphql/text_inputs.py for every GraphQL argument),
and refused as BAD_USER_INPUT naming its field.
"""

from __future__ import annotations

import re
import unicodedata

from ticketing.errors import InvalidInput

# Surrogates (never valid alone in text) and the 66 noncharacters, which
# Unicode reserves for a program's internal use and never for interchange.
_NONCHARACTERS = "".join(f"\\U{plane:04x}fffe\\U{plane:04x}ffff" for plane in range(17))
_INVALID_UNICODE = re.compile(f"[\\ud800-\\udfff\\ufdd0-\\ufdef{_NONCHARACTERS}]")
# C0 and C1 control characters (and DEL), and Unicode's line and paragraph separators.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# The same, but tabs and line breaks, which a text of several lines needs.
_CONTROLS_BUT_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Embeddings, overrides and isolates: they reorder the text around them, so a
# name could show as something else (RLO turns "Bob\u202egnp.exe" around).
# The plain marks (LRM, RLM, ALM) stay: right-to-left names may need them.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Letters that render as nothing: Hangul fillers and the blank Braille pattern.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_VISIBLE_CATEGORIES = frozenset("LNPS")  # letters, numbers, punctuation, symbols


def check_text(field: str, value: str, *, multiline: bool) -> None:
    """BAD_USER_INPUT on `field` unless `value` is valid Unicode free of control characters.

    `multiline` text may hold tabs and line breaks (a description, a message body).
    """
    if _INVALID_UNICODE.search(value):
        raise InvalidInput(field, f"`{field}` is not valid Unicode text.")
    if (_CONTROLS_BUT_LINES if multiline else _CONTROLS).search(value):
        allowed = " other than tabs and line breaks" if multiline else " or line breaks"
        raise InvalidInput(field, f"`{field}` may not contain control characters{allowed}.")


def has_visible_character(value: str) -> bool:
    """Whether any character would show: not only spaces, format characters or blanks."""
    return any(
        unicodedata.category(ch)[0] in _VISIBLE_CATEGORIES and ch not in _BLANK_LETTERS
        for ch in value
    )
