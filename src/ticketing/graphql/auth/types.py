from __future__ import annotations

from datetime import datetime

import strawberry

from ticketing.auth.service import SignedIn
from ticketing.graphql.users.types import User


@strawberry.type
class AuthPayload:
    access_token: str
    access_token_expires_at: datetime
    user: User

    @classmethod
    def from_signed_in(cls, signed_in: SignedIn) -> AuthPayload:
        return cls(
            access_token=signed_in.access.token,
            access_token_expires_at=signed_in.access.expires_at,
            user=User.from_model(signed_in.user, reveal_email=True),
        )


@strawberry.input
class SignUpInput:
    email: str
    password: str
    display_name: str


@strawberry.input
class LogInInput:
    email: str
    password: str
