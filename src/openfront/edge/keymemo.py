"""A memo of recent cache keys: building a key costs more than the rest of a cache hit."""

from __future__ import annotations

from openfront.cache.key import CacheKey, cache_key
from openfront.cache.policy import Behavior, KeyPolicy
from openfront.edge.doorkeeper import Doorkeeper
from openfront.edge.request import Request


class KeyMemo:
    """Maps the request facts a key depends on to (CacheKey, full storage key).

    The memo key holds every input of :func:`openfront.cache.key.cache_key` for the policy, so
    a hit returns exactly what a fresh computation would. A key is memoised the second time
    it is built (a flood of distinct URLs leaves no entries behind). The memo is cleared when
    it grows past ``limit`` entries and whenever the edge's configuration changes (a new memo
    is made).
    """

    __slots__ = ("_door", "_limit", "_memo", "_names")

    def __init__(self, limit: int = 4096) -> None:
        self._limit = limit
        self._door = Doorkeeper()
        self._memo: dict[tuple[object, ...], tuple[CacheKey, bytes]] = {}
        self._names: dict[int, tuple[KeyPolicy, tuple[str, ...]]] = {}

    def _inputs(self, policy: KeyPolicy) -> tuple[str, ...]:
        """The request headers the policy's key reads, besides Host (a memo key field itself)."""
        names = [n for n in policy.header_names if n != "host"] if policy.headers != "none" else []
        if policy.accept_encoding_gzip or policy.accept_encoding_brotli:
            names.append("accept-encoding")
        if policy.cookies != "none":
            names.append("cookie")
        found = tuple(names)
        self._names[id(policy)] = (policy, found)
        return found

    def get(self, req: Request, host: str, beh: Behavior, prefix: bytes) -> tuple[CacheKey, bytes]:
        policy = beh.key
        lookup = req.lookup.get
        policy_id = id(policy)
        entry = self._names.get(policy_id)
        names = entry[1] if entry is not None and entry[0] is policy else self._inputs(policy)
        # map() over the bound dict.get is the cheapest way to gather the header inputs.
        memo_key = (
            prefix,
            policy_id,
            req.method == "OPTIONS",
            host,
            req.target,
            *map(lookup, names),
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
        if not self._door.again(hash(memo_key)):
            return value
        if len(self._memo) >= self._limit:
            self._memo.clear()
        self._memo[memo_key] = value
        return value
