"""Event payloads: each carries what its subscribers need, so delivering it reads
nothing from the database. Rows travel as plain JSON and come back as unsaved
model instances that the GraphQL types render like any other."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from ticketing.activity.models import LogEntry, LogLevel
from ticketing.configuration.models import SystemConfiguration
from ticketing.messages.models import Message
from ticketing.realtime.hub import Message as Delivery
from ticketing.tickets.models import Ticket, TicketPriority, TicketStatus
from ticketing.users.models import Role, User

Row = dict[str, Any]


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def user_row(user: User | None) -> Row | None:
    if user is None:
        return None
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role.value,
        "created_at": _time(user.created_at),
    }


def user_from(row: Row | None) -> User | None:
    if row is None:
        return None
    return User(
        id=row["id"],
        email=row["email"],
        display_name=row["display_name"],
        role=Role(row["role"]),
        created_at=_parse_time(row["created_at"]),
    )


def ticket_row(ticket: Ticket) -> Row:
    return {
        "id": ticket.id,
        "title": ticket.title,
        "description": ticket.description,
        "status": ticket.status.value,
        "priority": ticket.priority.value,
        "category": ticket.category,
        "owner_id": ticket.owner_id,
        "assignee_id": ticket.assignee_id,
        "created_at": _time(ticket.created_at),
        "updated_at": _time(ticket.updated_at),
        "closed_at": _time(ticket.closed_at),
    }


def ticket_from(row: Row) -> Ticket:
    return Ticket(
        id=row["id"],
        title=row["title"],
        description=row["description"],
        status=TicketStatus(row["status"]),
        priority=TicketPriority(row["priority"]),
        category=row["category"],
        owner_id=row["owner_id"],
        assignee_id=row["assignee_id"],
        created_at=_parse_time(row["created_at"]),
        updated_at=_parse_time(row["updated_at"]),
        closed_at=_parse_time(row["closed_at"]),
    )


@dataclass(frozen=True, slots=True)
class TicketEvent:
    """A ticket as it is now, with the people a subscriber may ask about."""

    ticket: Ticket
    owner: User
    assignee: User | None


@dataclass(frozen=True, slots=True)
class StatusChangeEvent:
    ticket: TicketEvent
    previous_status: TicketStatus
    status: TicketStatus
    changed_by: User
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class MessageEvent:
    message: Message
    author: User
    ticket_owner_id: int
    # The id of the ticket's message before this one: a subscriber that last saw
    # another id has missed something and reads it from the database.
    previous_id: int | None


@dataclass(frozen=True, slots=True)
class ConfigurationEvent:
    configuration: SystemConfiguration
    updated_by: User | None


@dataclass(frozen=True, slots=True)
class LogEvent:
    entry: LogEntry
    actor: User | None


def encode_ticket(ticket: Ticket, owner: User, assignee: User | None) -> str:
    return json.dumps(
        {"ticket": ticket_row(ticket), "owner": user_row(owner), "assignee": user_row(assignee)}
    )


def _ticket_event(data: Row) -> TicketEvent:
    owner = user_from(data["owner"])
    assert owner is not None
    return TicketEvent(
        ticket=ticket_from(data["ticket"]), owner=owner, assignee=user_from(data["assignee"])
    )


def decode_ticket(raw: str) -> TicketEvent:
    return _ticket_event(json.loads(raw))


def encode_status_change(
    ticket: Ticket,
    owner: User,
    assignee: User | None,
    previous_status: TicketStatus,
    changed_by: User,
) -> str:
    return json.dumps(
        {
            "ticket": ticket_row(ticket),
            "owner": user_row(owner),
            "assignee": user_row(assignee),
            "previous_status": previous_status.value,
            "changed_by": user_row(changed_by),
        }
    )


def decode_status_change(raw: str) -> StatusChangeEvent:
    data = json.loads(raw)
    ticket = _ticket_event(data)
    changed_by = user_from(data["changed_by"])
    assert changed_by is not None
    return StatusChangeEvent(
        ticket=ticket,
        previous_status=TicketStatus(data["previous_status"]),
        status=ticket.ticket.status,
        changed_by=changed_by,
        changed_at=ticket.ticket.updated_at,
    )


def encode_message(
    message: Message, author: User, ticket_owner_id: int, previous_id: int | None
) -> str:
    return json.dumps(
        {
            "id": message.id,
            "ticket_id": message.ticket_id,
            "author": user_row(author),
            "body": message.body,
            "created_at": _time(message.created_at),
            "ticket_owner_id": ticket_owner_id,
            "previous_id": previous_id,
        }
    )


def message_event(delivery: Delivery) -> MessageEvent:
    """The chat event `delivery` carries, decoded once for all who ask in this process."""
    return delivery.shared("message", partial(decode_message, delivery.data))


def decode_message(raw: str) -> MessageEvent:
    data = json.loads(raw)
    author = user_from(data["author"])
    assert author is not None
    message = Message(
        id=data["id"],
        ticket_id=data["ticket_id"],
        author_id=author.id,
        body=data["body"],
        created_at=_parse_time(data["created_at"]),
    )
    return MessageEvent(
        message=message,
        author=author,
        ticket_owner_id=data["ticket_owner_id"],
        previous_id=data["previous_id"],
    )


def encode_configuration(config: SystemConfiguration, updated_by: User | None) -> str:
    return json.dumps(
        {
            "registration_open": config.registration_open,
            "max_open_tickets_per_user": config.max_open_tickets_per_user,
            "max_message_length": config.max_message_length,
            "ticket_categories": list(config.ticket_categories),
            "version": config.version,
            "updated_at": _time(config.updated_at),
            "updated_by": user_row(updated_by),
        }
    )


def decode_configuration(raw: str) -> ConfigurationEvent:
    data = json.loads(raw)
    updated_by = user_from(data.pop("updated_by"))
    data["updated_at"] = _parse_time(data["updated_at"])
    config = SystemConfiguration(
        id=1, updated_by_id=None if updated_by is None else updated_by.id, **data
    )
    return ConfigurationEvent(configuration=config, updated_by=updated_by)


def encode_log(entry: LogEntry, actor: User | None) -> str:
    return json.dumps(
        {
            "id": entry.id,
            "level": int(entry.level),
            "event": entry.event,
            "message": entry.message,
            "ticket_id": entry.ticket_id,
            "created_at": _time(entry.created_at),
            "actor": user_row(actor),
        }
    )


def decode_log(raw: str) -> LogEvent:
    data = json.loads(raw)
    actor = user_from(data["actor"])
    entry = LogEntry(
        id=data["id"],
        level=LogLevel(data["level"]),
        event=data["event"],
        message=data["message"],
        ticket_id=data["ticket_id"],
        created_at=_parse_time(data["created_at"]),
        actor_id=None if actor is None else actor.id,
    )
    return LogEvent(entry=entry, actor=actor)
