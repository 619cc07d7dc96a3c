"""The README's two commands come first, and CI runs exactly the test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```(?:sh|bash|console)\n(.*?)\n```", text, flags=re.DOTALL)


def test_the_readme_starts_with_the_serve_and_the_test_command() -> None:
    serve, test = _readme_commands()[:2]

    assert serve.strip().endswith("ticketing serve")
    assert "pytest" in test


def test_ci_runs_exactly_the_readme_test_command() -> None:
    test_command = _readme_commands()[1].strip()
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]

    assert test_command in ci_lines
