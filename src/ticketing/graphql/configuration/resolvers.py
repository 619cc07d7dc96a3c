from __future__ import annotations

import strawberry

from ticketing.configuration import service as configuration
from ticketing.graphql.configuration.types import Configuration, UpdateConfigurationInput
from ticketing.graphql.context import Info


@strawberry.type
class ConfigurationQuery:
    @strawberry.field(description="Readable by anyone, signed in or not.")
    async def configuration(self) -> Configuration:
        return Configuration.from_model(await configuration.current())


@strawberry.type
class ConfigurationMutation:
    @strawberry.mutation
    async def update_configuration(
        self, info: Info, input: UpdateConfigurationInput
    ) -> Configuration:
        config = await configuration.update(
            actor=await info.context.require_user(),
            changes=input.to_changes(),
            broker=info.context.services.broker,
        )
        return Configuration.from_model(config)
