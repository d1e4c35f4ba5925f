"""A memo of recent cache keys: building a key costs more than the rest of a cache hit."""

from __future__ import annotations

from openfront.cache.key import CacheKey, cache_key
from openfront.cache.policy import Behavior, KeyPolicy
from openfront.edge.request import Request


class KeyMemo:
    """Maps the request facts a key depends on to (CacheKey, full storage key).

    The memo key holds every input of :func:`openfront.cache.key.cache_key` for the policy, so
    a hit returns exactly what a fresh computation would. It is cleared when it grows past
    ``limit`` entries and whenever the edge's configuration changes (a new memo is made).
    """

    __slots__ = ("_limit", "_memo", "_names")

    def __init__(self, limit: int = 4096) -> None:
        self._limit = limit
        self._memo: dict[tuple[object, ...], tuple[CacheKey, bytes]] = {}
        self._names: dict[int, tuple[KeyPolicy, tuple[str, ...]]] = {}

    def _inputs(self, policy: KeyPolicy) -> tuple[str, ...]:
        entry = self._names.get(id(policy))
        if entry is None or entry[0] is not policy:
            names = policy.header_names if policy.headers != "none" else ()
            if policy.accept_encoding_gzip or policy.accept_encoding_brotli:
                names = (*names, "accept-encoding")
            if policy.cookies != "none":
                names = (*names, "cookie")
            entry = self._names[id(policy)] = (policy, tuple(names))
        return entry[1]

    def get(self, req: Request, host: str, beh: Behavior, prefix: bytes) -> tuple[CacheKey, bytes]:
        policy = beh.key
        lookup = req.lookup.get
        entry = self._names.get(id(policy))
        names = entry[1] if entry is not None and entry[0] is policy else self._inputs(policy)
        memo_key = (
            prefix,
            id(policy),
            req.method == "OPTIONS",
            host,
            req.target,
            *[lookup(n) for n in names],
        )
        hit = self._memo.get(memo_key)
        if hit is not None:
            return hit
        ck = cache_key(
            host=host,
            path=req.path,
            query=req.query,
            method=req.method,
            header=lookup,
            cookie_header=lookup("cookie"),
            policy=policy,
        )
        value = (ck, prefix + ck.key)
        if len(self._memo) >= self._limit:
            self._memo.clear()
        self._memo[memo_key] = value
        return value
