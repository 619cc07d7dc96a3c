"""Users: creation with the contract's validation, look-ups, and admin bootstrap."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError

from ticketing.auth.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, hash_password
from ticketing.errors import Conflict, InvalidInput
from ticketing.text import BIDI_CONTROLS, has_visible_character
from ticketing.users.emails import email_key, validate_email
from ticketing.users.models import DISPLAY_NAME_MAX_LENGTH, Role, User

logger = logging.getLogger(__name__)

DISPLAY_NAME_FIELD = "displayName"


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
    """The name trimmed; others see it beside every message, so it must show as written."""
    cleaned = display_name.strip()
    if not cleaned or len(cleaned) > DISPLAY_NAME_MAX_LENGTH:
        raise InvalidInput(
            DISPLAY_NAME_FIELD,
            f"The display name needs 1 to {DISPLAY_NAME_MAX_LENGTH} characters.",
        )
    if not has_visible_character(cleaned):
        raise InvalidInput(DISPLAY_NAME_FIELD, "The display name needs a visible character.")
    if BIDI_CONTROLS.search(cleaned):
        raise InvalidInput(
            DISPLAY_NAME_FIELD,
            "The display name may not contain bidirectional embedding, override "
            "or isolate characters.",
        )
    return cleaned


def validate_new_user(*, email: str, password: str, display_name: str) -> None:
    """BAD_USER_INPUT unless `create_user` would take these (the email may still be taken)."""
    validate_email(email)
    validate_password(password)
    validate_display_name(display_name)


async def create_user(
    *,
    email: str,
    password: str,
    display_name: str,
    role: Role = Role.USER,
    connection: BaseDBAsyncClient | None = None,
) -> User:
    """Validate and create a user; CONFLICT when the email is taken."""
    shown = validate_email(email)
    key = email_key(shown)
    validate_password(password)
    name = validate_display_name(display_name)
    if await User.filter(email_key=key).using_db(connection).exists():
        raise Conflict("An account with this email already exists.")
    password_hash = await hash_password(password)
    try:
        return await User.create(
            email=shown,
            email_key=key,
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
    shown = validate_email(email)
    existing = await by_email(shown)
    if existing is not None:
        if existing.role != Role.ADMIN:
            existing.role = Role.ADMIN
            await existing.save(update_fields=["role"])
        return existing, False
    user = await create_user(
        email=shown,
        password=password,
        display_name=display_name or shown.partition("@")[0],
        role=Role.ADMIN,
    )
    return user, True


async def by_email(email: str) -> User | None:
    """The account this email identifies (see emails.py), if there is one."""
    return await User.get_or_none(email_key=email_key(email))


async def users_by_ids(ids: Iterable[int]) -> dict[int, User]:
    """Many users in one query (for batching loaders)."""
    return {user.id: user for user in await User.filter(id__in=set(ids))}
