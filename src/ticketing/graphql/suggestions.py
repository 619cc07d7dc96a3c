"""graphql-core's hints, such as "Did you mean 'title'?", which map the schema one guess at a time.

graphql-core ends many validation and variable errors with them (unknown
fields, arguments, types, enum values and input fields). Without
introspection they are dropped where every error gets its code
(errors_without_schema.py), for validation and execution, over HTTP and
WebSocket alike.
"""

from __future__ import annotations

import re

# graphql-core's did_you_mean(): " Did you mean 'a', 'b', or 'c'?" (or "the enum value 'a'").
SUGGESTION = re.compile(r" Did you mean [^?]*\?")


def without_suggestion(message: str) -> str:
    return SUGGESTION.sub("", message)
