"""Settings.from_env: the defaults, and every value the service refuses to start with."""

from __future__ import annotations

from pathlib import Path

import pytest

from ticketing.settings import (
    DEFAULT_DATABASE_URL,
    MIN_JWT_SECRET_BYTES,
    Settings,
    SettingsError,
)

SECRET = "s" * MIN_JWT_SECRET_BYTES
MYSQL_URL = "mysql://app:pw@db.internal:3306/ticketing"

REFUSED = [
    pytest.param({"JWT_SECRET": "s" * (MIN_JWT_SECRET_BYTES - 1)}, "JWT_SECRET", id="short-secret"),
    # 31 bytes: the minimum counts bytes (so "€" * 11, 33 bytes, is accepted below).
    pytest.param({"JWT_SECRET": "€" * 10 + "a"}, "JWT_SECRET", id="31-bytes"),
    pytest.param({"DATABASE_URL": "postgres://db/x"}, "DATABASE_URL", id="postgres-url"),
    pytest.param({"DATABASE_URL": "ticketing.sqlite3"}, "DATABASE_URL", id="bare-path"),
    pytest.param({"REDIS_URL": "http://cache:6379"}, "REDIS_URL", id="redis-scheme"),
    pytest.param({"COOKIE_SAMESITE": "none"}, "COOKIE_SECURE", id="samesite-none-insecure"),
    pytest.param(
        {"COOKIE_SAMESITE": "none", "COOKIE_SECURE": "false"},
        "COOKIE_SECURE",
        id="samesite-none-secure-false",
    ),
    pytest.param({"COOKIE_SAMESITE": "sometimes"}, "COOKIE_SAMESITE", id="samesite-unknown"),
    pytest.param({"COOKIE_SECURE": "maybe"}, "COOKIE_SECURE", id="boolean"),
    pytest.param({"CORS_ORIGINS": "*"}, "CORS_ORIGINS", id="cors-star"),
    pytest.param({"CORS_ORIGINS": "https://a.example, *"}, "CORS_ORIGINS", id="cors-star-listed"),
    pytest.param({"ADMIN_EMAIL": "root@example.com"}, "ADMIN_PASSWORD", id="admin-no-password"),
    pytest.param({"ADMIN_PASSWORD": "long enough pw"}, "ADMIN_EMAIL", id="admin-no-email"),
    pytest.param({"PORT": "eighty"}, "PORT must be a whole number", id="port-text"),
    pytest.param({"PORT": "0"}, "PORT must be at least 1", id="port-zero"),
    pytest.param({"ACCESS_TOKEN_TTL_SECONDS": "1.5"}, "ACCESS_TOKEN_TTL_SECONDS", id="ttl-float"),
    pytest.param({"LOGIN_MAX_FAILURES_PER_EMAIL": "-1"}, "at least 1", id="negative-limit"),
    pytest.param({"LOG_LEVEL": "verbose"}, "LOG_LEVEL", id="log-level"),
    pytest.param(
        {"REQUEST_HEADER_TIMEOUT_SECONDS": "0"},
        "REQUEST_HEADER_TIMEOUT_SECONDS",
        id="header-timeout-zero",
    ),
    pytest.param(
        {"MAX_CONNECTIONS_PER_WORKER": "0"}, "MAX_CONNECTIONS_PER_WORKER", id="no-connections"
    ),
    pytest.param(
        {"MAX_CONNECTIONS_PER_WORKER": "1e4"}, "MAX_CONNECTIONS_PER_WORKER", id="connections-float"
    ),
    pytest.param({"MAX_QUERY_LENGTH": "-1"}, "MAX_QUERY_LENGTH", id="query-length-negative"),
]


def test_defaults_run_embedded_without_redis_and_flag_the_generated_secret() -> None:
    # given an empty environment
    # when the settings are built
    settings = Settings.from_env({})
    # then the service runs on the embedded database, alone, with a throw-away secret
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.database_url.startswith("sqlite://")
    assert not settings.uses_mysql
    assert settings.redis_url is None
    assert settings.jwt_secret_generated is True
    assert len(settings.jwt_secret.encode()) >= MIN_JWT_SECRET_BYTES
    assert Settings.from_env({}).jwt_secret != settings.jwt_secret
    assert settings.cookie_samesite == "lax"
    assert settings.cookie_secure is False
    assert settings.cors_origins == ()
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


