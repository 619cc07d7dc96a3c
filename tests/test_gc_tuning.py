"""A serving worker's app factory tunes the garbage collector; apps built in tests do not."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from ticketing import gc_tuning
from ticketing.app import app_from_environment, create_app
from ticketing.settings import Settings


@pytest.fixture
def collector_restored() -> Iterator[None]:
    thresholds = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
        if gc_tuning.PAUSES in gc.callbacks:
            gc.callbacks.remove(gc_tuning.PAUSES)


@pytest.fixture
def serving_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    monkeypatch.setenv("DATABASE_URL", f"sqlite://{tmp_path / 'db.sqlite3'}")
    monkeypatch.setenv("JWT_SECRET", "x" * 48)


@pytest.mark.usefixtures("collector_restored", "serving_environment")
def test_the_worker_factory_freezes_start_up_and_raises_the_first_threshold() -> None:
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)  # CPython's defaults

    app_from_environment()

    assert gc.get_threshold() == gc_tuning.THRESHOLDS
    assert gc.get_freeze_count() > 10_000  # the imports, the schema, the app
    assert gc_tuning.PAUSES in gc.callbacks  # for /diagnostics


@pytest.mark.usefixtures("collector_restored")
def test_create_app_leaves_the_collector_alone(tmp_path: Path) -> None:
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)

    create_app(Settings.from_env({"DATABASE_URL": f"sqlite://{tmp_path / 'db.sqlite3'}"}))

    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0


def test_pauses_are_counted_by_generation_except_the_collections_asked_for() -> None:
    pauses = gc_tuning.Pauses()
    gc.disable()  # only the collections made here
    gc.callbacks.append(pauses)
    try:
        gc.collect(0)
        gc.collect(2)
        pauses.collect_uncounted()
    finally:
        gc.callbacks.remove(pauses)
        gc.enable()

    stats = pauses.stats()
    assert stats["collections"] == [1, 0, 1]
    assert stats["pause_ms"][2] >= stats["longest_ms"][2] > 0
