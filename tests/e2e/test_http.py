"""The HTTP surface: health, readiness, GraphiQL, GET for queries only, error codes."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import ServerFactory
from tests.support.server import Server


async def test_healthz_and_readyz_answer_200_while_all_is_well(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        health = await http.get("/healthz")
        ready = await http.get("/readyz")

    assert health.status_code == 200
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": True, "redis": True}


async def test_a_browser_gets_graphiql(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        page = await http.get("/graphql", headers={"Accept": "text/html"})

    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


async def test_graphiql_can_be_turned_off(make_server: ServerFactory) -> None:
    server = make_server("embedded", GRAPHIQL="false")
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        page = await http.get("/graphql", headers={"Accept": "text/html"})

    assert page.status_code == 404
    assert "graphiql" not in page.text.lower()


async def test_queries_work_over_get_but_mutations_do_not(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        query = await http.get("/graphql", params={"query": "{ me { id } }"})
        mutation = await http.get("/graphql", params={"query": "mutation { logOut }"})

    assert query.status_code == 200
    assert query.json() == {"data": {"me": None}}
    assert mutation.status_code in (400, 405)


@pytest.mark.parametrize("document", ["{ me { id ", "{ nope }", "query Q($n: Int!) { me { id } }"])
async def test_graphql_errors_carry_bad_user_input(server: Server, document: str) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.post("/graphql", json={"query": document})

    errors = response.json()["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"] * len(errors)
    assert errors
