"""The committed aerich migrations build, on MariaDB, exactly the schema the models describe."""

from __future__ import annotations

import difflib
import importlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tortoise.models import Model

from tests.support.client import LOG_IN, PASSWORD, GraphQLClient, log_in
from tests.support.server import Server, run_cli
from tests.support.services import MariaDB, fetch
from ticketing.auth.passwords import hash_password
from ticketing.configuration.models import DEFAULT_CATEGORIES, SINGLETON_ID, SystemConfiguration
from ticketing.db import MODEL_MODULES
from ticketing.migrate import migrations_location
from ticketing.users.emails import email_key

pytestmark = pytest.mark.services

APPLIED = re.compile(r"ticketing: (\d+) migration\(s\) applied")

# Tortoise keeps global state, so the models' own schema is built in a child process.
GENERATE_SCHEMA = """
import asyncio, sys
from tortoise import Tortoise
from ticketing.db import tortoise_config
async def main():
    await Tortoise.init(config=tortoise_config(sys.argv[1]))
    try:
        await Tortoise.generate_schemas(safe=False)
    finally:
        await Tortoise.close_connections()
asyncio.run(main())
"""

# What `aerich migrate` would write next: nothing, when every model change has its migration.
PENDING_MIGRATION = """
import asyncio, sys
from pathlib import Path
from aerich import Command
from tortoise import Tortoise
from ticketing.db import tortoise_config
async def main():
    location = Path(sys.argv[2])
    command = Command(tortoise_config=tortoise_config(sys.argv[1]), location=str(location))
    await command.init(offline=True)
    try:
        name = await command.migrate(name="pending", no_input=True, offline=True)
    finally:
        await Tortoise.close_connections()
    if name:
        print((location / "models" / name).read_text())
        sys.exit(3)
asyncio.run(main())
"""

# Applies the migrations found in a folder (argv[2]): to stop a database at an older release.
UPGRADE = """
import asyncio, sys
from aerich import Command
from tortoise import Tortoise
from ticketing.db import tortoise_config
async def main():
    command = Command(tortoise_config=tortoise_config(sys.argv[1]), location=sys.argv[2])
    await command.init()
    try:
        await command.upgrade(run_in_transaction=True)
    finally:
        await Tortoise.close_connections()
asyncio.run(main())
"""

TABLES = """
SELECT TABLE_NAME, TABLE_COLLATION FROM information_schema.TABLES
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME <> 'aerich'
"""
COLUMNS = """
SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA,
       CHARACTER_SET_NAME, COLLATION_NAME
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME <> 'aerich'
"""
INDEXES = """
SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX)
FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME <> 'aerich'
GROUP BY TABLE_NAME, INDEX_NAME, NON_UNIQUE
"""
FOREIGN_KEYS = """
SELECT k.TABLE_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME,
       r.DELETE_RULE, r.UPDATE_RULE
FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r
  USING (CONSTRAINT_SCHEMA, CONSTRAINT_NAME, TABLE_NAME)
WHERE k.TABLE_SCHEMA = DATABASE() AND k.TABLE_NAME <> 'aerich'
"""
CHECKS = """
SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME <> 'aerich'
"""
CONFIGURATION_ROWS = """
SELECT id, registration_open, max_open_tickets_per_user, max_message_length,
       ticket_categories, version, updated_by_id FROM configuration
"""


async def schema_snapshot(url: str) -> list[str]:
    """The schema as sorted lines, so that two schemas compare with a readable diff."""
    lines = [f"table {t} collation={collation}" for t, collation in await fetch(url, TABLES)]
    lines += [
        f"column {t}.{c} {kind} nullable={nullable} default={default} extra={extra!r} "
        f"charset={charset} collation={collation}"
        for t, c, kind, nullable, default, extra, charset, collation in await fetch(url, COLUMNS)
    ]
    for table, index, non_unique, columns in await fetch(url, INDEXES):
        # Unique indexes compare by their columns only: MariaDB names an inline UNIQUE
        # after its column, while aerich's ALTER names it uid_<table>_<column>_<hash>.
        label = f"index {table}.{index}" if non_unique else f"unique index {table}"
        if index == "PRIMARY":
            label = f"primary key {table}"
        lines.append(f"{label}({columns})")
    lines += [
        f"foreign key {t}.{c} -> {rt}.{rc} on delete {on_delete} on update {on_update}"
        for t, c, rt, rc, on_delete, on_update in await fetch(url, FOREIGN_KEYS)
    ]
    lines += [f"check {t}.{c}: {clause}" for t, c, clause in await fetch(url, CHECKS)]
    return sorted(lines)