@pytest.mark.parametrize(("env", "names"), REFUSED)
def test_refused_value_raises_a_settings_error_naming_it(env: dict[str, str], names: str) -> None:
    # given an environment holding a value the service refuses
    # when the settings are built
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(env)
    # then the error names what is wrong
    assert names in str(refused.value)


def test_secret_of_32_bytes_or_more_is_accepted() -> None:
    # given secrets of exactly the minimum length and longer
    for secret in (SECRET, SECRET * 3, "€" * 11):
        # when the settings are built
        settings = Settings.from_env({"JWT_SECRET": f"  {secret}  "})
        # then the secret is used as given (trimmed) and not flagged as generated
        assert settings.jwt_secret == secret
        assert settings.jwt_secret_generated is False


def test_secrets_stay_out_of_the_repr() -> None:
    settings = Settings.from_env(
        {"JWT_SECRET": SECRET, "ADMIN_EMAIL": "a@example.com", "ADMIN_PASSWORD": "hunter2hunter2"}
    )
    assert SECRET not in repr(settings)
    assert "hunter2hunter2" not in repr(settings)


def test_mysql_url_and_redis_url_are_accepted() -> None:
    settings = Settings.from_env({"DATABASE_URL": MYSQL_URL, "REDIS_URL": "rediss://cache:6380/1"})
    assert settings.database_url == MYSQL_URL
    assert settings.uses_mysql
    assert settings.redis_url == "rediss://cache:6380/1"


def test_samesite_none_is_accepted_with_secure_cookies() -> None:
    settings = Settings.from_env({"COOKIE_SAMESITE": "None", "COOKIE_SECURE": "yes"})
    assert (settings.cookie_samesite, settings.cookie_secure) == ("none", True)


def test_cors_origins_are_split_trimmed_and_lose_a_trailing_slash() -> None:
    # given a comma-separated list with spaces, an empty item and a trailing slash
    env = {"CORS_ORIGINS": " https://app.example.com/ , ,http://localhost:5173"}
    # when the settings are built
    settings = Settings.from_env(env)
    # then the origins are clean, in order
    assert settings.cors_origins == ("https://app.example.com", "http://localhost:5173")


def test_integers_and_admin_pair_are_parsed() -> None:
    settings = Settings.from_env(
        {
            "PORT": " 9000 ",
            "ACCESS_TOKEN_TTL_SECONDS": "60",
            "WS_CONNECTION_INIT_TIMEOUT_SECONDS": "3",
            "ADMIN_EMAIL": "root@example.com",
            "ADMIN_PASSWORD": "long enough pw",
        }
    )
    assert settings.port == 9000
    assert settings.access_token_ttl_seconds == 60
    assert settings.ws_connection_init_timeout_seconds == 3.0
    assert (settings.admin_email, settings.admin_password) == ("root@example.com", "long enough pw")


def test_env_file_fills_in_and_the_real_environment_wins(tmp_path: Path) -> None:
    # given a .env file setting three values
    env_file = tmp_path / ".env"
    env_file.write_text(f"DATABASE_URL={MYSQL_URL}\nPORT=9001\nJWT_SECRET={SECRET}\n")
    # when the environment sets one of them too
    settings = Settings.from_env({"PORT": "9002"}, env_file=env_file)
    # then the file fills in what is unset and the environment wins where both are set
    assert settings.database_url == MYSQL_URL
    assert settings.jwt_secret == SECRET
    assert settings.jwt_secret_generated is False
    assert settings.port == 9002


def test_invalid_value_in_env_file_is_refused(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("JWT_SECRET=short\n")
    with pytest.raises(SettingsError, match="JWT_SECRET"):
        Settings.from_env({}, env_file=env_file)


def test_missing_env_file_is_ignored(tmp_path: Path) -> None:
    settings = Settings.from_env({}, env_file=tmp_path / "absent.env")
    assert settings.database_url == DEFAULT_DATABASE_URL


def test_slow_client_limits_default_to_bounds_that_fit_thousands_of_sockets() -> None:
    # given an empty environment
    # when the settings are built
    settings = Settings.from_env({})
    # then headers have 10 s, and a worker holds well above the 10,000 sockets measured
    assert settings.request_header_timeout_seconds == 10.0
    assert settings.max_connections_per_worker == 16_384


def test_slow_client_limits_are_parsed() -> None:
    settings = Settings.from_env(
        {"REQUEST_HEADER_TIMEOUT_SECONDS": "2.5", "MAX_CONNECTIONS_PER_WORKER": " 50000 "}
    )
    assert settings.request_header_timeout_seconds == 2.5
    assert settings.max_connections_per_worker == 50_000
