"""What the numbers were measured on: cores, memory, versions, load."""

from __future__ import annotations

import os
import platform
import time
from importlib import metadata
from pathlib import Path

from lib import stores

PACKAGES = (
    "strawberry-graphql",
    "graphql-core",
    "starlette",
    "uvicorn",
    "uvloop",
    "httptools",
    "websockets",
    "tortoise-orm",
    "asyncmy",
    "redis",
    "httpx",
)


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    return 0.0


CALIBRATION_LOOPS = 2_000_000


def calibration_ms() -> float:
    """Milliseconds a fixed pure-Python loop takes now, the best of three.

    This machine's speed is not constant: the same loop, on an idle machine,
    took 1.8 s and 2.5 s a minute apart (a shared host). A phase measured
    while it is slow uses ~30% more CPU for the same work, on the server and
    the clients alike, and at 20,000 deliveries/s on two cores that decides
    the latency tail. Each phase records this next to its result.
    """
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for number in range(CALIBRATION_LOOPS):
            total += number
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def describe() -> dict[str, object]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gib": _memory_gib(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": versions,
        **stores.versions(),
    }


def one_line(machine: dict[str, object]) -> str:
    packages = machine["packages"]
    assert isinstance(packages, dict)
    return (
        f"{machine['cores']} cores ({machine['cpu']}), {machine['memory_gib']} GiB RAM, "
        f"Linux {machine['kernel']}, Python {machine['python']}, "
        f"MariaDB {machine['mariadb']}, Redis {machine['redis']}, "
        + ", ".join(f"{name} {version}" for name, version in packages.items())
    )
