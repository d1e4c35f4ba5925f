"""Bad requests get the right status and a JSON body naming the field; nothing crashes or hangs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from tests.integration.mediahub.conftest import MakeHub, new_user

from openfront.mediahub.server import RunningMediaHub

LIMIT = 4096


@pytest.fixture
async def hub(sqlite_database: str, make_hub: MakeHub) -> RunningMediaHub:
    return await make_hub(sqlite_database, max_body_bytes=LIMIT)


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        (b"{", 400, {"error": "malformed_json"}),
        (
            b"[1, 2]",
            400,
            {"error": "malformed_json", "message": "the body must be a JSON object {…}"},
        ),
        (b"\xff\xfe\x00", 400, {"error": "malformed_json"}),
        (b"[" * 1500 + b"]" * 1500, 400, {"error": "malformed_json"}),
        (b"", 400, {"error": "malformed_json"}),
        (b"{}", 400, {"error": "missing_field", "field": "username"}),
        (
            b'{"username": "alice", "password": "correct horse battery"}',
            400,
            {"error": "missing_field", "field": "email", "message": "email is required"},
        ),
        (
            b'{"username": "alice", "email": null, "password": "x"}',
            400,
            {"error": "missing_field", "field": "email"},
        ),
        (
            b'{"username": 5, "email": "a@example.com", "password": "x"}',
            400,
            {"error": "wrong_type", "field": "username", "message": "username must be a string"},
        ),
        (
            b'{"username": "alice", "email": "a@example.com", "password": ["x"]}',
            400,
            {"error": "wrong_type", "field": "password"},
        ),
        (
            b'{"username": "a", "email": "a@example.com", "password": "correct horse battery"}',
            400,
            {"error": "invalid_field", "field": "username"},
        ),
        (
            b'{"username": "alice", "email": "nope", "password": "correct horse battery"}',
            400,
            {"error": "invalid_field", "field": "email"},
        ),
    ],
)
async def test_signup_bodies(
    hub: RunningMediaHub,
    client: httpx.AsyncClient,
    body: bytes,
    status: int,
    expected: dict[str, str],
) -> None:
    r = await client.post(
        f"{hub.url}/auth/signup", content=body, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == status, r.text
    got = r.json()
    assert got.items() >= expected.items() and got["message"]


async def test_password_problems_are_listed(
    hub: RunningMediaHub, client: httpx.AsyncClient
) -> None:
    user = new_user() | {"password": "short"}
    r = await client.post(f"{hub.url}/auth/signup", json=user)
    assert r.status_code == 400
    body = r.json()
    assert body["field"] == "password" and body["error"] == "invalid_field"
    assert body["reasons"] == [
        "password must be at least 10 characters long",
        "password must mix at least 2 kinds of: lower-case letters, upper-case letters, "
        "digits, other characters",
    ]
    assert body["message"] == "; ".join(body["reasons"])


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"password": "x"}, {"error": "missing_field", "field": "username"}),
        ({"username": "a", "email": "a@example.com", "password": "x"}, {"field": "email"}),
        ({"username": "alice"}, {"error": "missing_field", "field": "password"}),
        ({"username": "alice", "password": 1}, {"error": "wrong_type", "field": "password"}),
        ({"email": True, "password": "x"}, {"error": "wrong_type", "field": "email"}),
    ],
)
async def test_signin_bodies(
    hub: RunningMediaHub,
    client: httpx.AsyncClient,
    body: dict[str, object],
    expected: dict[str, str],
) -> None:
    r = await client.post(f"{hub.url}/auth/signin", json=body)
    assert r.status_code == 400 and r.json().items() >= expected.items()


@pytest.mark.parametrize("path", ["/auth/refresh", "/auth/signout"])
async def test_refresh_and_signout_need_the_token(
    hub: RunningMediaHub, client: httpx.AsyncClient, path: str
) -> None:
    r = await client.post(f"{hub.url}{path}", json={})
    assert r.status_code == 400
    assert r.json() == {
        "error": "missing_field",
        "field": "refresh_token",
        "message": "refresh_token is required",
    }


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_json_is_required(
    hub: RunningMediaHub, client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    r = await client.post(f"{hub.url}/auth/signin", content=b'{"username": "a"}', headers=headers)
    assert r.status_code == 415 and r.json()["error"] == "unsupported_media_type"


async def test_oversize_bodies_are_413(hub: RunningMediaHub, client: httpx.AsyncClient) -> None:
    big = b'{"username": "' + b"a" * LIMIT + b'"}'
    r = await client.post(
        f"{hub.url}/auth/signup", content=big, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413
    assert r.json() == {
        "error": "payload_too_large",
        "message": f"the request body is larger than {LIMIT} bytes",
    }

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked
        for _ in range(8):
            yield b" " * 1024

    r = await client.post(
        f"{hub.url}/auth/signup", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413 and r.json()["error"] == "payload_too_large"
    # The server is still fine afterwards.
    assert (await client.get(f"{hub.url}/healthz")).status_code == 200


async def test_unknown_paths_and_methods(hub: RunningMediaHub, client: httpx.AsyncClient) -> None:
    r = await client.get(f"{hub.url}/auth/no-such-route")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    r = await client.get(f"{hub.url}/auth/signup")
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"
    assert r.headers["allow"] == "POST"
