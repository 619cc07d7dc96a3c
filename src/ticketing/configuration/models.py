from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from ticketing.users.models import User

SINGLETON_ID = 1
DEFAULT_CATEGORIES = ("General", "Billing", "Technical")


def _default_categories() -> list[str]:
    return list(DEFAULT_CATEGORIES)


class SystemConfiguration(Model):
    """The one row of run-time configuration; `version` grows with each update."""

    id = fields.IntField(primary_key=True)
    registration_open = fields.BooleanField(default=True)
    max_open_tickets_per_user = fields.IntField(default=10)
    max_message_length = fields.IntField(default=5000)
    ticket_categories: list[str] = fields.JSONField(default=_default_categories)
    version = fields.IntField(default=1)
    updated_at = fields.DatetimeField(auto_now=True)
    updated_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )

    updated_by_id: int | None

    class Meta:
        table = "configuration"
