"""Starting an in-process edge in front of a test origin."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable
from typing import Any

ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]

# Follows the origin's headers, like CloudFront's UseOriginCacheControlHeaders-QueryStrings.
FOLLOW_ORIGIN = {
    "Name": "follow-origin",
    "MinTTL": 0,
    "DefaultTTL": 0,
    "MaxTTL": 31536000,
    "ParametersInCacheKeyAndForwardedToOrigin": {
        "EnableAcceptEncodingGzip": False,
        "EnableAcceptEncodingBrotli": False,
        "HeadersConfig": {"HeaderBehavior": "none"},
        "CookiesConfig": {"CookieBehavior": "none"},
        "QueryStringsConfig": {"QueryStringBehavior": "all"},
    },
}


def origin_entry(oid: str, port: int, **extra: Any) -> dict[str, Any]:
    return {
        "Id": oid,
        "DomainName": "127.0.0.1",
        "ConnectionAttempts": 1,
        "ConnectionTimeout": 1,
        "CustomOriginConfig": {
            "HTTPPort": port,
            "OriginProtocolPolicy": "http-only",
            "OriginReadTimeout": extra.pop("read_timeout", 5),
        },
        **extra,
    }


def dist_config(origin_port: int, **over: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "Comment": "test",
        "Enabled": True,
        "Origins": [origin_entry("o1", origin_port)],
        "DefaultCacheBehavior": {
            "TargetOriginId": "o1",
            "ViewerProtocolPolicy": "allow-all",
            "AllowedMethods": {"Items": ALL_METHODS, "CachedMethods": ["GET", "HEAD"]},
            "CachePolicyConfig": copy.deepcopy(FOLLOW_ORIGIN),
        },
    }
    d.update(over)
    return d


def config(
    dist: dict[str, Any],
    tmp: Any = None,
    dist_id: str = "EDIST1",
    top: dict[str, Any] | None = None,
    **edge: Any,
) -> Any:
    from openfront.config import parse_config

    e: dict[str, Any] = {
        "listen": "127.0.0.1:0",
        "admin": {"listen": "127.0.0.1:0", "token": "test-token"},
        "limits": {"header_timeout": 5, "idle_timeout": 30},
    }
    for k, v in edge.items():
        if isinstance(v, dict) and isinstance(e.get(k), dict):
            e[k] = {**e[k], **v}
        else:
            e[k] = v
    data = {
        "edge": e,
        "distributions": [{"Id": dist_id, "DistributionConfig": dist}],
        **(top or {}),
    }
    return parse_config(data, "test")


async def eventually(pred: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for a condition that another task on this loop will make true (bounded)."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.001)
