"""API errors: a status and a JSON body ``{"error", "message", ["field"], …}``, raised anywhere.

``error`` is a stable code for programs; ``message`` a sentence for people; ``field`` names
the request field at fault when there is one.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def body(self) -> dict[str, object]:
        body: dict[str, object] = {"error": self.code}
        if self.field is not None:
            body["field"] = self.field
        body["message"] = self.message
        return body | self.extra

    def response(self) -> web.Response:
        return web.json_response(self.body(), status=self.status, headers=self.headers)


def missing(field: str) -> ApiError:
    return ApiError(400, "missing_field", f"{field} is required", field=field)


def wrong_type(field: str, kind: str) -> ApiError:
    return ApiError(400, "wrong_type", f"{field} must be {kind}", field=field)


def invalid(field: str, message: str, reasons: list[str] | None = None) -> ApiError:
    extra = {"reasons": reasons} if reasons else None
    return ApiError(400, "invalid_field", message, field=field, extra=extra)


def too_large(limit: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"the request body is larger than {limit} bytes")


def unauthorized(code: str, message: str) -> ApiError:
    """401 with the RFC 6750 challenge (``invalid_token`` when a token was given but refused)."""
    challenge = 'Bearer realm="mediahub"'
    if code == "invalid_token":
        challenge += f', error="invalid_token", error_description="{message}"'
    return ApiError(401, code, message, headers={"WWW-Authenticate": challenge})
