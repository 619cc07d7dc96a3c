"""Settings of the GraphQL and HTTP limits: their defaults, and the values refused at start."""

from __future__ import annotations

import pytest

from ticketing.settings import Settings, SettingsError


def test_the_defaults_are_safe_for_production_except_introspection() -> None:
    settings = Settings.from_env({})

    assert settings.introspection is True  # and GRAPHIQL: turn both off in production
    assert settings.max_query_length == 16_384
    assert settings.max_query_depth == 12
    assert settings.max_query_tokens == 1000
    assert settings.max_query_aliases == 30
    assert settings.max_query_cost == 10_000
    assert settings.max_request_body_bytes == 1024 * 1024
    assert settings.request_timeout_seconds == 30.0


def test_every_limit_can_be_set() -> None:
    settings = Settings.from_env(
        {
            "INTROSPECTION": "false",
            "MAX_QUERY_LENGTH": "4096",
            "MAX_QUERY_DEPTH": "8",
            "MAX_QUERY_TOKENS": "500",
            "MAX_QUERY_ALIASES": "0",
            "MAX_QUERY_COST": "2500",
            "MAX_REQUEST_BODY_BYTES": "65536",
            "REQUEST_TIMEOUT_SECONDS": "0.5",
        }
    )

    assert settings.introspection is False
    assert settings.max_query_length == 4096
    assert (settings.max_query_depth, settings.max_query_tokens) == (8, 500)
    assert (settings.max_query_aliases, settings.max_query_cost) == (0, 2500)
    assert settings.max_request_body_bytes == 65536
    assert settings.request_timeout_seconds == 0.5


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"INTROSPECTION": "sometimes"}, "INTROSPECTION"),
        ({"MAX_QUERY_LENGTH": "16k"}, "MAX_QUERY_LENGTH"),
        ({"MAX_QUERY_LENGTH": "0"}, "MAX_QUERY_LENGTH"),
        ({"MAX_QUERY_DEPTH": "0"}, "MAX_QUERY_DEPTH"),
        ({"MAX_QUERY_TOKENS": "many"}, "MAX_QUERY_TOKENS"),
        ({"MAX_QUERY_ALIASES": "-1"}, "MAX_QUERY_ALIASES"),
        ({"MAX_QUERY_COST": "1e4"}, "MAX_QUERY_COST"),
        ({"MAX_REQUEST_BODY_BYTES": "1MB"}, "MAX_REQUEST_BODY_BYTES"),
        ({"REQUEST_TIMEOUT_SECONDS": "0"}, "REQUEST_TIMEOUT_SECONDS"),
        ({"REQUEST_TIMEOUT_SECONDS": "soon"}, "REQUEST_TIMEOUT_SECONDS"),
        ({"REQUEST_TIMEOUT_SECONDS": "inf"}, "REQUEST_TIMEOUT_SECONDS"),
        ({"REQUEST_TIMEOUT_SECONDS": "nan"}, "REQUEST_TIMEOUT_SECONDS"),
    ],
)
def test_a_bad_value_stops_the_start_naming_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)
