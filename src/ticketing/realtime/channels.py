"""Channel names: exact, one per audience, so nobody filters what they may not see."""

from __future__ import annotations

TICKETS_CREATED = "tickets.created"  # admins
TICKETS_STATUS = "tickets.status"  # admins, every ticket
CONFIGURATION = "configuration"  # anyone signed in
LOGS = "logs"  # admins


def ticket_status(ticket_id: int) -> str:
    return f"ticket.{ticket_id}.status"


def owner_status(user_id: int) -> str:
    """Status changes of the tickets this user owns."""
    return f"user.{user_id}.status"


def ticket_messages(ticket_id: int) -> str:
    return f"ticket.{ticket_id}.messages"


def is_ticket_messages(channel: str) -> bool:
    return channel.startswith("ticket.") and channel.endswith(".messages")


def session(session_id: str) -> str:
    """Told when the session ends, so its subscriptions end on every instance."""
    return f"session.{session_id}"
