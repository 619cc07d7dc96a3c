"""Fuzzing: schemathesis in GraphQL mode against a real server on MariaDB + Redis.

schemathesis reads the schema by introspection and, for every query and
mutation field, has Hypothesis write valid GraphQL documents with arbitrary
arguments and selections. Each one is sent as a signed-in USER or as an ADMIN
(so permission checks and the admin-only paths are both reached) to a server of
the test's own (the fuzzer may change its configuration). Every answer must be:
no 5xx; JSON; every error coded from the contract; no error that is a masked
bug (INTERNAL_SERVER_ERROR: well-formed input must never reach one); and no
message showing a traceback, an exception class, SQL or a driver; and
schemathesis's response check (a GraphQL response whose data fits the schema).

One test per operation of the contract (schema.graphql), each a Hypothesis
test over schemathesis's strategy for that operation (`operation.as_strategy()`;
its pytest integration, `schemathesis.pytest.from_fixture(...).parametrize()`,
fails under pytest 9: it sets `Item._nodeid`, which pytest 9 no longer has).
Bounded: a fixed number of
examples per operation, generated the same way on every run (derandomized), and
no shrinking, so the whole module stays under a minute. `logOut` is left out:
it would end the session the other examples use.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from graphql import build_schema
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import response_schema_conformance
from schemathesis.specs.graphql.schemas import GraphQLSchema

from tests.conftest import ServerFactory
from tests.support.client import PASSWORD
from tests.support.masking import problems_with
from tests.support.server import Server

ROOT = Path(__file__).resolve().parents[2]
# It would end the session that every other example uses.
SKIPPED = {"logOut"}
# FUZZ_EXAMPLES=1000 FUZZ_RANDOM=1 explores further (new examples on each run).
EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "50"))
DERANDOMIZE = os.environ.get("FUZZ_RANDOM", "") in ("", "0")
REQUEST_TIMEOUT = 15.0
ADMIN_EMAIL = "fuzz-admin@example.com"
USER_EMAIL = "fuzz-user@example.com"
SIGN_UP = """
mutation SignUp($input: SignUpInput!) { signUp(input: $input) { accessToken } }
"""
LOG_IN = "mutation LogIn($input: LogInInput!) { logIn(input: $input) { accessToken } }"
CREATE = 'mutation { createTicket(input: {title: "Fuzz", description: "Target"}) { id } }'
SEND = 'mutation($id: ID!) { sendMessage(input: {ticketId: $id, body: "Hello"}) { id } }'


# A fixed number of examples per operation, the same on every run, and no shrinking
# (a failure shows the example as generated): the whole module stays under a minute.
bounded = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    database=None,
    derandomize=DERANDOMIZE,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@dataclass(frozen=True)
class FuzzTarget:
    server: Server
    headers: dict[str, dict[str, str]]  # by role
    schema: GraphQLSchema


def _graphql(
    server: Server, query: str, variables: dict[str, Any], token: str | None = None
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        server.graphql_url,
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=REQUEST_TIMEOUT,
    )
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]


def _operations() -> list[str]:
    """Every query and mutation field of the contract, as schemathesis labels them."""
    contract = build_schema((ROOT / "schema.graphql").read_text())
    labels = []
    for root in (contract.query_type, contract.mutation_type):
        assert root is not None
        labels += [f"{root.name}.{name}" for name in root.fields if name not in SKIPPED]
    return labels


@pytest.fixture(scope="module")
def fuzz_target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FuzzTarget]:
    """A server of its own, an admin and a user signed in, and a ticket with a message."""
    servers = ServerFactory(request, tmp_path_factory)
    try:
        server = servers("mariadb", ADMIN_EMAIL=ADMIN_EMAIL, ADMIN_PASSWORD=PASSWORD)
        signed_up = {"email": USER_EMAIL, "password": PASSWORD, "displayName": "Fuzz"}
        user = _graphql(server, SIGN_UP, {"input": signed_up})["signUp"]["accessToken"]
        credentials = {"email": ADMIN_EMAIL, "password": PASSWORD}
        admin = _graphql(server, LOG_IN, {"input": credentials})["logIn"]["accessToken"]
        ticket = _graphql(server, CREATE, {}, user)["createTicket"]["id"]
        _graphql(server, SEND, {"id": ticket}, user)
        tokens = {"USER": user, "ADMIN": admin}
        yield FuzzTarget(
            server=server,
            headers={role: {"Authorization": f"Bearer {token}"} for role, token in tokens.items()},
            schema=schemathesis.graphql.from_url(server.graphql_url, timeout=REQUEST_TIMEOUT),
        )
    finally:
        servers.stop_all()


def check_answer(response: Any, role: str, case: Any, server: Server) -> None:
    context = f"as {role}: {case.body!r}\n-> {response.status_code} {response.text[:2000]}"
    assert response.status_code < 500, context
    headers = {name.lower(): values for name, values in response.headers.items()}
    assert headers["content-type"][0].startswith("application/json"), context
    errors = response.json().get("errors") or []
    problems = [problem for error in errors for problem in problems_with(error)]
    assert not problems, f"{problems}\n{context}"
    codes = [(error.get("extensions") or {}).get("code") for error in errors]
    assert "INTERNAL_SERVER_ERROR" not in codes, f"{context}\nserver log:\n{server.log()[-3000:]}"
    # schemathesis's own check that the answer is a GraphQL response whose data fits
    # the schema (no null where it promises a value). Not its other GraphQL checks:
    # they count every error as a failure, and a valid document may break a rule.
    case.validate_response(response, checks=[response_schema_conformance])


@pytest.mark.parametrize("label", _operations())
def test_no_input_makes_the_api_fail_or_show_its_insides(
    label: str, fuzz_target: FuzzTarget
) -> None:
    operation = fuzz_target.schema.find_operation_by_label(label)
    assert operation is not None, f"{label} is not in the served schema"

    @bounded
    @given(case=operation.as_strategy(), role=st.sampled_from(sorted(fuzz_target.headers)))
    def fuzz(case: Any, role: str) -> None:
        response = case.call(headers=fuzz_target.headers[role], timeout=REQUEST_TIMEOUT)
        check_answer(response, role, case, fuzz_target.server)

    fuzz()
