from __future__ import annotations

from enum import IntEnum

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from ticketing.users.models import User

EVENT_MAX_LENGTH = 64
MESSAGE_MAX_LENGTH = 500


class LogLevel(IntEnum):
    # Stored as numbers so that "at or above a level" is a plain comparison.
    DEBUG = 10
    INFO = 20
    WARNING = 30
    ERROR = 40


class LogEntry(Model):
    id = fields.BigIntField(primary_key=True)
    level = fields.IntEnumField(LogLevel)
    event = fields.CharField(max_length=EVENT_MAX_LENGTH)
    message = fields.CharField(max_length=MESSAGE_MAX_LENGTH)
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    # Not a foreign key: the log outlives what it talks about.
    ticket_id = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    actor_id: int | None

    class Meta:
        table = "log_entries"
        indexes = (
            Index(fields=("level", "id"), name="idx_log_entries_level_id"),
            Index(fields=("created_at",), name="idx_log_entries_created_at"),
        )
