from __future__ import annotations

from datetime import datetime

import strawberry

from ticketing.graphql.context import Info
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
        description="Visible to the user themself and to admins; null for anyone else."
    )
    async def email(self, info: Info) -> str | None:
        if self._reveal_email:
            return self._email
        viewer = await info.context.viewer_or_none()
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


async def load_user(
    info: Info, user_id: int | None, carried: UserModel | None = None
) -> User | None:
    """A user: the one an event carried, or else through the batching loader."""
    if carried is not None:
        return User.from_model(carried)
    if user_id is None:
        return None
    user = await info.context.loaders.users.load(user_id)
    return None if user is None else User.from_model(user)


async def load_existing_user(info: Info, user_id: int, carried: UserModel | None = None) -> User:
    user = await load_user(info, user_id, carried)
    # Users are never deleted (foreign keys restrict it), so this always holds.
    assert user is not None, f"user {user_id} is referenced but missing"
    return user
