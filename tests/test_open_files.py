"""make_room_for: the limit on open files is raised for the connection cap, up to the hard limit.

Each case runs in its own process, which starts from a given soft limit.
"""

from __future__ import annotations

import resource
import subprocess
import sys

import pytest

from ticketing.open_files import OWN_FILES

HARD = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
FINITE_HARD = HARD != resource.RLIM_INFINITY
needs_room = pytest.mark.skipif(
    FINITE_HARD and HARD < 4096, reason="the hard limit on open files is below 4,096 here"
)


def make_room_from(soft: int, connections: int) -> tuple[int, int]:
    """(connections that fit, soft limit after) in a process whose soft limit was `soft`."""
    code = (
        "import resource\n"
        "from ticketing.open_files import make_room_for\n"
        "hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]\n"
        f"resource.setrlimit(resource.RLIMIT_NOFILE, ({soft}, hard))\n"
        f"room = make_room_for({connections})\n"
        "print(room, resource.getrlimit(resource.RLIMIT_NOFILE)[0])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    room, soft_after = done.stdout.split()
    return int(room), int(soft_after)


@needs_room
def test_a_low_soft_limit_is_raised_to_fit_the_connections() -> None:
    assert make_room_from(soft=1024, connections=2000) == (2000, 2000 + OWN_FILES)


@needs_room
def test_a_soft_limit_with_room_enough_is_left_alone() -> None:
    assert make_room_from(soft=4096, connections=100) == (100, 4096)


@pytest.mark.skipif(not FINITE_HARD, reason="no hard limit on open files here")
def test_beyond_the_hard_limit_it_says_how_many_connections_fit() -> None:
    assert make_room_from(soft=1024, connections=HARD * 2) == (HARD - OWN_FILES, HARD)
