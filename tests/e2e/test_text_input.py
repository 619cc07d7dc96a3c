"""Text input is checked where it enters, never crashed on: invalid Unicode and control
characters in any string argument are BAD_USER_INPUT naming the input, nothing runs, and
nothing reaches the server's error log or the activity log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError

from tests.conftest import ADMIN_EMAILS
from tests.e2e.helpers_tickets import (
    ASSIGN,
    CREATE_TICKET,
    SEND_MESSAGE,
    TICKET,
    TICKETS,
    UPDATE_CONFIGURATION,
    create_ticket,
    logged_in,
    signed_up,
)
from tests.support.client import LOG_IN, PASSWORD, SIGN_UP, GraphQLClient
from tests.support.server import Server
from tests.support.sockets import socket_transport

BAD_TEXT = {
    "lone surrogate": "x\ud800y",
    "NUL": "x\x00y",
    "escape": "x\x1b[31my",
    "C1 control": "x\x85y",
    "noncharacter": "x\uffffy",
}
MESSAGES_AFTER = """
query Messages($id: ID!, $after: String) {
  ticket(id: $id) { messages(after: $after) { edges { node { id } } } }
}
"""
MESSAGE_ADDED = "subscription ($ticketId: ID!) { messageAdded(ticketId: $ticketId) { id } }"
ERROR_LOGS = "{ logs(minLevel: ERROR, first: 100) { edges { node { event } } } }"


@dataclass(frozen=True)
class Case:
    """One text input: the operation that takes it, as whom, and its variables."""

    document: str
    as_admin: bool
    variables: Callable[[str, str], dict[str, Any]]  # (bad text, a ticket id) -> variables
    field: str


def _sign_up(field: str) -> Callable[[str, str], dict[str, Any]]:
    def variables(text: str, _: str) -> dict[str, Any]:
        values = {"email": "new@example.com", "password": PASSWORD, "displayName": "New"}
        return {"input": {**values, field: text + values[field]}}

    return variables


CASES = {
    "signUp email": Case(SIGN_UP, False, _sign_up("email"), "email"),
    "signUp password": Case(SIGN_UP, False, _sign_up("password"), "password"),
    "signUp displayName": Case(SIGN_UP, False, _sign_up("displayName"), "displayName"),
    "logIn email": Case(
        LOG_IN, False, lambda t, _: {"input": {"email": t, "password": PASSWORD}}, "email"
    ),
    "logIn password": Case(
        LOG_IN, False, lambda t, _: {"input": {"email": "a@b.co", "password": t * 3}}, "password"
    ),
    "createTicket title": Case(
        CREATE_TICKET, False, lambda t, _: {"input": {"title": t, "description": "d"}}, "title"
    ),
    "createTicket description": Case(
        CREATE_TICKET,
        False,
        lambda t, _: {"input": {"title": "t", "description": t}},
        "description",
    ),
    "createTicket category": Case(
        CREATE_TICKET,
        False,
        lambda t, _: {"input": {"title": "t", "description": "d", "category": t}},
        "category",
    ),
    "sendMessage body": Case(
        SEND_MESSAGE, False, lambda t, ticket: {"input": {"ticketId": ticket, "body": t}}, "body"
    ),
    "sendMessage ticketId": Case(
        SEND_MESSAGE, False, lambda t, _: {"input": {"ticketId": t, "body": "b"}}, "ticketId"
    ),
    "ticket id": Case(TICKET, False, lambda t, _: {"id": t}, "id"),
    "tickets search": Case(TICKETS, False, lambda t, _: {"filter": {"search": t}}, "search"),
    "tickets after": Case(TICKETS, False, lambda t, _: {"after": t}, "after"),
    "messages after": Case(
        MESSAGES_AFTER, False, lambda t, ticket: {"id": ticket, "after": t}, "after"
    ),
    "assignTicket assigneeId": Case(
        ASSIGN,
        True,
        lambda t, ticket: {"input": {"ticketId": ticket, "assigneeId": t}},
        "assigneeId",
    ),
    "updateConfiguration ticketCategories": Case(
        UPDATE_CONFIGURATION,
        True,
        lambda t, _: {"input": {"ticketCategories": ["Billing", t]}},
        "ticketCategories",
    ),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
async def test_bad_text_in_any_input_is_bad_user_input_naming_it(
    server: Server, case: Case
) -> None:
    async with signed_up(server) as user, logged_in(server, ADMIN_EMAILS[0]) as admin:
        ticket_id = (await create_ticket(user))["id"]
        client = admin if case.as_admin else user
        # when each kind of bad text is sent in the input
        results = {
            kind: await client.execute(case.document, case.variables(text, ticket_id))
            for kind, text in BAD_TEXT.items()
        }
        errors = (await admin.execute(ERROR_LOGS)).ok()["logs"]["edges"]

    # then each is refused as the client's error, naming the input, and logged nowhere
    for kind, result in results.items():
        assert [(e["extensions"]["code"], e["extensions"].get("field")) for e in result.errors] == [
            ("BAD_USER_INPUT", case.field)
        ], kind
    assert "Traceback" not in server.log()
    assert [e["node"] for e in errors if e["node"]["event"] == "server.error"] == []


async def test_tabs_and_line_breaks_are_text_of_several_lines_only(server: Server) -> None:
    async with signed_up(server) as user:
        lines = "First line\r\nsecond\tline\n"
        # when text of several lines is sent as a description and as a title
        created = await user.execute(
            CREATE_TICKET, {"input": {"title": "Lines", "description": lines}}
        )
        one_line = await user.execute(
            CREATE_TICKET, {"input": {"title": "Two\nlines", "description": "d"}}
        )
        ticket_id = created.ok()["createTicket"]["id"]
        body = await user.execute(SEND_MESSAGE, {"input": {"ticketId": ticket_id, "body": lines}})

    # then it is kept where text spans lines, and refused in a one-line input
    assert created.ok()["createTicket"]["description"] == lines.strip()
    assert body.ok()["sendMessage"]["body"] == lines.strip()
    assert [e["extensions"] for e in one_line.errors] == [
        {"code": "BAD_USER_INPUT", "field": "title"}
    ]


@pytest.mark.parametrize(
    ("name", "accepted"),
    [
        ("\u200b\u200d\u3164", False),  # zero-width characters and a Hangul filler: nothing shows
        ("\u2800\u00a0", False),  # a blank Braille pattern and a no-break space
        ("Bob\u202egnp.exe", False),  # right-to-left override: shows as "Bobexe.png"
        ("Ali\u2066ce", False),  # an isolate
        ("Zoë 🎉", True),
        ("\u05d3\u05e0\u05d4\u200f", True),  # Hebrew with a right-to-left mark
    ],
)
async def test_a_display_name_must_show_as_written(
    server: Server, unique_email: str, name: str, accepted: bool
) -> None:
    async with GraphQLClient(server.graphql_url) as client:
        result = await client.execute(
            SIGN_UP, {"input": {"email": unique_email, "password": PASSWORD, "displayName": name}}
        )

    if accepted:
        assert result.ok()["signUp"]["accessToken"]
    else:
        assert [e["extensions"] for e in result.errors] == [
            {"code": "BAD_USER_INPUT", "field": "displayName"}
        ]


async def test_bad_text_in_a_subscription_argument_is_refused_when_it_starts(
    server: Server,
) -> None:
    async with signed_up(server) as user:
        assert user.token is not None
        async with Client(transport=socket_transport(server, user.token)) as session:
            # when a subscription starts with bad text in an argument
            request = GraphQLRequest(MESSAGE_ADDED, variable_values={"ticketId": "1\ud800"})
            with pytest.raises(TransportQueryError) as refused:
                await anext(aiter(session.subscribe(request)))

    # then it is refused like any input, naming the argument
    assert refused.value.errors is not None
    assert [e["extensions"] for e in refused.value.errors] == [
        {"code": "BAD_USER_INPUT", "field": "ticketId"}
    ]
    assert "Traceback" not in server.log()
