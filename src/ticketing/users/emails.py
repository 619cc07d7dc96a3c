"""One email, one identity: the form an email is shown in, and the key that identifies it.

The database must not decide which emails are "the same": MariaDB's collations
fold accents (`josé` = `jose`) and, depending on the collation, widths and
ligatures, while Python's `lower()` folds none of them. When log-in looked up
the address under the collation and throttled it under Python's spelling,
every accented variant of an email got a fresh allowance of attempts at the
same account. So an email is identified by one key, computed here and only
here, for log-in, uniqueness and throttling alike:

- the canonical form is Unicode NFKC (full-width letters, ligatures and other
  compatibility characters become the plain ones), then full case folding
  (`ß` becomes `ss`, `K` (Kelvin) becomes `k`), then NFKC again (folding can
  undo normalization);
- the key is the SHA-256 of that form, in hex: ASCII digits and letters, so
  every collation compares it byte for byte, and the store of throttled keys
  never holds an email in clear.

Accents stay significant: `josé@…` and `jose@…` are two mailboxes and two
identities.
"""

from __future__ import annotations

import hashlib
import unicodedata

from ticketing.errors import InvalidInput
from ticketing.users.models import EMAIL_MAX_LENGTH

EMAIL_FIELD = "email"


def shown_email(email: str) -> str:
    """The email as stored and shown: NFKC, trimmed, lower-cased (case is not identity)."""
    return unicodedata.normalize("NFKC", email.strip()).lower()


def canonical_email(email: str) -> str:
    folded = unicodedata.normalize("NFKC", email.strip()).casefold()
    return unicodedata.normalize("NFKC", folded)


def email_key(email: str) -> str:
    """The identity of an email: equal for exactly the emails that are the same account."""
    return hashlib.sha256(canonical_email(email).encode()).hexdigest()


def validate_email(email: str) -> str:
    """The email as stored, or BAD_USER_INPUT (a syntax check only; no mail is sent)."""
    shown = shown_email(email)
    local, at, domain = shown.rpartition("@")
    if (
        not at
        or not local
        or "." not in domain.strip(".")
        or len(shown) > EMAIL_MAX_LENGTH
        # Nothing invisible or unprintable: no spaces, controls, format
        # characters (zero-width, bidirectional) or lone surrogates.
        or not shown.isprintable()
        or " " in shown
    ):
        raise InvalidInput(EMAIL_FIELD, "Enter a valid email address.")
    return shown
