"""Room for a worker's connections in the process's limit on open files.

Every connection is a file descriptor. When a process runs out of them, new
connections fail, and so do its own: a database or Redis connection it needs
to answer anyone. MAX_CONNECTIONS_PER_WORKER refuses connections before that
only if the limit leaves room for the cap and for the service's own files.
Many systems start processes with a soft limit of 1,024 and a much higher hard
limit, and expect a program that needs more to raise its soft limit itself
(systemd.exec(5), LimitNOFILE=), as this does.
"""

from __future__ import annotations

import contextlib
import resource

# Descriptors a worker uses besides client connections: the database pool and
# Redis (tens), the listening socket, the event loop, log files, imports.
OWN_FILES = 512


def make_room_for(connections: int) -> int:
    """Raise the soft limit on open files, up to the hard limit, to fit `connections` beside
    the service's own files; return how many connections fit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + OWN_FILES
    if soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        # Some systems refuse it below the hard limit (macOS: OPEN_MAX).
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft == resource.RLIM_INFINITY:
        return connections
    return max(0, min(connections, soft - OWN_FILES))
