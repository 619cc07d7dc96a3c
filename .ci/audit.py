"""CI: audit the installed dependencies for known vulnerabilities, with pip-audit.

Run with the project's virtual environment (`.venv/bin/python .ci/audit.py`): it
audits that environment, every installed distribution but the project itself
(installed editable). Exit status 1 when any has a known vulnerability.

pip-audit asks PyPI's JSON API (`/pypi/<name>/<version>/json`) for each one.
Where that data cannot be had (a mirror without the per-version API, no route
to the service) nothing is audited: this says so plainly, and fails only when
PIP_AUDIT_REQUIRED is set, so that a machine without the service still runs
the tests, and never reports "no known vulnerability" for an audit not done.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

TIMEOUT_SECONDS = 600
EDITABLE = "distribution marked as editable"
UNREACHABLE_SIGNS = ("ConnectionError", "NameResolutionError", "Max retries exceeded", "timed out")


def _required() -> bool:
    return os.environ.get("PIP_AUDIT_REQUIRED", "").lower() not in ("", "0", "false", "no")


def _not_audited(reason: str) -> int:
    print(f"ci: pip-audit: NOT AUDITED: {reason}", file=sys.stderr)
    if _required():
        print("ci: pip-audit: PIP_AUDIT_REQUIRED is set: failing", file=sys.stderr)
        return 1
    print("ci: pip-audit: going on without the audit (set PIP_AUDIT_REQUIRED=1 to fail)")
    return 0


def _describe(dependency: dict[str, Any]) -> str:
    return f"{dependency['name']} {dependency.get('version', '?')}"


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
        print(f"ci: pip-audit failed ({run.returncode}):\n{run.stderr}", file=sys.stderr)
        return 1

    dependencies: list[dict[str, Any]] = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason") not in (None, EDITABLE)]
    audited = [d for d in dependencies if "skip_reason" not in d]
    for dependency in vulnerable:
        for vulnerability in dependency["vulns"]:
            fixed = ", ".join(vulnerability.get("fix_versions") or []) or "none yet"
            print(
                f"ci: pip-audit: {_describe(dependency)}: {vulnerability['id']} (fixed in {fixed})",
                file=sys.stderr,
            )
    if vulnerable:
        print(f"ci: pip-audit: {len(vulnerable)} vulnerable package(s): failing", file=sys.stderr)
        return 1
    if not audited:
        example = skipped[0]["skip_reason"] if skipped else "nothing to audit"
        return _not_audited(
            f"no vulnerability data for any of {len(skipped)} packages (e.g. {example})"
        )
    if skipped:
        names = ", ".join(_describe(d) for d in skipped)
        print(f"ci: pip-audit: warning: not audited (no data): {names}", file=sys.stderr)
    print(f"ci: pip-audit: {len(audited)} packages audited, no known vulnerability")
    return 0


if __name__ == "__main__":
    sys.exit(main())
