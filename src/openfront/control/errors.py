"""ApiError: one CloudFront error code, its message, and the HTTP status the model gives it."""

from __future__ import annotations

from xml.sax.saxutils import escape

from openfront.control.awsmodel import NAMESPACE, error_status
from openfront.errors import OpenFrontError


class ApiError(OpenFrontError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @property
    def status(self) -> int:
        return error_status(self.code)


def error_document(code: str, message: str, request_id: str) -> bytes:
    """CloudFront's error body, the form botocore's RestXMLParser reads."""
    kind = "Receiver" if error_status(code) >= 500 else "Sender"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<ErrorResponse xmlns="{NAMESPACE}"><Error>'
        f"<Type>{kind}</Type><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"</Error><RequestId>{escape(request_id)}</RequestId></ErrorResponse>"
    ).encode()
