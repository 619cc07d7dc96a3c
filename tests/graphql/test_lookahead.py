"""Loading ahead: what a field's children ask for, and answering at once what is loaded."""

from __future__ import annotations

import asyncio
import inspect
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import pytest
import strawberry
from strawberry.dataloader import DataLoader

from ticketing.graphql import lookahead
from ticketing.graphql.context import Info
from ticketing.graphql.loaders import NOT_LOADED, Loaders, MessagePageKey, loaded
from ticketing.graphql.lookahead import arguments_at, asks_for, selections_at
from ticketing.graphql.tickets.types import Ticket, message_page_key
from ticketing.graphql.users.types import User
from ticketing.pagination import Page
from ticketing.tickets.models import TicketPriority, TicketStatus
from ticketing.users.models import Role

seen: dict[str, Any] = {}


@strawberry.type
class Leaf:
    name: str = "leaf"

    @strawberry.field
    def items(self, first: int | None = None, after: str | None = None) -> list[str]:
        return []


@strawberry.type
class Node:
    leaf: Leaf = strawberry.field(default_factory=Leaf)


@strawberry.type
class Query:
    @strawberry.field
    def root(self, info: strawberry.Info) -> Node:
        looked = cast(Info, info)
        seen["items"] = arguments_at(looked, ("leaf", "items"))
        field, nodes = selections_at(looked, ("leaf", "name"))
        seen["names"] = (field is not None, [node.name.value for node in nodes])
        seen["missing"] = selections_at(looked, ("leaf", "nothing"))
        seen["asks for items"] = asks_for(looked, ("leaf", "items"))
        return Node()


SCHEMA = strawberry.Schema(query=Query)


def _look(document: str, variables: dict[str, object] | None = None) -> dict[str, Any]:
    seen.clear()
    result = SCHEMA.execute_sync(document, variable_values=variables)
    assert result.errors is None, result.errors
    return dict(seen)


def test_arguments_come_from_every_selection_through_fragments_with_variables() -> None:
    found = _look(
        """
        query Q($n: Int) {
          root {
            leaf { items(first: 1) }
            ... on Node { leaf { short: items(first: $n, after: "c") } }
            ...More
          }
        }
        fragment More on Node { leaf { name } }
        """,
        {"n": 7},
    )

    # coerced as the field gets them: an Int, and the declared defaults
    assert found["items"] == [{"first": 1, "after": None}, {"first": 7, "after": "c"}]
    assert found["names"] == (True, ["name"])
    assert found["missing"] == (None, [])


def test_a_field_not_asked_for_has_no_selection() -> None:
    found = _look("{ root { leaf { name } } }")

    assert found["items"] == []
    assert found["asks for items"] is False


def test_a_null_variable_is_seen_as_the_field_sees_it() -> None:
    # null, not the default: the field's own rule then decides (messages: 50)
    found = _look("query Q($n: Int) { root { leaf { items(first: $n) } } }", {"n": None})

    assert found["items"] == [{"first": None, "after": None}]


async def _resolved(value: object) -> object:
    return value


def test_loaded_answers_only_for_a_finished_load_of_a_caching_loader() -> None:
    async def scenario() -> None:
        async def load(keys: list[int]) -> list[object]:
            if 13 in keys:
                raise RuntimeError("unlucky")
            return [f"row {key}" for key in keys]

        caching: DataLoader[int, object] = DataLoader(load_fn=load)
        forgetting: DataLoader[int, object] = DataLoader(load_fn=load, cache=False)

        assert loaded(caching, 1) is NOT_LOADED  # never asked for
        pending = caching.load(1)
        assert loaded(caching, 1) is NOT_LOADED  # still loading
        await pending
        assert loaded(caching, 1) == "row 1"

        failing = caching.load(13)
        await asyncio.gather(failing, return_exceptions=True)
        assert loaded(caching, 13) is NOT_LOADED  # its field awaits and reports the failure

        await forgetting.load(1)
        assert loaded(forgetting, 1) is NOT_LOADED

    asyncio.run(scenario())


def _user(user_id: int) -> Any:
    return SimpleNamespace(
        id=user_id,
        display_name=f"user {user_id}",
        role=Role.USER,
        created_at=datetime(2026, 11, 23, tzinfo=UTC),
        email=f"u{user_id}@example.test",
    )


