from __future__ import annotations

import strawberry

from ticketing.graphql.context import Info
from ticketing.graphql.users.types import User


@strawberry.type
class AuthQuery:
    @strawberry.field(description="The signed-in user; null without a token.")
    async def me(self, info: Info) -> User | None:
        principal = await info.context.principal()
        return None if principal is None else User.from_model(principal.user)
