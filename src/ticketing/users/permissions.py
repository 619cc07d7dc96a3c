"""Role checks shared by the services."""

from __future__ import annotations

from ticketing.errors import Forbidden
from ticketing.users.models import User


def may_see_ticket_of(viewer: User, owner_id: int) -> bool:
    """Admins see every ticket; a user only their own (and its messages and changes)."""
    return viewer.is_admin or owner_id == viewer.id


def require_admin(user: User) -> None:
    if not user.is_admin:
        raise Forbidden("Only an admin may do this.")
