from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

EMAIL_MAX_LENGTH = 254
DISPLAY_NAME_MAX_LENGTH = 100


class Role(StrEnum):
    USER = "USER"
    ADMIN = "ADMIN"


class User(Model):
    id = fields.IntField(primary_key=True)
    # Stored lower-cased: emails are case-insensitive, and a unique index on the
    # normalised form is what makes "unique" hold under concurrent sign-ups.
    email = fields.CharField(max_length=EMAIL_MAX_LENGTH, unique=True)
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
