from __future__ import annotations

import strawberry

from ticketing.graphql.context import Info
from ticketing.graphql.messages.types import Message, SendMessageInput
from ticketing.messages import service as messages


@strawberry.type
class MessageMutation:
    @strawberry.mutation
    async def send_message(self, info: Info, input: SendMessageInput) -> Message:
        message = await messages.send_message(
            actor=await info.context.require_user(),
            ticket_id=input.ticket_id,
            body=input.body,
            broker=info.context.services.broker,
        )
        return Message.from_model(message)
