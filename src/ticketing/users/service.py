"""Users: creation with the contract's validation, look-ups, and admin bootstrap."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError

from ticketing.auth.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, hash_password
from ticketing.errors import Conflict, InvalidInput
from ticketing.users.models import DISPLAY_NAME_MAX_LENGTH, EMAIL_MAX_LENGTH, Role, User

logger = logging.getLogger(__name__)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def validate_email(email: str) -> str:
    """The normalised email, or BAD_USER_INPUT (a syntax check only; no mail is sent)."""
    normalized = normalize_email(email)
    local, at, domain = normalized.rpartition("@")
    if (
        not at
        or not local
        or "." not in domain.strip(".")
        or len(normalized) > EMAIL_MAX_LENGTH
        or any(ch.isspace() for ch in normalized)
    ):
        raise InvalidInput("email", "Enter a valid email address.")
    return normalized


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            "password", f"The password needs at least {MIN_PASSWORD_LENGTH} characters."
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            "password", f"The password may have at most {MAX_PASSWORD_LENGTH} characters."
        )


def validate_display_name(display_name: str) -> str:
    cleaned = display_name.strip()
    if not cleaned or len(cleaned) > DISPLAY_NAME_MAX_LENGTH:
        raise InvalidInput(
            "displayName", f"The display name needs 1 to {DISPLAY_NAME_MAX_LENGTH} characters."
        )
    return cleaned


async def create_user(
    *,
    email: str,
    password: str,
    display_name: str,
    role: Role = Role.USER,
    connection: BaseDBAsyncClient | None = None,
) -> User:
    """Validate and create a user; CONFLICT when the email is taken."""
    normalized = validate_email(email)
    validate_password(password)
    name = validate_display_name(display_name)
    if await User.filter(email=normalized).using_db(connection).exists():
        raise Conflict("An account with this email already exists.")
    password_hash = await hash_password(password)
    try:
        return await User.create(
            email=normalized,
            password_hash=password_hash,
            display_name=name,
            role=role,
            using_db=connection,
        )
    except IntegrityError:
        # Two sign-ups raced past the check above; the unique index decided.
        raise Conflict("An account with this email already exists.") from None


async def ensure_admin(*, email: str, password: str, display_name: str | None) -> tuple[User, bool]:
    """Create an admin, or promote the existing account; returns (user, created).

    An existing account keeps its password: running this again never overwrites
    a password someone may have changed since.
    """
    normalized = validate_email(email)
    existing = await User.get_or_none(email=normalized)
    if existing is not None:
        if existing.role != Role.ADMIN:
            existing.role = Role.ADMIN
            await existing.save(update_fields=["role"])
        return existing, False
    user = await create_user(
        email=normalized,
        password=password,
        display_name=display_name or normalized.partition("@")[0],
        role=Role.ADMIN,
    )
    return user, True


async def users_by_ids(ids: Iterable[int]) -> dict[int, User]:
    """Many users in one query (for batching loaders)."""
    return {user.id: user for user in await User.filter(id__in=set(ids))}
