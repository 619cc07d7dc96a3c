from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime

import strawberry

from ticketing.graphql.context import Info
from ticketing.graphql.loaders import NotLoaded, loaded
from ticketing.users.models import Role as RoleModel
from ticketing.users.models import User as UserModel

# Registers the model enum with strawberry under the contract's name.
strawberry.enum(RoleModel, name="Role")


@strawberry.type(name="User")
class User:
    id: strawberry.ID
    display_name: str
    role: RoleModel
    created_at: datetime
    _email: strawberry.Private[str]
    # Set where the viewer is known to be this user before any token says so
    # (the payload of signUp, logIn and refreshToken).
    _reveal_email: strawberry.Private[bool] = False

    @strawberry.field(
        description="Visible to the user themself and to admins; null for anyone else.",
        graphql_type=str | None,
    )
    def email(self, info: Info) -> str | Awaitable[str | None] | None:
        if self._reveal_email:
            return self._email
        # Answered at once when the operation has checked the session already
        # (every signed-in query has), so a page of users stays synchronous.
        viewer = info.context.known_viewer
        if viewer is None:
            return self._email_for_unknown_viewer(info)
        return self._email_for(viewer)

    async def _email_for_unknown_viewer(self, info: Info) -> str | None:
        return self._email_for(await info.context.viewer_or_none())

    def _email_for(self, viewer: UserModel | None) -> str | None:
        if viewer is not None and (viewer.role == RoleModel.ADMIN or str(viewer.id) == self.id):
            return self._email
        return None

    @classmethod
    def from_model(cls, user: UserModel, *, reveal_email: bool = False) -> User:
        return cls(
            id=strawberry.ID(str(user.id)),
            display_name=user.display_name,
            role=user.role,
            created_at=user.created_at,
            _email=user.email,
            _reveal_email=reveal_email,
        )


def user_now_or_later(
    info: Info, user_id: int | None, carried: UserModel | None = None
) -> User | Awaitable[User | None] | None:
    """A user: the one an event carried, one this request already loaded, or else
    an awaitable through the batching loader.

    Answering without an awaitable where the row is at hand keeps graphql-core
    on its synchronous path for the whole object (see graphql/lookahead.py).
    """
    if carried is not None:
        return User.from_model(carried)
    if user_id is None:
        return None
    user = loaded(info.context.loaders.users, user_id)
    if isinstance(user, NotLoaded):
        return _load_user(info, user_id)
    return _graph_user(user)


def existing_user_now_or_later(
    info: Info, user_id: int, carried: UserModel | None = None
) -> User | Awaitable[User]:
    """`user_now_or_later` for a reference that must resolve (authors, owners)."""
    if carried is not None:
        return User.from_model(carried)
    user = loaded(info.context.loaders.users, user_id)
    if isinstance(user, NotLoaded):
        return _load_existing_user(info, user_id)
    return _existing(_graph_user(user), user_id)


async def _load_user(info: Info, user_id: int) -> User | None:
    return _graph_user(await info.context.loaders.users.load(user_id))


async def _load_existing_user(info: Info, user_id: int) -> User:
    return _existing(await _load_user(info, user_id), user_id)


def _graph_user(user: UserModel | None) -> User | None:
    return None if user is None else User.from_model(user)


def _existing(user: User | None, user_id: int) -> User:
    # Users are never deleted (foreign keys restrict it), so this always holds.
    assert user is not None, f"user {user_id} is referenced but missing"
    return user
