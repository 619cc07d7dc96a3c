from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

EMAIL_MAX_LENGTH = 254
EMAIL_KEY_LENGTH = 64  # SHA-256 in hex (users/emails.py)
DISPLAY_NAME_MAX_LENGTH = 100


class Role(StrEnum):
    USER = "USER"
    ADMIN = "ADMIN"


class User(Model):
    id = fields.IntField(primary_key=True)
    # As shown (users/emails.shown_email). Not an identity: the database's
    # collation would call accented variants the same email.
    email = fields.CharField(max_length=EMAIL_MAX_LENGTH)
    # The identity of the email (users/emails.email_key): log-in looks it up,
    # throttling counts by it, and this unique index is what makes "unique"
    # hold under concurrent sign-ups.
    email_key = fields.CharField(max_length=EMAIL_KEY_LENGTH, unique=True)
    password_hash = fields.CharField(max_length=255)
    display_name = fields.CharField(max_length=DISPLAY_NAME_MAX_LENGTH)
    role = fields.CharEnumField(Role, max_length=16, default=Role.USER)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "users"

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def __str__(self) -> str:
        return f"User {self.id}"
