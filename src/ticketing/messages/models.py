from __future__ import annotations

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from ticketing.tickets.models import Ticket
from ticketing.users.models import User


class Message(Model):
    # Ids only grow, and messages of one ticket are inserted while its row is
    # locked, so within a ticket a larger id is always a later message: clients
    # resume a chat from the last id they saw.
    id = fields.BigIntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="messages", on_delete=fields.CASCADE
    )
    author: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="messages", on_delete=fields.RESTRICT
    )
    body = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)

    ticket_id: int
    author_id: int

    class Meta:
        table = "messages"
        indexes = (Index(fields=("ticket_id", "id"), name="idx_messages_ticket_id"),)
