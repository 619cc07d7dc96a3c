"""JSON from clients, decoded strictly: HTTP bodies, GET parameters and WebSocket messages.

Python's `json.loads` is lenient in ways a client can turn against us:
- bytes that are not UTF-8 raise UnicodeDecodeError, which strawberry does not
  catch (a plain-text 500 and a traceback); bytes in UTF-16 or UTF-32 are
  detected and decoded, though the contract takes UTF-8 only;
- nesting deeper than the interpreter's recursion limit raises RecursionError,
  and an integer of more than 4,300 digits raises ValueError: again uncaught;
- `NaN`, `Infinity` and `-Infinity` are accepted, though they are not JSON.
Each of these is NotJSON here, which the transports answer as a malformed
request: 400 over HTTP, 4400 on a socket.

An escape of half a surrogate pair (`"\\ud800"`) is JSON, but the string it
makes is not Unicode text: it is refused where it is used, as the input it is
(graphql/text_inputs.py: BAD_USER_INPUT naming the field, which a form can show).
"""

from __future__ import annotations

import json


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
    return value


def _refuse_constant(name: str) -> object:
    raise NotJSON(f"{name} is not JSON")
