"""Role checks shared by the services."""

from __future__ import annotations

from ticketing.errors import Forbidden
from ticketing.users.models import User


def require_admin(user: User) -> None:
    if not user.is_admin:
        raise Forbidden("Only an admin may do this.")
