from __future__ import annotations

import strawberry

from ticketing.graphql.context import Info
from ticketing.graphql.tickets.types import (
    AssignTicketInput,
    CreateTicketInput,
    Ticket,
    UpdateTicketStatusInput,
)
from ticketing.tickets import service as tickets
from ticketing.tickets.models import TicketPriority


@strawberry.type
class TicketMutation:
    @strawberry.mutation
    async def create_ticket(self, info: Info, input: CreateTicketInput) -> Ticket:
        ticket = await tickets.create_ticket(
            actor=await info.context.require_user(),
            title=input.title,
            description=input.description,
            priority=input.priority or TicketPriority.NORMAL,
            category=input.category,
            broker=info.context.services.broker,
        )
        return Ticket.from_model(ticket)

    @strawberry.mutation
    async def update_ticket_status(self, info: Info, input: UpdateTicketStatusInput) -> Ticket:
        change = await tickets.update_status(
            actor=await info.context.require_user(),
            ticket_id=input.ticket_id,
            status=input.status,
            broker=info.context.services.broker,
        )
        return Ticket.from_model(change.ticket)

    @strawberry.mutation
    async def assign_ticket(self, info: Info, input: AssignTicketInput) -> Ticket:
        ticket = await tickets.assign(
            actor=await info.context.require_user(),
            ticket_id=input.ticket_id,
            assignee_id=input.assignee_id,
            broker=info.context.services.broker,
        )
        return Ticket.from_model(ticket)
