"""The GraphQL request in an HTTP request (a POST body or GET parameters), checked once.

strawberry's parsing takes the body for a JSON object: `"str"`, `123` or `null`
raised AttributeError (a plain-text 500 and a traceback), and an
`operationName` of any JSON type went on to graphql-core. Here each field must
have the type the GraphQL-over-HTTP draft gives it (`query` and
`operationName` strings, `variables` and `extensions` objects; null or absent
for any of them), or the request is refused with MalformedRequest: 400, which
the view answers with a GraphQL error body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cross_web import HTTPException
from strawberry.http import GraphQLRequestData

from ticketing.graphql.json_input import NotJSON, decode_json

BATCH_REFUSED = "Send one operation per request: batches are not accepted."


class MalformedRequest(HTTPException):
    def __init__(self, reason: str) -> None:
        super().__init__(400, reason)


def request_from_body(body: bytes) -> GraphQLRequestData:
    """The operation in a POST body: one JSON object."""
    try:
        data = decode_json(body)
    except NotJSON as error:
        raise MalformedRequest(f"The request body is not valid JSON: {error}.") from None
    if isinstance(data, list):  # never run a batch, whatever the schema's configuration
        raise MalformedRequest(BATCH_REFUSED)
    if not isinstance(data, dict):
        raise MalformedRequest("The request body must be a JSON object.")
    return _request_data(data)


def request_from_query(params: Mapping[str, str | None]) -> GraphQLRequestData:
    """The operation in GET parameters, `variables` and `extensions` in JSON."""
    fields: dict[str, object] = {
        "query": params.get("query"),
        "operationName": params.get("operationName"),
    }
    for name in ("variables", "extensions"):
        text = params.get(name)
        if not text:  # absent or empty: none
            continue
        try:
            fields[name] = decode_json(text)
        except NotJSON as error:
            raise MalformedRequest(f"The `{name}` parameter is not valid JSON: {error}.") from None
    return _request_data(fields)


def _request_data(fields: Mapping[str, object]) -> GraphQLRequestData:
    return GraphQLRequestData(
        query=_string(fields, "query"),
        variables=_object(fields, "variables"),
        operation_name=_string(fields, "operationName"),
        extensions=_object(fields, "extensions"),
    )


def _string(fields: Mapping[str, object], name: str) -> str | None:
    value = fields.get(name)
    if value is None or isinstance(value, str):
        return value
    raise MalformedRequest(f"`{name}` must be a string or null.")


def _object(fields: Mapping[str, object], name: str) -> dict[str, Any] | None:
    value = fields.get(name)
    if value is None or isinstance(value, dict):
        return value
    raise MalformedRequest(f"`{name}` must be an object or null.")
