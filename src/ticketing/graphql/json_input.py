"""JSON from clients, decoded strictly: HTTP bodies, GET parameters and WebSocket messages.

Python's `json.loads` is lenient in ways a client can turn against us:
- bytes that are not UTF-8 raise UnicodeDecodeError, which strawberry does not
  catch (a plain-text 500 and a traceback); bytes in UTF-16 or UTF-32 are
  detected and decoded, though the contract takes UTF-8 only;
- nesting deeper than the interpreter's recursion limit raises RecursionError,
  and an integer of more than 4,300 digits raises ValueError: again uncaught;
- `NaN`, `Infinity` and `-Infinity` are accepted, though they are not JSON;
- an escape of half a surrogate pair (`"\\ud800"`) makes a string that is not
  Unicode text: it fails where it is encoded, deep in a resolver
  (UnicodeEncodeError: an INTERNAL_SERVER_ERROR and a traceback).
Each of these is NotJSON here, which the transports answer as a malformed
request: 400 over HTTP, 4400 on a socket.
"""

from __future__ import annotations

import json
import re


class NotJSON(ValueError):
    """The client's text is not JSON we take. The message says why (a phrase, no period),
    and never quotes the text."""


def decode_json(data: str | bytes) -> object:
    """The JSON value in `data` (bytes must be UTF-8); NotJSON if there is none."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise NotJSON("it is not UTF-8") from None
    try:
        value = json.loads(data, parse_constant=_refuse_constant)
    except NotJSON:
        raise
    except json.JSONDecodeError as error:
        raise NotJSON(f"{error.msg} at character {error.pos}") from None
    except RecursionError:
        raise NotJSON("it is nested too deeply") from None
    except ValueError:  # what else json.loads raises: an integer too long to convert
        raise NotJSON("it holds a number with too many digits") from None
    # Text decoded from UTF-8 has no surrogates: only an escape can make one.
    if _SURROGATE_ESCAPE.search(data) and _holds_a_lone_surrogate(value):
        raise NotJSON("a string in it holds half a surrogate pair")
    return value


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")


def _refuse_constant(name: str) -> object:
    raise NotJSON(f"{name} is not JSON")


def _holds_a_lone_surrogate(value: object) -> bool:
    pending = [value]  # a loop, not recursion: the value may be nested ~1,000 deep
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")  # a pair escaped whole decodes to one character
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
