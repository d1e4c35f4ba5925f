"""Reading a TLS ClientHello handshake message (RFC 8446 §4.1.2): which versions it offers."""

from __future__ import annotations

TLS1_2, TLS1_3 = 0x0303, 0x0304
_CLIENT_HELLO = 1
_SUPPORTED_VERSIONS = 43


def offered_versions(message: bytes) -> frozenset[int]:
    """Protocol versions a ClientHello offers; empty when the message is not one or is cut.

    `message` is the handshake message with its 4-byte header. Clients that send no
    supported_versions extension (TLS 1.2 and older) offer their legacy_version only.
    """
    if len(message) < 4 or message[0] != _CLIENT_HELLO:
        return frozenset()
    body = message[4 : 4 + int.from_bytes(message[1:4], "big")]
    legacy = int.from_bytes(body[0:2], "big")
    pos = 2 + 32  # legacy_version, random
    for length_bytes in (1, 2, 1):  # legacy_session_id, cipher_suites, compression_methods
        if pos + length_bytes > len(body):
            return frozenset()
        pos += length_bytes + int.from_bytes(body[pos : pos + length_bytes], "big")
    if pos + 2 > len(body):
        return frozenset({legacy}) if pos == len(body) else frozenset()  # no extensions
    end = pos + 2 + int.from_bytes(body[pos : pos + 2], "big")
    if end > len(body):
        return frozenset()
    pos += 2
    while pos + 4 <= end:
        kind = int.from_bytes(body[pos : pos + 2], "big")
        size = int.from_bytes(body[pos + 2 : pos + 4], "big")
        data = body[pos + 4 : pos + 4 + size]
        if pos + 4 + size > end:
            return frozenset()
        if kind == _SUPPORTED_VERSIONS:
            if not data or data[0] != len(data) - 1 or data[0] % 2:
                return frozenset()
            return frozenset(int.from_bytes(data[i : i + 2], "big") for i in range(1, len(data), 2))
        pos += 4 + size
    return frozenset({legacy})
