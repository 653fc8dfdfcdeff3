"""The one error type raised by domain code, and its mapping to each interface.

Services raise `DomainError`; the UI shows it as form errors, the API as RFC 9457
problem+json, the CLI as one line on stderr with exit code 2.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

INVALID: Final = "invalid"
NOT_FOUND: Final = "not_found"
FORBIDDEN: Final = "forbidden"
CONFLICT: Final = "conflict"
UNAUTHENTICATED: Final = "unauthenticated"
TOO_LARGE: Final = "too_large"
# Only the API's plumbing answers these (a body it cannot read, a method a path does not
# offer, a fault of ours); no domain code raises them.
BAD_REQUEST: Final = "bad_request"
METHOD_NOT_ALLOWED: Final = "method_not_allowed"
SERVER_ERROR: Final = "server_error"
# Too many attempts from one address or for one login (the throttles).
TOO_MANY_REQUESTS: Final = "too_many_requests"

HTTP_STATUS: Final[Mapping[str, int]] = {
    INVALID: 422,
    NOT_FOUND: 404,
    FORBIDDEN: 403,
    CONFLICT: 409,
    UNAUTHENTICATED: 401,
    TOO_LARGE: 413,
    BAD_REQUEST: 400,
    METHOD_NOT_ALLOWED: 405,
    SERVER_ERROR: 500,
    TOO_MANY_REQUESTS: 429,
}

TITLES: Final[Mapping[str, str]] = {
    INVALID: "The request is not valid",
    NOT_FOUND: "Not found",
    FORBIDDEN: "Not allowed",
    CONFLICT: "Conflict",
    UNAUTHENTICATED: "Authentication required",
    TOO_LARGE: "Too large",
    BAD_REQUEST: "The request cannot be read",
    TOO_MANY_REQUESTS: "Too many requests",
    METHOD_NOT_ALLOWED: "Method not allowed",
    SERVER_ERROR: "Server error",
}


class DomainError(Exception):
    """A refusal with a reason a person can act on: bad input, no right, a conflict."""

    def __init__(
        self,
        message: str,
        *,
        code: str = INVALID,
        errors: Mapping[str, Sequence[str]] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        # Field name -> messages; "__all__" for errors that belong to no single field.
        self.errors: dict[str, list[str]] = {k: list(v) for k, v in (errors or {}).items()}
        # Extension members of the problem+json body (RFC 9457 section 3.2), such as the
        # unmet conditions of a refused lifecycle move.
        self.extra: dict[str, Any] = dict(extra or {})

    @property
    def status(self) -> int:
        return HTTP_STATUS.get(self.code, 400)

    @classmethod
    def field(cls, field: str, message: str) -> DomainError:
        return cls(f"{field}: {message}", errors={field: [message]})

    @classmethod
    def from_validation_error(cls, exc: ValidationError) -> DomainError:
        errors: dict[str, list[str]] = {}
        if hasattr(exc, "error_dict"):
            for field, field_errors in exc.message_dict.items():
                errors[field] = list(field_errors)
        else:
            errors[NON_FIELD_ERRORS] = list(exc.messages)
        return cls(summarise(errors), errors=errors)

    def one_line(self) -> str:
        return self.message


def summarise(errors: Mapping[str, Sequence[str]]) -> str:
    parts = []
    for field, messages in errors.items():
        text = " ".join(messages)
        parts.append(text if field == NON_FIELD_ERRORS else f"{field}: {text}")
    return "; ".join(parts) or "The request is not valid."


__all__ = [
    "BAD_REQUEST",
    "CONFLICT",
    "FORBIDDEN",
    "HTTP_STATUS",
    "INVALID",
    "METHOD_NOT_ALLOWED",
    "NON_FIELD_ERRORS",
    "NOT_FOUND",
    "SERVER_ERROR",
    "TITLES",
    "TOO_LARGE",
    "TOO_MANY_REQUESTS",
    "UNAUTHENTICATED",
    "DomainError",
    "forbidden",
    "not_found",
    "summarise",
]


def not_found(what: str = "object") -> DomainError:
    return DomainError(f"No such {what}.", code=NOT_FOUND)


def forbidden(message: str = "You are not allowed to do this.") -> DomainError:
    return DomainError(message, code=FORBIDDEN)
