from __future__ import annotations

from collections.abc import AsyncGenerator
from functools import partial

import strawberry

from ticketing.graphql.configuration.types import Configuration
from ticketing.graphql.context import Info
from ticketing.graphql.live import listening
from ticketing.graphql.shared_execution import shared_root
from ticketing.realtime import channels, events
from ticketing.realtime.hub import Message


def _configuration_of(data: str) -> Configuration:
    return Configuration.from_event(events.decode_configuration(data))


@strawberry.type
class ConfigurationSubscription:
    @strawberry.subscription(description="Every configuration update; any signed-in user.")
    async def configuration_updated(self, info: Info) -> AsyncGenerator[Configuration, None]:
        principal = await info.context.require_principal()
        async with listening(info.context, principal, channels.CONFIGURATION) as deliveries:
            async for delivery in deliveries:
                if isinstance(delivery, Message):
                    yield shared_root(
                        delivery, "Configuration", partial(_configuration_of, delivery.data)
                    )
