from __future__ import annotations

import strawberry

from ticketing.graphql.context import Info
from ticketing.graphql.tickets.load_ahead import AT_FIELD, IN_CONNECTION, load_ahead
from ticketing.graphql.tickets.types import Ticket, TicketConnection, TicketFilterInput
from ticketing.tickets import service as tickets
from ticketing.tickets.service import TicketFilter


@strawberry.type
class TicketQuery:
    @strawberry.field(description="A ticket the caller may see; NOT_FOUND otherwise.")
    async def ticket(self, info: Info, id: strawberry.ID) -> Ticket | None:
        viewer = await info.context.require_user()
        ticket = await tickets.visible_ticket(viewer=viewer, ticket_id=id)
        await load_ahead(info, [ticket], AT_FIELD)
        return Ticket.from_model(ticket)

    @strawberry.field(description="Newest first.")
    async def tickets(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        filter: TicketFilterInput | None = None,
    ) -> TicketConnection:
        viewer = await info.context.require_user()
        ticket_filter = filter.to_filter() if filter is not None else TicketFilter()
        page = await tickets.list_tickets(
            viewer=viewer,
            first=20 if first is None else first,
            after=after,
            ticket_filter=ticket_filter,
        )
        await load_ahead(info, page.items, IN_CONNECTION)
        return TicketConnection.from_page(page, viewer, ticket_filter)
