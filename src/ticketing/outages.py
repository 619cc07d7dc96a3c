"""Which failures mean that a backing service (the database, Redis) cannot be reached now.

A request that fails for such a reason is still INTERNAL_SERVER_ERROR (the
contract has no other code for it), but with a message that tells the client
it may simply try again: nothing is wrong with what it sent.
"""

from __future__ import annotations

from asyncmy.errors import InterfaceError as MySQLInterfaceError
from asyncmy.errors import OperationalError as MySQLOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

UNAVAILABLE_MESSAGE = "A backing service is unavailable; try again shortly."

# MySQL/MariaDB client and server error numbers that mean "no usable connection":
# too many connections, shutdown in progress, connection killed, can't connect
# (socket, TCP), server has gone away, lost connection (during a query, at
# handshake), and the server's idle-client timeout.
MYSQL_CONNECTION_ERRORS = frozenset({1040, 1053, 1927, 2002, 2003, 2006, 2013, 2055, 4031})
# Causes and contexts to follow: Tortoise wraps the driver's error in its own.
MAX_CHAIN = 10


def _is_outage_itself(error: BaseException) -> bool:
    # tortoise.exceptions.DBConnectionError is a ConnectionError too.
    if isinstance(error, RedisConnectionError | RedisTimeoutError | ConnectionError):
        return True
    if isinstance(error, MySQLInterfaceError):
        return True  # asyncmy: the connection is closed
    if isinstance(error, MySQLOperationalError):
        return bool(error.args) and error.args[0] in MYSQL_CONNECTION_ERRORS
    return False


def is_outage(error: BaseException | None) -> bool:
    """True if `error`, or an error it wraps, is a lost or refused backing-service connection."""
    for _ in range(MAX_CHAIN):
        if error is None:
            return False
        if _is_outage_itself(error):
            return True
        wrapped = [arg for arg in error.args if isinstance(arg, BaseException)]
        error = error.__cause__ or error.__context__ or (wrapped[0] if wrapped else None)
    return False
