"""Domain errors. Each carries the contract's `extensions.code`; services raise them."""

from __future__ import annotations


class DomainError(Exception):
    """An expected failure the client may see, with the contract's error code."""

    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def extensions(self) -> dict[str, object]:
        return {"code": self.code}


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"

    def __init__(self, message: str = "Not signed in, or the session has ended.") -> None:
        super().__init__(message)


class Forbidden(DomainError):
    code = "FORBIDDEN"

    def __init__(self, message: str = "You may not do this.") -> None:
        super().__init__(message)


class NotFound(DomainError):
    code = "NOT_FOUND"


class InvalidInput(DomainError):
    """Bad input; `field` names the offending input so a form can show it."""

    code = "BAD_USER_INPUT"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field

    def extensions(self) -> dict[str, object]:
        return {"code": self.code, "field": self.field}


class Conflict(DomainError):
    code = "CONFLICT"


class RateLimited(DomainError):
    code = "RATE_LIMITED"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__("Too many attempts. Try again later.")
        self.retry_after_seconds = retry_after_seconds

    def extensions(self) -> dict[str, object]:
        return {"code": self.code, "retryAfter": self.retry_after_seconds}