def model_tables() -> set[str]:
    for module in MODEL_MODULES:
        importlib.import_module(module)
    return {m._meta.db_table for m in Model.__subclasses__() if m.__module__ in MODEL_MODULES}


def migration_files() -> list[str]:
    return sorted(p.name for p in (migrations_location() / "models").glob("[0-9]*_*.py"))


def run_python(script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def first_migrate(
    mariadb: MariaDB, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, subprocess.CompletedProcess[str]]:
    """A fresh database, and what `ticketing migrate` printed on it."""
    url = mariadb.create_database("migrated")
    return url, run_cli("migrate", env={"DATABASE_URL": url}, cwd=tmp_path_factory.mktemp("mig"))


@pytest.fixture(scope="module")
def migrated(first_migrate: tuple[str, subprocess.CompletedProcess[str]]) -> str:
    url, result = first_migrate
    assert result.returncode == 0, result.stderr
    return url


@pytest.fixture(scope="module")
def generated(mariadb: MariaDB, tmp_path_factory: pytest.TempPathFactory) -> str:
    url = mariadb.create_database("generated")
    built = run_python(GENERATE_SCHEMA, url, cwd=tmp_path_factory.mktemp("gen"))
    assert built.returncode == 0, built.stderr
    return url


def test_migrate_applies_every_committed_migration_to_a_fresh_database(
    first_migrate: tuple[str, subprocess.CompletedProcess[str]],
) -> None:
    # given a fresh database, when `ticketing migrate` ran on it (the fixture)
    _, result = first_migrate
    # then it succeeded and applied each migration file once
    assert result.returncode == 0, result.stderr
    applied = APPLIED.search(result.stdout)
    assert applied is not None, result.stdout
    files = migration_files()
    assert int(applied.group(1)) == len(files) >= 1, result.stdout
    for name in files:
        assert name in result.stdout


def test_migrate_is_safe_to_run_twice(migrated: str, tmp_path: Path) -> None:
    # given a migrated database
    # when migrate runs again
    again = run_cli("migrate", env={"DATABASE_URL": migrated}, cwd=tmp_path)
    # then it succeeds and applies nothing
    assert again.returncode == 0, again.stderr
    assert "ticketing: 0 migration(s) applied" in again.stdout


async def test_migrated_schema_matches_the_models(migrated: str, generated: str) -> None:
    # given one database built by the migrations and one built from the models
    # when both schemas are read from information_schema
    from_migrations = await schema_snapshot(migrated)
    from_models = await schema_snapshot(generated)
    # then they hold the models' tables and nothing differs
    tables = {line.split()[1] for line in from_migrations if line.startswith("table ")}
    assert tables == model_tables()
    kinds = {line.split()[0] for line in from_migrations}
    assert kinds >= {"table", "column", "primary", "unique", "index", "foreign", "check"}
    diff = "\n".join(
        difflib.unified_diff(
            from_models, from_migrations, "models (generate_schemas)", "migrations", lineterm=""
        )
    )
    assert from_migrations == from_models, f"the migrations differ from the models:\n{diff}"


def test_models_have_no_change_without_a_migration(migrated: str, tmp_path: Path) -> None:
    # given a copy of the committed migrations
    location = tmp_path / "migrations"
    shutil.copytree(migrations_location(), location)
    # when aerich diffs the models against the last migration's recorded state
    pending = run_python(PENDING_MIGRATION, migrated, str(location), cwd=tmp_path)
    # then it has nothing to write
    assert pending.returncode == 0, (
        f"aerich exited {pending.returncode} (3: the models changed without a migration; "
        f"run `aerich migrate` and commit it):\n{pending.stdout}{pending.stderr}"
    )


async def test_every_table_and_text_column_is_utf8mb4(migrated: str) -> None:
    # given the migrated database
    # when its tables' and text columns' character sets are read
    tables = await fetch(migrated, TABLES)
    text_columns = [(row[0], row[1], row[6]) for row in await fetch(migrated, COLUMNS) if row[6]]
    # then all of them are utf8mb4, so emoji and CJK text survive
    assert len(tables) > 1
    assert text_columns
    assert [f"{t}={c}" for t, c in tables if not c.startswith("utf8mb4_")] == []
    assert [f"{t}.{c}={cs}" for t, c, cs in text_columns if cs != "utf8mb4"] == []


async def test_migrate_seeds_the_configuration_row_with_the_model_defaults(
    migrated: str,
) -> None:
    # given the migrated database
    # when the configuration table is read
    rows = await fetch(migrated, CONFIGURATION_ROWS)
    # then it holds the one row, with the defaults the embedded database seeds too
    assert len(rows) == 1, rows
    row_id, registration_open, max_open, max_length, categories, version, updated_by = rows[0]
    defaults = SystemConfiguration._meta.fields_map
    assert row_id == SINGLETON_ID
    assert bool(registration_open) is defaults["registration_open"].default
    assert max_open == defaults["max_open_tickets_per_user"].default
    assert max_length == defaults["max_message_length"].default
    assert json.loads(categories) == list(DEFAULT_CATEGORIES)
    assert version == defaults["version"].default
    assert updated_by is None


async def test_upgrading_keeps_every_row_and_gives_each_email_its_identity(
    mariadb: MariaDB, tmp_path: Path
) -> None:
    # given a database of the release before email keys (migration 0), on the server's
    # default collation, under which a full-width email and its plain form are two rows
    url = mariadb.create_database("upgrade", collation="utf8mb4_general_ci")
    first_release = tmp_path / "first-release"
    (first_release / "models").mkdir(parents=True)
    shutil.copy(migrations_location() / "models" / migration_files()[0], first_release / "models")
    applied = run_python(UPGRADE, url, str(first_release), cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    password_hash = await hash_password(PASSWORD)
    full_width_abc = "\uff41\uff42\uff43@example.com"
    emails = ["ada@example.com", full_width_abc, "abc@example.com", "josé@example.com"]
    for email in emails:
        await fetch(
            url,
            "INSERT INTO users (email, password_hash, display_name, role, created_at) "
            "VALUES (%s, %s, 'Old', 'USER', NOW(6))",
            email,
            password_hash,
        )
    [(ada_id,)] = await fetch(url, "SELECT id FROM users WHERE email = 'ada@example.com'")
    await fetch(
        url,
        "INSERT INTO tickets (title, description, status, priority, created_at, updated_at, "
        "owner_id) VALUES ('Old ticket', 'kept', 'OPEN', 'NORMAL', NOW(6), NOW(6), %s)",
        ada_id,
    )
    await fetch(
        url,
        "INSERT INTO messages (body, created_at, author_id, ticket_id) "
        "SELECT 'old message', NOW(6), owner_id, id FROM tickets",
    )

    # when the committed migrations are applied
    upgraded = run_cli("migrate", env={"DATABASE_URL": url}, cwd=tmp_path)

    # then every row is still there, each email as it was and keyed by its identity
    assert upgraded.returncode == 0, upgraded.stderr
    rows = await fetch(url, "SELECT id, email, email_key FROM users ORDER BY id")
    assert [email for _, email, _ in rows] == emails
    (_, _, ada_key), (wide_id, _, wide_key), (plain_id, _, plain_key), (_, _, jose_key) = rows
    assert ada_key == email_key("ada@example.com")
    assert jose_key == email_key("josé@example.com") != email_key("jose@example.com")
    # the older of the two that are now one identity keeps it; the other is named
    assert wide_key == email_key("abc@example.com")
    assert plain_key == f"duplicate:{wide_id}:{plain_id}"
    assert f"Users {wide_id} and {plain_id}" in upgraded.stderr
    assert await fetch(url, "SELECT title, description FROM tickets") == [("Old ticket", "kept")]
    assert await fetch(url, "SELECT body, author_id FROM messages") == [("old message", ada_id)]

    # and a server on it logs people in by identity
    server = Server({"DATABASE_URL": url}, tmp_path).start()
    try:
        async with GraphQLClient(server.graphql_url) as client:
            ada = await log_in(client, "ADA@example.com")
            abc = await log_in(client, "ABC@example.com")
            jose = await client.execute(
                LOG_IN, {"input": {"email": "jose@example.com", "password": PASSWORD}}
            )
    finally:
        server.stop()
    assert ada["user"]["id"] == str(ada_id)
    assert abc["user"]["id"] == str(wide_id)
    assert jose.codes == ["UNAUTHENTICATED"]
