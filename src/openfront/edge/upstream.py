"""Sending one request upstream: origin or origin group (with failover), headers per origin."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

from openfront.cache.forward import origin_cookies, origin_query, origin_request_headers
from openfront.cache.policy import Behavior, Distribution, Origin
from openfront.edge.origin import for_viewer
from openfront.edge.request import Request
from openfront.errors import OriginError

if TYPE_CHECKING:
    from openfront.edge.origin import OriginClient, OriginResponse

# CloudFront fails over only for these methods (guide §1.10).
_FAILOVER_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _members(dist: Distribution, beh: Behavior) -> tuple[tuple[Origin, ...], frozenset[int]]:
    target = beh.target_origin_id
    group = dist.origin_groups.get(target)
    if group is None:
        return (dist.origins[target],), frozenset()
    return tuple(dist.origins[m] for m in group.members), group.failover_statuses


async def send(
    client: OriginClient,
    dist: Distribution,
    beh: Behavior,
    req: Request,
    *,
    method: str,
    request_id: str,
    via: str,
    accept_encoding: str | None,
    cacheable: bool,
    extra: Sequence[tuple[str, str]] = (),
    body: AsyncIterator[bytes] | None = None,
    scheme: str = "http",
) -> tuple[OriginResponse, Origin]:
    """Send ``req`` to the behavior's origin, failing over inside an origin group.

    ``scheme`` is the viewer's: match-viewer origins are reached with the same one.
    """
    members, failover_statuses = _members(dist, beh)
    query = origin_query(req.query, beh)
    path_and_query = req.path + ("?" + query if query else "")
    cookies = origin_cookies(req.header("cookie"), beh)
    can_fail_over = method in _FAILOVER_METHODS and body is None
    last_error: OriginError | None = None
    for i, member in enumerate(members):
        last = i == len(members) - 1
        origin = for_viewer(member, scheme)
        headers = origin_request_headers(
            req.headers,
            behavior=beh,
            origin=origin,
            client_ip=req.client_ip,
            request_id=request_id,
            via=via,
            accept_encoding=accept_encoding,
            cacheable_fetch=cacheable,
        )
        if cookies:
            headers.append(("Cookie", cookies))
        headers.extend(extra)
        target = origin.path + path_and_query
        try:
            if origin.s3 is not None:
                target, headers = client.s3.prepare(
                    origin,
                    method,
                    target,
                    headers,
                    req.headers,
                    req.query,
                    has_body=body is not None,
                )
            resp = await client.request(
                origin,
                method,
                target,
                headers,
                body,
                body_length=req.content_length if body is not None and not req.chunked else None,
            )
        except OriginError as e:
            last_error = e
            if last or not can_fail_over:
                raise
            continue
        if not last and can_fail_over and resp.status in failover_statuses:
            resp.close()
            continue
        return resp, member
    assert last_error is not None
    raise last_error
