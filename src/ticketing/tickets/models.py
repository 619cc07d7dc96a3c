from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

if TYPE_CHECKING:
    from ticketing.users.models import User

TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 10_000
CATEGORY_MAX_LENGTH = 100


class TicketStatus(StrEnum):
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    ON_HOLD = "ON_HOLD"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"


class TicketPriority(StrEnum):
    LOW = "LOW"
    NORMAL = "NORMAL"
    HIGH = "HIGH"
    URGENT = "URGENT"


class Ticket(Model):
    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=TITLE_MAX_LENGTH)
    description = fields.TextField()
    status = fields.CharEnumField(TicketStatus, max_length=16, default=TicketStatus.OPEN)
    priority = fields.CharEnumField(TicketPriority, max_length=16, default=TicketPriority.NORMAL)
    category = fields.CharField(max_length=CATEGORY_MAX_LENGTH, null=True)
    owner: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="tickets", on_delete=fields.RESTRICT
    )
    assignee: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="assigned_tickets", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    closed_at = fields.DatetimeField(null=True)

    owner_id: int
    assignee_id: int | None

    class Meta:
        table = "tickets"
        # Lists are newest first and paged by keyset on id; these serve the
        # per-owner list, the status filter and the assignee filter.
        indexes = (
            Index(fields=("owner_id", "id"), name="idx_tickets_owner_id"),
            Index(fields=("status", "id"), name="idx_tickets_status_id"),
            Index(fields=("assignee_id", "id"), name="idx_tickets_assignee_id"),
            Index(fields=("created_at",), name="idx_tickets_created_at"),
        )
