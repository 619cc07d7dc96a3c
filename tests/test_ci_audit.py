"""CI's dependency audit: the fallback on PyPI's project JSON counts only for the latest version.

`.ci/audit.py`'s decision, on made-up project JSON documents (no network).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _load_audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ci_audit", ROOT / ".ci" / "audit.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


audit = _load_audit()


def _project(version: str, *vulnerabilities: dict[str, Any]) -> dict[str, Any]:
    return {"info": {"name": "x", "version": version}, "vulnerabilities": list(vulnerabilities)}


def _advisory(id_: str, *, withdrawn: str | None = None) -> dict[str, Any]:
    return {
        "id": id_,
        "aliases": [f"CVE-{id_}"],
        "fixed_in": ["9.9"],
        "withdrawn": withdrawn,
        "source": "osv",
    }


def test_a_vulnerable_latest_version_is_a_finding() -> None:
    verdict = audit.decide(
        {"oldcrypto": "2.6.1"}, {"oldcrypto": _project("2.6.1", _advisory("A-1"))}
    )

    assert verdict.audited == ["oldcrypto"]
    assert verdict.vulnerable == [
        audit.Finding("oldcrypto", "2.6.1", "A-1", ("CVE-A-1",), ("9.9",))
    ]
    assert verdict.not_audited == {}


def test_a_latest_version_without_advisories_is_audited_and_clean() -> None:
    verdict = audit.decide({"fine": "1.0"}, {"fine": _project("1.0")})

    assert (verdict.audited, verdict.vulnerable, verdict.not_audited) == (["fine"], [], {})


def test_a_withdrawn_advisory_is_ignored() -> None:
    document = _project(
        "1.0", _advisory("OLD-1", withdrawn="2024-01-01T00:00:00Z"), _advisory("B-2")
    )

    verdict = audit.decide({"pkg": "1.0"}, {"pkg": document})

    assert [finding.id for finding in verdict.vulnerable] == ["B-2"]


def test_an_older_than_latest_version_is_not_audited_even_when_the_latest_is_vulnerable() -> None:
    verdict = audit.decide({"pkg": "1.0"}, {"pkg": _project("2.0", _advisory("C-3"))})

    assert verdict.audited == []
    assert verdict.vulnerable == []
    assert "pkg 1.0" in verdict.not_audited["pkg"]
    assert "2.0" in verdict.not_audited["pkg"]


def test_an_older_version_is_not_reported_clean_by_a_clean_latest() -> None:
    verdict = audit.decide({"pkg": "1.0"}, {"pkg": _project("2.0")})

    assert verdict.audited == []
    assert list(verdict.not_audited) == ["pkg"]


def test_names_are_normalized_on_both_sides() -> None:
    installed = {"Boolean.py": "5.0", "typing_extensions": "4.0"}
    projects = {
        "boolean-py": _project("5.0", _advisory("D-4")),
        "Typing-Extensions": _project("4.0"),
    }

    verdict = audit.decide(installed, projects)

    assert verdict.audited == ["boolean-py", "typing-extensions"]
    assert [(finding.package, finding.id) for finding in verdict.vulnerable] == [
        ("boolean-py", "D-4")
    ]
    assert audit.normalize("Foo__Bar.baz-Qux") == "foo-bar-baz-qux"


def test_a_document_without_vulnerability_data_audits_nothing() -> None:
    document = {"info": {"name": "pkg", "version": "1.0"}}  # e.g. a mirror's copy

    verdict = audit.decide({"pkg": "1.0"}, {"pkg": document})

    assert verdict.audited == []
    assert list(verdict.not_audited) == ["pkg"]


def test_a_package_without_a_document_is_not_audited_with_the_reason() -> None:
    verdict = audit.decide({"gone": "1.0", "unasked": "2.0"}, {"gone": "PyPI answers HTTP 404"})

    assert verdict.audited == []
    assert verdict.not_audited == {
        "gone": "gone 1.0: PyPI answers HTTP 404",
        "unasked": "unasked 2.0: no project data from PyPI",
    }
