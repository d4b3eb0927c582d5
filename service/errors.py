"""Domain errors with a status and a code, rendered once in the shape of docs/http-api.md, "Errors"."""

from __future__ import annotations

from typing import Any, Self


class AppError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: list[Any] | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or []
        self.headers = headers or {}

    @classmethod
    def naming(cls, field: str, reason: str) -> Self:
        """The error whose reason is the whole message: ``reason``, with ``field`` named in its details."""
        return cls(reason, [{"field": field, "reason": reason}])

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class BadRequest(AppError):
    status, code = 400, "bad_request"


class MalformedJson(BadRequest):
    code = "malformed_json"


class Unauthorized(AppError):
    status, code = 401, "unauthorized"

    def __init__(self, message: str = "missing or invalid credentials", details: list[Any] | None = None):
        super().__init__(message, details, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(AppError):
    status, code = 403, "forbidden"


class NotFound(AppError):
    status, code = 404, "not_found"


class Conflict(AppError):
    status, code = 409, "conflict"


class PayloadTooLarge(AppError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(AppError):
    status, code = 415, "unsupported_media_type"


class Unprocessable(AppError):
    status, code = 422, "unprocessable"


class ValidationFailed(AppError):
    """422 naming each field and why; the message repeats the first."""

    status, code = 422, "validation_failed"

    def __init__(self, details: list[dict[str, str]]):
        first = details[0] if details else {"field": "?", "reason": "invalid"}
        super().__init__(f"{first['field']}: {first['reason']}", details)


class TooManyRequests(AppError):
    status, code = 429, "rate_limited"

    def __init__(self, retry_after_s: int):
        super().__init__("too many requests; retry later", headers={"Retry-After": str(max(1, retry_after_s))})


class InternalError(AppError):
    status, code = 500, "internal"


class ServiceUnavailable(AppError):
    status, code = 503, "unavailable"

    def __init__(self, message: str = "the database is unavailable; retry shortly", retry_after_s: int = 5):
        super().__init__(message, headers={"Retry-After": str(retry_after_s)})


# The codes of the statuses the framework itself answers (an unknown path, a wrong method …).
STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "rate_limited",
}


class FrameworkError(AppError):
    """An error the framework raised (Starlette's HTTPException), in the same shape as ours."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message, headers=headers)
        self.status = status
        self.code = STATUS_CODES.get(status, "error")
