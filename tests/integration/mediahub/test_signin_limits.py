"""Failed sign-ins: 429 with Retry-After per account and per address, shared by all regions."""

from __future__ import annotations

import httpx
from tests.integration.mediahub.conftest import MakeHub, new_user

from openfront.mediahub.database import Database

LIMITS = {"account_failures": 3, "account_window": 600, "ip_failures": 100, "ip_window": 600}


async def _signin(
    client: httpx.AsyncClient, url: str, password: str, **login: str
) -> httpx.Response:
    return await client.post(f"{url}/auth/signin", json={**login, "password": password})


async def test_an_account_is_locked_across_regions_then_others_still_sign_in(
    database: str, db: Database, make_hub: MakeHub, client: httpx.AsyncClient
) -> None:
    seoul = await make_hub(database, region="ap-northeast-2", signin_limits=LIMITS)
    sao_paulo = await make_hub(database, region="sa-east-1", signin_limits=LIMITS)
    victim, bystander = new_user("v"), new_user("b")
    for user in (victim, bystander):
        assert (await client.post(f"{seoul.url}/auth/signup", json=user)).status_code == 201

    # Three failures, by username and by email, in both regions: one account, one counter.
    for url, login in (
        (seoul.url, {"username": victim["username"]}),
        (sao_paulo.url, {"email": victim["email"]}),
        (seoul.url, {"username": victim["username"].upper()}),
    ):
        assert (await _signin(client, url, "wrong password!", **login)).status_code == 401

    for url in (seoul.url, sao_paulo.url):
        blocked = await _signin(client, url, victim["password"], username=victim["username"])
        assert blocked.status_code == 429, blocked.text
        wait = int(blocked.headers["retry-after"])
        assert 1 <= wait <= 600
        body = blocked.json()
        assert body["error"] == "too_many_attempts" and body["retry_after"] == wait
        assert f"try again in {wait} seconds" in body["message"]

    ok = await _signin(client, sao_paulo.url, bystander["password"], username=bystander["username"])
    assert ok.status_code == 200


async def test_a_right_password_clears_the_account_counter(
    database: str, db: Database, make_hub: MakeHub, client: httpx.AsyncClient
) -> None:
    hub = await make_hub(database, signin_limits=LIMITS)
    user = new_user()
    await client.post(f"{hub.url}/auth/signup", json=user)
    for _ in range(2):
        assert (
            await _signin(client, hub.url, "wrong password!", username=user["username"])
        ).status_code == 401
    assert (await _signin(client, hub.url, user["password"], username=user["username"])).is_success
    for _ in range(2):
        assert (
            await _signin(client, hub.url, "wrong password!", username=user["username"])
        ).status_code == 401
    assert (await _signin(client, hub.url, user["password"], username=user["username"])).is_success


async def test_unknown_names_are_limited_too(
    sqlite_database: str, make_hub: MakeHub, client: httpx.AsyncClient
) -> None:
    hub = await make_hub(sqlite_database, signin_limits=LIMITS)
    codes = [
        (await _signin(client, hub.url, "whatever-123", username="ghost")).status_code
        for _ in range(4)
    ]
    assert codes == [401, 401, 401, 429]


async def test_an_address_is_limited_behind_a_trusted_proxy(
    sqlite_database: str, make_hub: MakeHub, client: httpx.AsyncClient
) -> None:
    limits = LIMITS | {"ip_failures": 2, "trusted_proxies": ["127.0.0.0/8"]}
    hub = await make_hub(sqlite_database, signin_limits=limits)
    user = new_user()
    await client.post(f"{hub.url}/auth/signup", json=user)
    attacker = {"X-Forwarded-For": "198.51.100.66"}

    async def attempt(name: str, password: str, headers: dict[str, str]) -> int:
        body = {"username": name, "password": password}
        r = await client.post(f"{hub.url}/auth/signin", json=body, headers=headers)
        return r.status_code

    assert await attempt("someone-a", "guess-number-1", attacker) == 401
    assert await attempt("someone-b", "guess-number-2", attacker) == 401
    # Spraying other names from the same address is blocked, even with a right password...
    assert await attempt(user["username"], user["password"], attacker) == 429
    # ...a forged X-Forwarded-For from the attacker does not escape (the proxy appends)...
    forged = {"X-Forwarded-For": "203.0.113.1, 198.51.100.66"}
    assert await attempt(user["username"], user["password"], forged) == 429
    # ...and the account's owner elsewhere is not locked out.
    assert (
        await attempt(user["username"], user["password"], {"X-Forwarded-For": "192.0.2.7"}) == 200
    )
