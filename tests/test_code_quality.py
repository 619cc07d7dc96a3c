"""ruff and mypy --strict run with the tests, so that they cannot drift."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    "command",
    [("ruff", "check", "."), ("ruff", "format", "--check", "."), ("mypy",)],
    ids=["ruff-check", "ruff-format", "mypy-strict"],
)
def test_the_code_passes(command: tuple[str, ...]) -> None:
    result = _run(*command)

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_benchmarks_pass_mypy_strict() -> None:
    # bench/ is not a package of the project: its scripts import `lib` from
    # their own folder, so mypy runs there with that folder on its path.
    bench = ROOT / "bench"
    scripts = sorted(
        str(path.relative_to(bench)) for path in [*bench.glob("*.py"), *bench.glob("lib/*.py")]
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", *scripts],
        cwd=bench,
        env={**os.environ, "MYPYPATH": "."},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
