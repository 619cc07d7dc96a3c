"""Media types of GraphQL over HTTP: what to answer in, and which request bodies are JSON."""

from __future__ import annotations

import pytest

from ticketing.graphql.http_media import (
    GRAPHQL_RESPONSE_JSON,
    JSON,
    is_json,
    response_media_type,
)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, GRAPHQL_RESPONSE_JSON),  # the draft's default since 2025
        ("", GRAPHQL_RESPONSE_JSON),
        ("application/graphql-response+json", GRAPHQL_RESPONSE_JSON),
        ("application/json", JSON),
        ("*/*", JSON),  # legacy clients (curl, fetch) keep what they had
        ("application/*", JSON),
        # Apollo Client, urql and the draft's recommendation name both
        ("application/graphql-response+json,application/json;q=0.9", GRAPHQL_RESPONSE_JSON),
        ("application/json, application/graphql-response+json", GRAPHQL_RESPONSE_JSON),
        ("application/graphql-response+json;q=0.5, application/json", JSON),
        ("application/graphql-response+json; charset=utf-8, */*;q=0.1", GRAPHQL_RESPONSE_JSON),
        ("text/html, application/json;q=0.2", JSON),
        ("application/json;q=0, */*", GRAPHQL_RESPONSE_JSON),
        ("text/html", None),
        ("application/xml, text/plain", None),
        ("application/json;q=0", None),
        ("*/*;q=0", None),
    ],
)
def test_the_response_media_type_follows_accept(accept: str | None, expected: str | None) -> None:
    assert response_media_type(accept) == expected


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ('Application/JSON; charset="UTF-8"', True),
        ("application/json; charset=latin-1", False),
        ("text/plain", False),
        ("text/plain; charset=utf-8", False),
        ("application/x-www-form-urlencoded", False),
        ("multipart/form-data; boundary=x", False),
        ("application/jsonp", False),
        ("application/graphql", False),
        (None, False),
    ],
)
def test_only_json_bodies_are_taken(content_type: str | None, expected: bool) -> None:
    assert is_json(content_type) is expected
