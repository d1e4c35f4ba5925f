"""The accounts API over real HTTP on every database: sign-up, sign-in, refresh, sign-out, me."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
from sqlalchemy import select
from tests.integration.mediahub.conftest import MakeHub, new_user

from openfront.mediahub.database import Database
from openfront.mediahub.jwt import b64url_decode
from openfront.mediahub.models import RefreshToken, User


async def signup(client: httpx.AsyncClient, url: str, user: dict[str, str]) -> httpx.Response:
    return await client.post(f"{url}/auth/signup", json=user)


async def signin(client: httpx.AsyncClient, url: str, **body: str) -> httpx.Response:
    return await client.post(f"{url}/auth/signin", json=body)


def bearer(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def test_signup_signin_me_refresh_signout(
    database: str, db: Database, make_hub: MakeHub, client: httpx.AsyncClient
) -> None:
    hub = await make_hub(database)
    user = new_user()
    made = await signup(client, hub.url, user)
    assert made.status_code == 201, made.text
    body = made.json()
    assert set(body) == {"id", "username", "email", "created_at"}
    assert body["username"] == user["username"]
    assert body["email"] == user["email"].replace("Example.COM", "example.com")
    assert made.headers["cache-control"] == "no-store"
    uuid.UUID(body["id"])

    with db.read() as s:
        row = s.scalars(select(User).where(User.username == user["username"])).one()
        assert (
            row.password_hash.startswith("$argon2id$") and user["password"] not in row.password_hash
        )

    tokens = await signin(client, hub.url, username=user["username"], password=user["password"])
    assert tokens.status_code == 200, tokens.text
    t = tokens.json()
    assert t["token_type"] == "Bearer" and t["expires_in"] == 900
    assert t["user"] == body and "password_hash" not in json.dumps(t)
    claims = json.loads(b64url_decode(t["access_token"].split(".")[1]))
    assert claims["sub"] == body["id"] and claims["exp"] - claims["iat"] == 900

    me = await client.get(f"{hub.url}/auth/me", headers=bearer(t))
    assert me.status_code == 200 and me.json() == body

    fresh = await client.post(f"{hub.url}/auth/refresh", json={"refresh_token": t["refresh_token"]})
    assert fresh.status_code == 200, fresh.text
    f = fresh.json()
    assert f["refresh_token"] != t["refresh_token"] and f["user"] == body
    assert (await client.get(f"{hub.url}/auth/me", headers=bearer(f))).status_code == 200

    out = await client.post(f"{hub.url}/auth/signout", json={"refresh_token": f["refresh_token"]})
    assert out.status_code == 204
    again = await client.post(f"{hub.url}/auth/refresh", json={"refresh_token": f["refresh_token"]})
    assert again.status_code == 401
    assert again.json() == {
        "error": "invalid_refresh_token",
        "message": "this session was signed out: sign in again",
    }


async def test_signin_by_email_any_case(
    database: str, db: Database, make_hub: MakeHub, client: httpx.AsyncClient
) -> None:
    hub = await make_hub(database)
    user = new_user()
    assert (await signup(client, hub.url, user)).status_code == 201
    for login in ({"email": user["email"].upper()}, {"username": user["email"].lower()}):
        r = await signin(client, hub.url, **login, password=user["password"])
        assert r.status_code == 200, (login, r.text)
    upper = await signin(
        client, hub.url, username=user["username"].upper(), password=user["password"]
    )
    assert upper.status_code == 200


async def test_wrong_passwords_and_unknown_accounts_look_the_same(
    database: str, db: Database, make_hub: MakeHub, client: httpx.AsyncClient
) -> None:
    hub = await make_hub(database)
    user = new_user()
    await signup(client, hub.url, user)
    wrong = await signin(client, hub.url, username=user["username"], password="not it at all")
    nobody = await signin(client, hub.url, username="nobody-here", password=user["password"])
    bad_name = await signin(client, hub.url, username="x", password=user["password"])
    for r in (wrong, nobody, bad_name):
        assert r.status_code == 401
        assert r.json() == {
            "error": "invalid_credentials",
            "message": "wrong username, email or password",
        }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"username": "SAME"}, "username"),
        ({"email": "same@EXAMPLE.com"}, "email"),
        ({"email": "SAME@example.com"}, "email"),
    ],
)
async def test_duplicates_are_409_naming_the_field(
    database: str,
    db: Database,
    make_hub: MakeHub,
    client: httpx.AsyncClient,
    change: dict[str, str],
    field: str,
) -> None:
    hub = await make_hub(database)
    first = new_user() | {"username": "same", "email": "same@example.com"}
    assert (await signup(client, hub.url, first)).status_code == 201
    r = await signup(client, hub.url, new_user() | change)
    assert r.status_code == 409
    assert r.json()["error"] == "conflict" and r.json()["field"] == field
    assert r.json()["message"]


async def test_concurrent_signups_of_one_name_make_one_account(
    database: str, db: Database, make_hub: MakeHub, client: httpx.AsyncClient
) -> None:
    hubs = [await make_hub(database), await make_hub(database)]
    users = [new_user() | {"username": "racer"} for _ in range(6)]
    replies = await asyncio.gather(
        *(signup(client, hubs[i % 2].url, u) for i, u in enumerate(users))
    )
    assert sorted(r.status_code for r in replies) == [201] + [409] * 5
    assert {r.json()["field"] for r in replies if r.status_code == 409} == {"username"}
    with db.read() as s:
        assert len(s.scalars(select(User).where(User.username == "racer")).all()) == 1


async def test_reusing_a_rotated_refresh_token_revokes_the_session(
    database: str, db: Database, make_hub: MakeHub, client: httpx.AsyncClient
) -> None:
    hub = await make_hub(database)
    user = new_user()
    await signup(client, hub.url, user)
    t1 = (
        await signin(client, hub.url, username=user["username"], password=user["password"])
    ).json()
    other = (await signin(client, hub.url, email=user["email"], password=user["password"])).json()
    refresh = f"{hub.url}/auth/refresh"
    t2 = (await client.post(refresh, json={"refresh_token": t1["refresh_token"]})).json()

    stolen = await client.post(refresh, json={"refresh_token": t1["refresh_token"]})
    assert stolen.status_code == 401 and "already used" in stolen.json()["message"]
    legit = await client.post(refresh, json={"refresh_token": t2["refresh_token"]})
    assert legit.status_code == 401 and "signed out" in legit.json()["message"]
    # Another sign-in (another family) is untouched.
    assert (await client.post(refresh, json={"refresh_token": other["refresh_token"]})).is_success
    with db.read() as s:
        rows = s.scalars(select(RefreshToken)).all()
        assert all(len(r.token_hash) == 64 for r in rows)
        assert t1["refresh_token"] not in {r.token_hash for r in rows}


async def test_concurrent_refreshes_of_one_token_count_as_reuse(
    database: str, db: Database, make_hub: MakeHub, client: httpx.AsyncClient
) -> None:
    hub = await make_hub(database)
    user = new_user()
    await signup(client, hub.url, user)
    t = (await signin(client, hub.url, username=user["username"], password=user["password"])).json()
    replies = await asyncio.gather(
        *(
            client.post(f"{hub.url}/auth/refresh", json={"refresh_token": t["refresh_token"]})
            for _ in range(3)
        )
    )
    assert sorted(r.status_code for r in replies) == [200, 401, 401]
    winner = next(r.json() for r in replies if r.status_code == 200)
    late = await client.post(
        f"{hub.url}/auth/refresh", json={"refresh_token": winner["refresh_token"]}
    )
    assert late.status_code == 401


async def test_unknown_refresh_tokens_and_signouts(
    database: str, db: Database, make_hub: MakeHub, client: httpx.AsyncClient
) -> None:
    hub = await make_hub(database)
    for token in ("nope", "x" * 1000):
        r = await client.post(f"{hub.url}/auth/refresh", json={"refresh_token": token})
        assert r.status_code == 401 and r.json()["error"] == "invalid_refresh_token"
        out = await client.post(f"{hub.url}/auth/signout", json={"refresh_token": token})
        assert out.status_code == 204


@pytest.mark.parametrize(
    ("headers", "error", "challenge"),
    [
        ({}, "unauthorized", 'Bearer realm="mediahub"'),
        ({"Authorization": "Basic dTpw"}, "unauthorized", 'Bearer realm="mediahub"'),
        ({"Authorization": "Bearer"}, "unauthorized", 'Bearer realm="mediahub"'),
        ({"Authorization": "Bearer abc.def.ghi"}, "invalid_token", 'error="invalid_token"'),
    ],
)
async def test_me_needs_a_valid_bearer_token(
    sqlite_database: str,
    make_hub: MakeHub,
    client: httpx.AsyncClient,
    headers: dict[str, str],
    error: str,
    challenge: str,
) -> None:
    hub = await make_hub(sqlite_database)
    r = await client.get(f"{hub.url}/auth/me", headers=headers)
    assert r.status_code == 401 and r.json()["error"] == error
    assert challenge in r.headers["www-authenticate"]


async def test_a_server_with_another_key_refuses_the_token(
    sqlite_database: str,
    make_hub: MakeHub,
    client: httpx.AsyncClient,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    hub = await make_hub(sqlite_database)
    stranger = await make_hub(sqlite_database, data_dir=tmp_path_factory.mktemp("other"))
    user = new_user()
    await signup(client, hub.url, user)
    t = (await signin(client, hub.url, username=user["username"], password=user["password"])).json()
    r = await client.get(f"{stranger.url}/auth/me", headers=bearer(t))
    assert r.status_code == 401 and r.json()["message"] == "token was signed with another key"


async def test_signin_rehashes_when_argon2_parameters_change(
    database: str, db: Database, make_hub: MakeHub, client: httpx.AsyncClient
) -> None:
    old = await make_hub(database)
    user = new_user()
    await signup(client, old.url, user)
    stronger = await make_hub(database, argon2={"time_cost": 2, "memory_kib": 16, "parallelism": 1})
    r = await signin(client, stronger.url, username=user["username"], password=user["password"])
    assert r.status_code == 200
    with db.read() as s:
        stored = s.scalars(
            select(User.password_hash).where(User.username == user["username"])
        ).one()
    assert stored.startswith("$argon2id$v=19$m=16,t=2,p=1$")
    # The old server still verifies the new hash (parameters travel in the hash).
    r = await signin(client, old.url, username=user["username"], password=user["password"])
    assert r.status_code == 200


async def test_two_regions_share_accounts_and_tokens(
    database: str, db: Database, make_hub: MakeHub, client: httpx.AsyncClient
) -> None:
    seoul = await make_hub(database, region="ap-northeast-2")
    sao_paulo = await make_hub(database, region="sa-east-1")
    assert (await client.get(f"{seoul.url}/healthz")).json()["language"] == "ko"
    assert (await client.get(f"{sao_paulo.url}/healthz")).json()["language"] == "en"

    user = new_user()
    made = await signup(client, seoul.url, user)
    assert made.status_code == 201
    r = await signin(client, sao_paulo.url, username=user["username"], password=user["password"])
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["user"] == made.json()
    claims = json.loads(b64url_decode(t["access_token"].split(".")[1]))
    assert claims["region"] == "sa-east-1"
    assert (await client.get(f"{seoul.url}/auth/me", headers=bearer(t))).json() == made.json()
    # A refresh token from São Paulo rotates in Seoul.
    r2 = await client.post(f"{seoul.url}/auth/refresh", json={"refresh_token": t["refresh_token"]})
    assert r2.status_code == 200
    dup = await signup(client, sao_paulo.url, new_user() | {"username": user["username"]})
    assert dup.status_code == 409 and dup.json()["field"] == "username"
