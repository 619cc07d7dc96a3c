from __future__ import annotations

import strawberry

from ticketing.auth.service import SignedIn
from ticketing.errors import Unauthenticated
from ticketing.graphql.auth.types import AuthPayload, LogInInput, SignUpInput
from ticketing.graphql.context import Context, Info


def _signed_in(context: Context, signed_in: SignedIn) -> AuthPayload:
    context.set_refresh_cookie(str(signed_in.refresh_token))
    if signed_in.device_cookie is not None:
        context.set_device_cookie(signed_in.device_cookie)
    return AuthPayload.from_signed_in(signed_in)


@strawberry.type
class AuthMutation:
    @strawberry.mutation
    async def sign_up(self, info: Info, input: SignUpInput) -> AuthPayload:
        signed_in = await info.context.services.auth.sign_up(
            email=input.email,
            password=input.password,
            display_name=input.display_name,
            client_address=info.context.client_address,
        )
        return _signed_in(info.context, signed_in)

    @strawberry.mutation
    async def log_in(self, info: Info, input: LogInInput) -> AuthPayload:
        signed_in = await info.context.services.auth.log_in(
            email=input.email,
            password=input.password,
            client_address=info.context.client_address,
            device_cookie=info.context.device_cookie(),
        )
        return _signed_in(info.context, signed_in)

    @strawberry.mutation
    async def refresh_token(self, info: Info) -> AuthPayload:
        try:
            signed_in = await info.context.services.auth.refresh(
                raw_refresh_token=info.context.refresh_cookie()
            )
        except Unauthenticated:
            info.context.clear_refresh_cookie()
            raise
        return _signed_in(info.context, signed_in)

    @strawberry.mutation
    async def log_out(self, info: Info) -> bool:
        try:
            access_token = info.context.bearer_token()
        except Unauthenticated:
            access_token = None
        await info.context.services.auth.log_out(
            access_token=access_token, raw_refresh_token=info.context.refresh_cookie()
        )
        info.context.clear_refresh_cookie()
        return True
