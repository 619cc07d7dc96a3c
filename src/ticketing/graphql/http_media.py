"""Media types of GraphQL over HTTP (graphql.github.io/graphql-over-http/draft).

Pure functions: which media type to answer in, whether a request body is JSON,
and whether a result is a request error (nothing was executed).
"""

from __future__ import annotations

from strawberry.types import ExecutionResult

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
_EXACT, _SUBTYPE_WILDCARD, _WILDCARD = 2, 1, 0


def response_media_type(accept: str | None) -> str | None:
    """The media type to answer in; None when the client accepts neither (406).

    The client's preference (q) decides. Between equals, the new type wins when
    the client names it, and the legacy application/json wins for `*/*`. Without
    an Accept header the draft asks (since 2025) for application/graphql-response+json.
    """
    if accept is None or not accept.strip():
        return GRAPHQL_RESPONSE_JSON
    ranges = [_media_range(part) for part in accept.split(",") if part.strip()]
    graphql_q, graphql_match = _quality(GRAPHQL_RESPONSE_JSON, ranges)
    json_q, _ = _quality(JSON, ranges)
    if graphql_q <= 0 and json_q <= 0:
        return None
    if graphql_q != json_q:
        return GRAPHQL_RESPONSE_JSON if graphql_q > json_q else JSON
    return GRAPHQL_RESPONSE_JSON if graphql_match == _EXACT else JSON


def content_type_of(media_type: str) -> str:
    """The Content-Type of a response in `media_type` (the legacy type as strawberry sends it)."""
    return f"{media_type}; charset=utf-8" if media_type == GRAPHQL_RESPONSE_JSON else media_type


def is_json(content_type: str | None) -> bool:
    """application/json, in UTF-8 (said or assumed): the one request body type we take."""
    if content_type is None:
        return False
    media_type, *parameters = (part.strip().lower() for part in content_type.split(";"))
    if media_type != JSON:
        return False
    charsets = [p.split("=", 1)[1].strip('"') for p in parameters if p.startswith("charset=")]
    return all(charset in ("utf-8", "utf8") for charset in charsets)


def is_request_error(result: ExecutionResult) -> bool:
    """Refused before execution: the document did not parse or validate, a limit
    refused it, or a variable could not be coerced. Such errors have no path and
    ErrorCodes gave them BAD_USER_INPUT; an executed operation has `data`, or
    errors at a path."""
    errors = result.errors or []
    return (
        result.data is None
        and bool(errors)
        and all(
            error.path is None and (error.extensions or {}).get("code") == "BAD_USER_INPUT"
            for error in errors
        )
    )


def _media_range(part: str) -> tuple[str, float]:
    media_type, *parameters = (p.strip().lower() for p in part.split(";"))
    quality = 1.0
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.0
    return media_type, quality


def _quality(media_type: str, ranges: list[tuple[str, float]]) -> tuple[float, int]:
    """The q of the most specific range that matches `media_type`, and how it matched."""
    main_type = media_type.split("/")[0]
    best: tuple[int, float] | None = None
    for candidate, quality in ranges:
        if candidate == media_type:
            match = _EXACT
        elif candidate == f"{main_type}/*":
            match = _SUBTYPE_WILDCARD
        elif candidate == "*/*":
            match = _WILDCARD
        else:
            continue
        if best is None or match > best[0]:
            best = (match, quality)
    return (0.0, _WILDCARD) if best is None else (best[1], best[0])
