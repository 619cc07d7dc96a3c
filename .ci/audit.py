"""CI: audit the installed dependencies for known vulnerabilities.

Run with the project's virtual environment (`.venv/bin/python .ci/audit.py`): it
audits that environment, every installed distribution but the project itself
(installed editable). Exit status 1 when any has a known vulnerability.

First pip-audit, which asks PyPI's per-version JSON API
(`/pypi/<name>/<version>/json`) for each one. Where that answers 404 (as on the
project's current machines, for every package) or cannot be reached, pip-audit
skips the package, so each one it skipped falls back to PyPI's *project* JSON
API (`/pypi/<name>/json`). That one describes the project's latest release
only: its `vulnerabilities` are those of `info.version`. So it audits our
package exactly when the installed version is that latest version (the same
version string), and then its advisories, but withdrawn ones, are ours. For any
other installed version it says nothing about ours, and the package is named as
NOT AUDITED, with both versions.

A package not audited is a loud warning, and fails only when PIP_AUDIT_REQUIRED
is set, so that a machine without the service still runs the tests; this never
reports "no known vulnerability" for an audit not done.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any
from urllib.request import Request, urlopen

TIMEOUT_SECONDS = 600
EDITABLE = "distribution marked as editable"
UNREACHABLE_SIGNS = ("ConnectionError", "NameResolutionError", "Max retries exceeded", "timed out")
PROJECT_JSON = "https://pypi.org/pypi/{name}/json"
FETCH_TIMEOUT_SECONDS = 20
FETCH_ATTEMPTS = 3
FETCH_THREADS = 8


def normalize(name: str) -> str:
    """A distribution's name as PEP 503 compares it."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Finding:
    """A known vulnerability of an installed version."""

    package: str
    version: str
    id: str
    aliases: tuple[str, ...] = ()
    fixed_in: tuple[str, ...] = ()


@dataclass
class Verdict:
    """The fallback's verdict: vulnerable packages are also audited."""

    audited: list[str] = field(default_factory=list)
    vulnerable: list[Finding] = field(default_factory=list)
    not_audited: dict[str, str] = field(default_factory=dict)  # name: why


def decide(installed: Mapping[str, str], projects: Mapping[str, dict[str, Any] | str]) -> Verdict:
    """Installed versions + PyPI project JSON documents (or why there is none) → verdict.

    A document's advisories count only where the installed version is the
    document's `info.version`; withdrawn advisories never count. A document
    without a `vulnerabilities` list audits nothing.
    """
    documents = {normalize(name): document for name, document in projects.items()}
    verdict = Verdict()
    for name, version in sorted((normalize(n), v) for n, v in installed.items()):
        document = documents.get(name, "no project data from PyPI")
        if isinstance(document, str):
            verdict.not_audited[name] = f"{name} {version}: {document}"
            continue
        latest = (document.get("info") or {}).get("version")
        if version != latest:
            verdict.not_audited[name] = (
                f"{name} {version}: PyPI's data is for its latest version, {latest}, not ours"
            )
            continue
        advisories = document.get("vulnerabilities")
        if not isinstance(advisories, list):  # a mirror without the data: unknown, not clean
            verdict.not_audited[name] = f"{name} {version}: no vulnerability data in PyPI's answer"
            continue
        verdict.audited.append(name)
        for advisory in advisories:
            if not advisory.get("withdrawn"):
                verdict.vulnerable.append(
                    Finding(
                        name,
                        version,
                        str(advisory.get("id")),
                        tuple(advisory.get("aliases") or ()),
                        tuple(advisory.get("fixed_in") or ()),
                    )
                )
    return verdict


