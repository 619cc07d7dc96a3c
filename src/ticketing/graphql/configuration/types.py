from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime

import strawberry

from ticketing.configuration.models import SystemConfiguration
from ticketing.configuration.service import ConfigurationChanges
from ticketing.graphql.context import Info
from ticketing.graphql.users.types import User, user_now_or_later
from ticketing.realtime.events import ConfigurationEvent
from ticketing.users.models import User as UserModel


@strawberry.type(name="Configuration")
class Configuration:
    registration_open: bool
    max_open_tickets_per_user: int
    max_message_length: int
    ticket_categories: list[str]
    version: int
    updated_at: datetime
    _updated_by_id: strawberry.Private[int | None]
    _updated_by: strawberry.Private[UserModel | None] = None

    @strawberry.field(graphql_type=User | None)
    def updated_by(self, info: Info) -> User | Awaitable[User | None] | None:
        return user_now_or_later(info, self._updated_by_id, self._updated_by)

    @classmethod
    def from_event(cls, event: ConfigurationEvent) -> Configuration:
        config = cls.from_model(event.configuration)
        config._updated_by = event.updated_by
        return config

    @classmethod
    def from_model(cls, config: SystemConfiguration) -> Configuration:
        return cls(
            registration_open=config.registration_open,
            max_open_tickets_per_user=config.max_open_tickets_per_user,
            max_message_length=config.max_message_length,
            ticket_categories=list(config.ticket_categories),
            version=config.version,
            updated_at=config.updated_at,
            _updated_by_id=config.updated_by_id,
        )


@strawberry.input
class UpdateConfigurationInput:
    registration_open: bool | None = None
    max_open_tickets_per_user: int | None = None
    max_message_length: int | None = None
    ticket_categories: list[str] | None = None

    def to_changes(self) -> ConfigurationChanges:
        return ConfigurationChanges(
            registration_open=self.registration_open,
            max_open_tickets_per_user=self.max_open_tickets_per_user,
            max_message_length=self.max_message_length,
            ticket_categories=self.ticket_categories,
        )
