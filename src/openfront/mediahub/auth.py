"""The seed's ``user-auth`` function: sign-up, sign-in, refresh, sign-out, and who is calling.

The rules live in pure modules (names, password_rules, jwt, ratelimit, clientip); this class
wires them to the database and the hasher, each on its own thread pool so neither blocks the
event loop and argon2's memory use stays bounded by ``argon2.threads``.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import secrets
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

from openfront.config.mediahub import MediaHubConfig
from openfront.mediahub import errors, jwt
from openfront.mediahub.accounts import Account, AccountStore, Conflict, Refused, Rotated
from openfront.mediahub.clientip import client_address, parse_networks, rate_key
from openfront.mediahub.database import Database
from openfront.mediahub.hashing import Argon2Params, Hasher
from openfront.mediahub.names import InvalidName, normalise_email, normalise_username
from openfront.mediahub.password_rules import PasswordRules, password_problems
from openfront.mediahub.ratelimit import Blocked, Limit, decide, oldest_needed, retry_after_header

P = ParamSpec("P")
T = TypeVar("T")
DB_THREADS = 10  # the engine's pool (5 + 5 overflow): more threads would only wait for it
MAX_REFRESH_TOKEN_CHARS = 256
_REFUSED = {
    "unknown": "the refresh token is not known: sign in again",
    "expired": "the refresh token has expired: sign in again",
    "revoked": "this session was signed out: sign in again",
    "reused": "the refresh token was already used, so the session was revoked: sign in again",
}


def user_json(account: Account) -> dict[str, str]:
    return {
        "id": str(account.id),
        "username": account.username,
        "email": account.email,
        "created_at": account.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class AuthService:
    def __init__(
        self,
        cfg: MediaHubConfig,
        db: Database,
        key: bytes,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cfg = cfg
        self.store = AccountStore(db, cfg.region)
        self.key = key
        self.clock = clock
        self.rules = PasswordRules(
            cfg.passwords.min_length, cfg.passwords.max_length, cfg.passwords.min_classes
        )
        lim = cfg.signin_limits
        self.account_limit = Limit(lim.account_failures, lim.account_window)
        self.ip_limit = Limit(lim.ip_failures, lim.ip_window)
        self.trusted = parse_networks(lim.trusted_proxies)
        self._db_pool = ThreadPoolExecutor(DB_THREADS, thread_name_prefix="mediahub-db")
        self._hash_pool = ThreadPoolExecutor(cfg.argon2.threads, thread_name_prefix="mediahub-hash")
        self._hasher: Hasher | None = None

    async def start(self) -> None:
        a = self.cfg.argon2
        params = Argon2Params(a.time_cost, a.memory_kib, a.parallelism)
        self._hasher = await self._hashing(Hasher, params)

    async def close(self) -> None:
        for pool in (self._db_pool, self._hash_pool):
            await asyncio.to_thread(pool.shutdown, True)

    @property
    def hasher(self) -> Hasher:
        assert self._hasher is not None, "AuthService.start() was not awaited"
        return self._hasher

    async def _db(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._db_pool, functools.partial(fn, *args, **kwargs))

    async def _hashing(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._hash_pool, functools.partial(fn, *args, **kwargs))

    def _now(self) -> tuple[float, datetime]:
        now = self.clock()
        return now, datetime.fromtimestamp(now, UTC)

    # -- sign-up ---------------------------------------------------------------------------

    async def signup(self, username: str, email: str, password: str) -> Account:
        try:
            name = normalise_username(username)
        except InvalidName as exc:
            raise errors.invalid("username", str(exc)) from None
        try:
            address = normalise_email(email)
        except InvalidName as exc:
            raise errors.invalid("email", str(exc)) from None
        problems = password_problems(
            password, username=name, email=address.address, rules=self.rules
        )
        if problems:
            raise errors.invalid("password", "; ".join(problems), problems)
        # Checked before hashing too, so a taken name costs no argon2 run.
        if (field := await self._db(self.store.taken, name, address)) is not None:
            raise _conflict(field)
        password_hash = await self._hashing(self.hasher.hash, password)
        try:
            return await self._db(self.store.create, name, address, password_hash, self._now()[1])
        except Conflict as exc:
            raise _conflict(exc.field) from None

    # -- sign-in ---------------------------------------------------------------------------

    async def signin(
        self, login: str, password: str, peer: str | None, forwarded_for: Sequence[str]
    ) -> dict[str, Any]:
        """Tokens for a right password; 401 for a wrong one, 429 after too many wrong ones."""
        now, now_dt = self._now()
        account = await self._lookup(login)
        account_key = f"user:{account.id}" if account else f"name:{_digest(login.strip().lower())}"
        ip_key = rate_key(client_address(peer, forwarded_for, self.trusted))
        limits = {account_key: self.account_limit, ip_key: self.ip_limit}
        horizon = oldest_needed(now, limits.values())
        failures = await self._db(self.store.failures, list(limits), horizon)
        decision = decide(((failures[key], limit) for key, limit in limits.items()), now)
        if isinstance(decision, Blocked):
            wait = retry_after_header(decision.retry_after)
            raise errors.ApiError(
                429,
                "too_many_attempts",
                f"too many failed sign-ins: try again in {wait} seconds",
                headers={"Retry-After": wait},
                extra={"retry_after": int(wait)},
            )
        stored = account.password_hash if account else None
        # Verified even without an account (against a dummy hash): equal time either way.
        matches = await self._hashing(self.hasher.verify, stored, password)
        if account is None or not matches:
            await self._db(self.store.record_failure, list(limits), now, horizon)
            raise errors.ApiError(401, "invalid_credentials", "wrong username, email or password")
        await self._db(self.store.clear_failures, account_key)
        if self.hasher.needs_rehash(account.password_hash):
            new_hash = await self._hashing(self.hasher.hash, password)
            await self._db(self.store.replace_hash, account.id, account.password_hash, new_hash)
        refresh = secrets.token_urlsafe(32)
        await self._db(self.store.issue, account.id, _digest(refresh), now_dt, self._refresh_ttl)
        return self._token_response(account, refresh, now)

    async def _lookup(self, login: str) -> Account | None:
        """The account a sign-in names: an email when it has an @, a username otherwise."""
        try:
            if "@" in login:
                return await self._db(self.store.find, email_key=normalise_email(login).key)
            return await self._db(self.store.find, username=normalise_username(login))
        except InvalidName:
            return None

    # -- tokens ----------------------------------------------------------------------------

    @property
    def _refresh_ttl(self) -> int:
        return self.cfg.tokens.refresh_ttl

    def _token_response(self, account: Account, refresh: str, now: float) -> dict[str, Any]:
        t = self.cfg.tokens
        claims = jwt.access_claims(
            subject=str(account.id),
            issuer=t.issuer,
            audience=t.audience,
            now=now,
            ttl=t.access_ttl,
            token_id=secrets.token_urlsafe(12),
            region=self.cfg.region,
        )
        return {
            "access_token": jwt.sign(claims, self.key),
            "token_type": "Bearer",
            "expires_in": t.access_ttl,
            "refresh_token": refresh,
            "refresh_expires_in": t.refresh_ttl,
            "user": user_json(account),
        }

    async def refresh(self, presented: str) -> dict[str, Any]:
        now, now_dt = self._now()
        if len(presented) > MAX_REFRESH_TOKEN_CHARS:
            raise errors.ApiError(401, "invalid_refresh_token", _REFUSED["unknown"])
        new = secrets.token_urlsafe(32)
        result = await self._db(
            self.store.rotate, _digest(presented), _digest(new), now_dt, self._refresh_ttl
        )
        if isinstance(result, Refused):
            raise errors.ApiError(401, "invalid_refresh_token", _REFUSED[result.reason])
        assert isinstance(result, Rotated)
        return self._token_response(result.account, new, now)

    async def signout(self, presented: str) -> None:
        """Revoke the session (the token's whole family); unknown tokens are not an error."""
        if len(presented) <= MAX_REFRESH_TOKEN_CHARS:
            await self._db(self.store.revoke_family, _digest(presented), self._now()[1])

    async def authenticate(self, authorization: str | None) -> Account:
        """The account of a valid ``Authorization: Bearer`` access token, or 401."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise errors.unauthorized(
                "unauthorized", "sign in and send Authorization: Bearer <access_token>"
            )
        t = self.cfg.tokens
        try:
            claims = jwt.verify(
                token.strip(),
                self.key,
                now=self.clock(),
                issuer=t.issuer,
                audience=t.audience,
                leeway=t.leeway,
            )
            user_id = uuid.UUID(str(claims.get("sub")))
        except (jwt.TokenError, ValueError) as exc:
            reason = str(exc) if isinstance(exc, jwt.TokenError) else "malformed token"
            raise errors.unauthorized("invalid_token", reason) from None
        account = await self._db(self.store.get, user_id)
        if account is None:
            raise errors.unauthorized("invalid_token", "the account no longer exists")
        return account


def _conflict(field: str) -> errors.ApiError:
    message = (
        "that username is already taken"
        if field == "username"
        else "an account with that email already exists"
    )
    return errors.ApiError(409, "conflict", message, field=field)