def _ticket() -> Ticket:
    moment = datetime(2026, 11, 23, tzinfo=UTC)
    return Ticket(
        id=strawberry.ID("5"),
        title="t",
        description="d",
        status=TicketStatus.OPEN,
        priority=TicketPriority.NORMAL,
        category=None,
        created_at=moment,
        updated_at=moment,
        closed_at=None,
        _owner_id=1,
        _assignee_id=2,
    )


def _info(loaders: Loaders, viewer: Any = None) -> Any:
    return SimpleNamespace(context=SimpleNamespace(loaders=loaders, known_viewer=viewer))


def test_a_ticket_answers_at_once_what_its_request_loaded_and_later_what_it_did_not() -> None:
    async def scenario() -> None:
        loaders = Loaders(cache=True)
        loaders.users.prime(1, _user(1))
        loaders.message_pages.prime(
            message_page_key(5, 3, None), Page(items=[], has_next_page=False)
        )
        later_users: list[list[int]] = []

        async def load_users(ids: list[int]) -> list[Any]:
            later_users.append(list(ids))
            return [_user(user_id) for user_id in ids]

        loaders.users.load_fn = load_users  # the assignee was not loaded ahead
        ticket, info = _ticket(), _info(loaders)

        owner = ticket.owner(info)
        messages = ticket.messages(info, first=3)
        assignee = ticket.assignee(info)

        assert isinstance(owner, User)
        assert owner.id == "1"
        assert not inspect.isawaitable(messages)
        assert messages.edges == []
        assert inspect.isawaitable(assignee)
        assert later_users == []
        assigned = await assignee
        assert isinstance(assigned, User)
        assert assigned.id == "2"
        assert later_users == [[2]]

    asyncio.run(scenario())


def test_an_email_is_answered_at_once_once_the_session_is_checked() -> None:
    owner = User.from_model(_user(1))
    admin = SimpleNamespace(id=9, role=Role.ADMIN)
    stranger = SimpleNamespace(id=8, role=Role.USER)
    loaders = Loaders(cache=True)

    assert owner.email(_info(loaders, admin)) == "u1@example.test"
    assert owner.email(_info(loaders, stranger)) is None
    assert owner.email(_info(loaders, SimpleNamespace(id=1, role=Role.USER))) == "u1@example.test"


def test_message_page_keys_default_like_the_field() -> None:
    assert message_page_key(5, None, None) == MessagePageKey(5, 50, None)


def test_users_ahead_loads_once_for_a_caching_loader_and_not_at_all_otherwise() -> None:
    async def scenario() -> None:
        asked: list[list[int]] = []

        async def load_users(ids: list[int]) -> list[Any]:
            asked.append(list(ids))
            return [_user(user_id) for user_id in ids]

        caching, forgetting = Loaders(cache=True), Loaders(cache=False)
        for loaders in (caching, forgetting):
            loaders.users.load_fn = load_users

        await caching.users_ahead([3, None, 1, 3])
        await forgetting.users_ahead([2])

        assert asked == [[1, 3]]  # one statement, no duplicates, no null ids
        assert loaded(caching.users, 3).id == 3
        assert loaded(forgetting.users, 2) is NOT_LOADED

    asyncio.run(scenario())


def test_a_chain_of_doubled_fragment_spreads_is_walked_once_per_fragment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # F0 spreads F1 twice, F1 spreads F2 twice ...: 2^12 paths to one field.
    depth = 12
    chain = "".join(f"fragment F{n} on Node {{ ...F{n + 1} ...F{n + 1} }}\n" for n in range(depth))
    document = "{ root { ...F0 } }\n" + chain + f"fragment F{depth} on Node {{ leaf {{ name }} }}"
    walks = 0
    walk = lookahead._fields_named

    def counted(*args: Any) -> Any:
        nonlocal walks
        walks += 1
        return walk(*args)

    monkeypatch.setattr(lookahead, "_fields_named", counted)

    found = _look(document)

    assert found["names"] == (True, ["name"])  # the one field, once
    assert walks < 10 * depth  # not 2^depth