def fetch_project(name: str) -> dict[str, Any] | str:
    """PyPI's project JSON document for `name`, or why there is none."""
    url = PROJECT_JSON.format(name=urllib.parse.quote(name))
    # S310 (the URL's scheme): a fixed https URL on PyPI.
    request = Request(url, headers={"User-Agent": "ticketing-ci-audit"})  # noqa: S310
    error = ""
    for attempt in range(FETCH_ATTEMPTS):
        if attempt:
            time.sleep(attempt)
        try:
            with urlopen(request, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310
                document = json.load(response)
        except urllib.error.HTTPError as exc:
            error = f"PyPI answers HTTP {exc.code}"
            if exc.code < 500 and exc.code != 429:
                return error
        except (OSError, ValueError) as exc:  # URLError and timeouts; a broken JSON body
            error = f"PyPI cannot be read: {exc}"
        else:
            return document if isinstance(document, dict) else "PyPI's answer is not a JSON object"
    return f"{error} ({FETCH_ATTEMPTS} attempts)"


def installed_versions() -> dict[str, str]:
    """This interpreter's installed distributions (the first on sys.path wins, as for import)."""
    versions: dict[str, str] = {}
    for distribution in metadata.distributions():
        name = distribution.metadata["Name"]
        if name:
            versions.setdefault(normalize(name), distribution.version)
    return versions


def _say(message: str, *, loud: bool = False) -> None:
    print(f"ci: audit: {message}", file=sys.stderr if loud else sys.stdout, flush=True)


def _required() -> bool:
    return os.environ.get("PIP_AUDIT_REQUIRED", "").lower() not in ("", "0", "false", "no")


def _not_audited(reason: str) -> int:
    _say(f"NOT AUDITED: {reason}", loud=True)
    if _required():
        _say("PIP_AUDIT_REQUIRED is set: failing", loud=True)
        return 1
    _say("going on without the audit (set PIP_AUDIT_REQUIRED=1 to fail)")
    return 0


def main() -> int:
    command = [
        *(sys.executable, "-m", "pip_audit"),
        *("--skip-editable", "--progress-spinner", "off", "--format", "json", "--desc", "off"),
    ]
    run = subprocess.run(  # noqa: S603  (a fixed command: this interpreter, pip-audit)
        command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
    )
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        tail = run.stderr.strip().splitlines()[-1:] or ["(no output)"]
        if any(sign in run.stderr for sign in UNREACHABLE_SIGNS):
            return _not_audited(f"the vulnerability service cannot be reached: {tail[0]}")
        _say(f"pip-audit failed ({run.returncode}):\n{run.stderr}", loud=True)
        return 1

    dependencies: list[dict[str, Any]] = report.get("dependencies", [])
    by_pip_audit = [d for d in dependencies if "skip_reason" not in d]
    vulnerable = {normalize(d["name"]) for d in by_pip_audit if d.get("vulns")}
    for dependency in by_pip_audit:
        for vulnerability in dependency.get("vulns") or []:
            fixed = ", ".join(vulnerability.get("fix_versions") or []) or "none yet"
            _say(
                f"{dependency['name']} {dependency.get('version', '?')}: "
                f"{vulnerability['id']} (fixed in {fixed}) [pip-audit]",
                loud=True,
            )

    skipped = [
        normalize(d["name"]) for d in dependencies if d.get("skip_reason") not in (None, EDITABLE)
    ]
    versions = installed_versions()
    installed = {name: versions[name] for name in skipped if name in versions}
    with ThreadPoolExecutor(FETCH_THREADS) as pool:
        projects = dict(zip(installed, pool.map(fetch_project, installed), strict=True))
    verdict = decide(installed, projects)
    for name in skipped:
        if name not in versions:
            verdict.not_audited[name] = f"{name}: not found among the installed distributions"
    for finding in verdict.vulnerable:
        vulnerable.add(finding.package)
        aliases = ", ".join(finding.aliases) or "none"
        fixed = ", ".join(finding.fixed_in) or "none yet"
        _say(
            f"{finding.package} {finding.version}: {finding.id} (aliases {aliases}; "
            f"fixed in {fixed}) [PyPI project JSON]",
            loud=True,
        )
    for reason in verdict.not_audited.values():
        _say(f"NOT AUDITED: {reason}", loud=True)

    audited = len(by_pip_audit) + len(verdict.audited)
    missing = len(verdict.not_audited)
    counts = (
        f"{audited} packages audited ({len(by_pip_audit)} by pip-audit, "
        f"{len(verdict.audited)} by PyPI's project JSON, installed == latest), "
        f"{missing} NOT AUDITED"
    )
    if vulnerable:
        _say(f"{counts}: {len(vulnerable)} with a known vulnerability: failing", loud=True)
        return 1
    if missing:
        if _required():
            _say(f"{counts}: PIP_AUDIT_REQUIRED is set: failing", loud=True)
            return 1
        _say(
            f"WARNING: {missing} packages NOT AUDITED (named above), their vulnerabilities",
            loud=True,
        )
        _say("WARNING: unknown; going on (set PIP_AUDIT_REQUIRED=1 to fail)", loud=True)
        _say(f"{counts}: no known vulnerability in the {audited} audited; the others unknown")
        return 0
    _say(f"{counts}: no known vulnerability")
    return 0


if __name__ == "__main__":
    sys.exit(main())
