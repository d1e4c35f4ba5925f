"""Keyset paging for newest-first listings: an opaque cursor naming the last item shown.

A cursor is base64url of ``<created_at microseconds>:<id>``; the next page starts strictly
after that (created_at, id) pair, so rows added meanwhile never shift or repeat a page.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class BadPage(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def encode_cursor(created_at: datetime, item_id: uuid.UUID) -> str:
    micros = (created_at - EPOCH) // timedelta(microseconds=1)
    raw = f"{micros}:{item_id.hex}".encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        micros, _, hex_id = raw.partition(":")
        return EPOCH + timedelta(microseconds=int(micros)), uuid.UUID(hex=hex_id)
    except (binascii.Error, ValueError, OverflowError):
        raise BadPage("cursor", "cursor is not one this API gave out") from None


def parse_limit(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise BadPage("limit", f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(value)
