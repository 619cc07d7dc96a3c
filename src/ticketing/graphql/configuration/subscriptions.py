from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from ticketing.graphql.configuration.types import Configuration
from ticketing.graphql.context import Info
from ticketing.graphql.live import listening
from ticketing.realtime import channels, events
from ticketing.realtime.hub import Message


@strawberry.type
class ConfigurationSubscription:
    @strawberry.subscription(description="Every configuration update; any signed-in user.")
    async def configuration_updated(self, info: Info) -> AsyncGenerator[Configuration, None]:
        principal = await info.context.require_principal()
        async with listening(info.context, principal, channels.CONFIGURATION) as deliveries:
            async for delivery in deliveries:
                if isinstance(delivery, Message):
                    yield Configuration.from_event(events.decode_configuration(delivery.data))
