"""GraphQL over HTTP as the draft asks: media types, status codes, methods and request bodies.

Raw HTTP (httpx), since the status codes and headers are the point. Whatever is
refused must not have run: the refused requests sign up a user, and a plain
sign-up of the same email afterwards must succeed (a CONFLICT would mean it ran).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.support.client import PASSWORD
from tests.support.server import Server

GRAPHQL_RESPONSE = "application/graphql-response+json"
SIGN_UP = (
    "mutation($email: String!) "
    '{ signUp(input: {email: $email, password: "' + PASSWORD + '", displayName: "X"}) '
    "{ user { id } } }"
)


def sign_up_body(email: str) -> dict[str, Any]:
    return {"query": SIGN_UP, "variables": {"email": email}}


async def post(server: Server, body: object, accept: str | None = None) -> httpx.Response:
    headers = {"Accept": accept} if accept is not None else {}
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as http:
        if accept is None:
            http.headers.pop("Accept")  # httpx sends */* unless told otherwise
        return await http.post("/graphql", json=body)


async def assert_never_signed_up(server: Server, email: str) -> None:
    """The refused request did not run: the email is still free."""
    response = await post(server, sign_up_body(email), accept="application/json")
    assert response.json().get("errors") is None, response.json()
    assert response.json()["data"]["signUp"]["user"]["id"]


# --- application/graphql-response+json: status codes say what happened ----------------------

REQUEST_ERRORS = [
    pytest.param({"query": "{ me { id "}, id="parse"),
    pytest.param({"query": "{ nope }"}, id="validation"),
    pytest.param(
        {"query": "query($n: Int!) { tickets(first: $n) { totalCount } }", "variables": {}},
        id="variable-missing",
    ),
    pytest.param(
        {"query": "query($n: Int) { tickets(first: $n) { totalCount } }", "variables": {"n": "x"}},
        id="variable-coercion",
    ),
]


@pytest.mark.parametrize("body", REQUEST_ERRORS)
async def test_a_request_error_is_400_without_data(server: Server, body: dict[str, Any]) -> None:
    response = await post(server, body, accept=GRAPHQL_RESPONSE)

    assert response.status_code == 400
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    payload = response.json()
    assert "data" not in payload
    assert [e["extensions"]["code"] for e in payload["errors"]] == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("body", REQUEST_ERRORS)
async def test_with_application_json_a_request_error_stays_200(
    server: Server, body: dict[str, Any]
) -> None:
    response = await post(server, body, accept="application/json")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["data"] is None
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["BAD_USER_INPUT"]


async def test_once_execution_began_it_is_200_even_with_field_errors(server: Server) -> None:
    body = {"query": '{ configuration { version } ticket(id: "999999") { id } }'}

    response = await post(server, body, accept=GRAPHQL_RESPONSE)

    assert response.status_code == 200
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    payload = response.json()
    assert payload["data"]["ticket"] is None
    assert payload["data"]["configuration"]["version"] >= 1
    assert payload["errors"][0]["path"] == ["ticket"]


async def test_a_refused_mutation_runs_nothing_and_is_400(
    server: Server, unique_email: str
) -> None:
    invalid = SIGN_UP.replace("{ user { id } }", "{ user { id nope } }")
    body = sign_up_body(unique_email) | {"query": invalid}

    response = await post(server, body, accept=GRAPHQL_RESPONSE)

    assert response.status_code == 400
    await assert_never_signed_up(server, unique_email)


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, GRAPHQL_RESPONSE),
        ("*/*", "application/json"),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0.5, application/json", "application/json"),
    ],
)
async def test_the_media_type_follows_accept(
    server: Server, accept: str | None, media_type: str
) -> None:
    response = await post(server, {"query": "{ me { id } }"}, accept=accept)

    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert response.json() == {"data": {"me": None}}


async def test_a_client_accepting_neither_type_gets_406_and_nothing_runs(
    server: Server, unique_email: str
) -> None:
    response = await post(server, sign_up_body(unique_email), accept="text/xml")

    assert response.status_code == 406
    await assert_never_signed_up(server, unique_email)


# --- methods and bodies ------------------------------------------------------------------------


async def test_a_mutation_over_get_is_405_and_does_not_run(
    server: Server, unique_email: str
) -> None:
    params = {"query": SIGN_UP, "variables": json.dumps({"email": unique_email})}
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.get("/graphql", params=params)

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    await assert_never_signed_up(server, unique_email)


async def test_a_subscription_over_http_is_refused_not_failed(server: Server) -> None:
    body = {"query": "subscription { configurationUpdated { version } }"}

    response = await post(server, body, accept="application/json")

    assert response.status_code == 400
    assert "INTERNAL_SERVER_ERROR" not in response.text


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(
            lambda body: {
                "content": json.dumps(body),
                "headers": {"Content-Type": "text/plain"},
            },
            id="text-plain",
        ),
        pytest.param(
            lambda body: {
                "data": {"query": body["query"], "variables": json.dumps(body["variables"])}
            },
            id="form-urlencoded",
        ),
        pytest.param(
            lambda body: {
                "files": {"operations": (None, json.dumps(body), "application/json")},
            },
            id="multipart",
        ),
        pytest.param(lambda body: {"content": json.dumps(body)}, id="no-content-type"),
    ],
)
async def test_a_body_that_is_not_json_is_415_and_does_not_run(
    server: Server, unique_email: str, encode: Any
) -> None:
    # These are the bodies a page on any site can post without a CORS preflight.
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.post("/graphql", **encode(sign_up_body(unique_email)))

    assert response.status_code == 415
    await assert_never_signed_up(server, unique_email)


async def test_a_batch_is_refused_and_none_of_it_runs(server: Server, unique_email: str) -> None:
    other = "second-" + unique_email
    batch = [sign_up_body(unique_email), sign_up_body(other)]

    response = await post(server, batch, accept="application/json")

    assert 400 <= response.status_code < 500
    await assert_never_signed_up(server, unique_email)
    await assert_never_signed_up(server, other)


# --- malformed requests: 400 with a GraphQL error body, never a crash ----------------------

ME = "{ me { id } }"
MEDIA_TYPES = [
    pytest.param(GRAPHQL_RESPONSE, f"{GRAPHQL_RESPONSE}; charset=utf-8", id="graphql-response"),
    pytest.param("application/json", "application/json", id="json"),
]


def with_me(**fields: str) -> bytes:
    """A body asking `{ me { id } }`, with `fields` (raw JSON text) added or replacing it."""
    members = {"query": json.dumps(ME), **fields}
    return ("{" + ",".join(f'"{name}": {value}' for name, value in members.items()) + "}").encode()


MALFORMED_BODIES = [
    # not a JSON object: strawberry raised AttributeError (500, plain text, a traceback)
    pytest.param(b'"str"', id="a-string"),
    pytest.param(b"123", id="a-number"),
    pytest.param(b"null", id="null"),
    pytest.param(b"[1]", id="an-array"),  # a batch: 400 already, kept
    # not JSON that we take: UnicodeDecodeError, RecursionError, ValueError (500s)
    pytest.param(b'{"query": "{ me { id } }", "x": "\xff"}', id="not-utf-8"),
    pytest.param('{"query": "{ me { id } }"}'.encode("utf-16"), id="utf-16"),
    pytest.param(b"[" * 100_000 + b"]" * 100_000, id="nested-too-deeply"),
    pytest.param(with_me(variables='{"n": ' + "9" * 5000 + "}"), id="a-5000-digit-number"),
    pytest.param(with_me(variables='{"n": NaN}'), id="nan"),
    pytest.param(b"", id="empty"),
    # fields of the wrong JSON type
    pytest.param(with_me(query="1"), id="query-a-number"),
    pytest.param(with_me(query='["{ me { id } }"]'), id="query-an-array"),
    pytest.param(with_me(variables='"{}"'), id="variables-a-string"),
    pytest.param(with_me(variables="[1]"), id="variables-an-array"),
    pytest.param(with_me(operationName="1"), id="operation-name-a-number"),
    pytest.param(with_me(operationName="{}"), id="operation-name-an-object"),
    pytest.param(with_me(extensions='"x"'), id="extensions-a-string"),
    pytest.param(with_me(extensions="[]"), id="extensions-an-array"),
]


async def assert_still_serving(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.post("/graphql", json={"query": ME})
    assert response.json() == {"data": {"me": None}}


def assert_graphql_refusal(response: httpx.Response, content_type: str) -> None:
    """400, in the negotiated media type, with one BAD_USER_INPUT error and no data."""
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == content_type
    payload = response.json()
    assert list(payload) == ["errors"], payload
    [error] = payload["errors"]
    assert isinstance(error["message"], str)
    assert error["message"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}


@pytest.mark.parametrize(("accept", "content_type"), MEDIA_TYPES)
@pytest.mark.parametrize("body", MALFORMED_BODIES)
async def test_a_malformed_body_is_400_with_a_graphql_error_and_crashes_nothing(
    server: Server, body: bytes, accept: str, content_type: str
) -> None:
    logged = server.log_offset()
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.post(
            "/graphql",
            content=body,
            headers={"Content-Type": "application/json", "Accept": accept},
        )

    assert_graphql_refusal(response, content_type)
    await assert_still_serving(server)
    assert server.crashes_since(logged) == []


MALFORMED_PARAMETERS = [
    pytest.param({"variables": "{"}, id="variables-not-json"),
    pytest.param({"variables": '"x"'}, id="variables-a-string"),
    pytest.param({"variables": "[1]"}, id="variables-an-array"),
    pytest.param({"variables": '{"n": NaN}'}, id="variables-nan"),
    pytest.param({"variables": '{"n": ' + "9" * 5000 + "}"}, id="variables-5000-digits"),
    pytest.param({"extensions": "{"}, id="extensions-not-json"),
    pytest.param({"extensions": "1"}, id="extensions-a-number"),
    pytest.param({"query": ""}, id="query-empty"),
]


@pytest.mark.parametrize(("accept", "content_type"), MEDIA_TYPES)
@pytest.mark.parametrize("parameters", MALFORMED_PARAMETERS)
async def test_malformed_get_parameters_are_400_with_a_graphql_error_and_crash_nothing(
    server: Server, parameters: dict[str, str], accept: str, content_type: str
) -> None:
    logged = server.log_offset()
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.get(
            "/graphql", params={"query": ME, **parameters}, headers={"Accept": accept}
        )

    assert_graphql_refusal(response, content_type)
    await assert_still_serving(server)
    assert server.crashes_since(logged) == []
