"""Helpers for the control plane tests: an API server thread, boto3 clients, configs."""

from __future__ import annotations

import asyncio
import threading
import uuid
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from openfront.control.runtime import ControlState, bootstrap_root, open_state
from openfront.control.server import ApiServer
from openfront.control.settings import ApiSettings

ROOT_KEY = "AKOFTESTROOT00000001"
ROOT_SECRET = "test-root-secret-0123456789"
ROOT_ENV = {
    "OPENFRONT_ROOT_ACCESS_KEY_ID": ROOT_KEY,
    "OPENFRONT_ROOT_SECRET_ACCESS_KEY": ROOT_SECRET,
}
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"


class ApiThread:
    """An ApiServer on its own event loop in a thread, so blocking boto3 calls can drive it."""

    def __init__(self, settings: ApiSettings) -> None:
        self.settings = settings
        self.state: ControlState = open_state(settings)
        bootstrap_root(self.state, ROOT_ENV)
        self.loop = asyncio.new_event_loop()
        self.server = ApiServer(settings, self.state.db, self.state.box)
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> ApiThread:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start("127.0.0.1", 0), self.loop).result(10)
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()
        self.state.db.close()


def start_api(data_dir: Path, db: str, **settings: Any) -> ApiThread:
    return ApiThread(ApiSettings(data_dir=data_dir, db_url=db, **settings)).start()


def client(url: str, key: str = ROOT_KEY, secret: str = ROOT_SECRET) -> Any:
    return boto3.client(
        "cloudfront",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )


def dist_config(ref: str, **over: Any) -> dict[str, Any]:
    """A minimal DistributionConfig as boto3 takes it."""
    config: dict[str, Any] = {
        "CallerReference": ref,
        "Comment": "test",
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "app",
                    "DomainName": "origin.example.com",
                    "CustomOriginConfig": {
                        "HTTPPort": 80,
                        "HTTPSPort": 443,
                        "OriginProtocolPolicy": "http-only",
                    },
                }
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "app",
            "ViewerProtocolPolicy": "allow-all",
            "CachePolicyId": CACHING_OPTIMIZED,
        },
    }
    config.update(over)
    return config


def unique(prefix: str = "ref") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def raw_request(
    url: str,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    *,
    key: str = ROOT_KEY,
    secret: str = ROOT_SECRET,
    sign: bool = True,
) -> tuple[int, dict[str, str], bytes]:
    """One request signed by botocore's own SigV4 signer (or unsigned); returns the raw answer."""
    import urllib.error
    import urllib.request

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method=method, url=url + path, data=body, headers=headers or {})
    if sign:
        SigV4Auth(Credentials(key, secret), "cloudfront", "us-east-1").add_auth(request)
    prepared = request.prepare()
    sent = urllib.request.Request(
        prepared.url, data=body or None, method=method, headers=dict(prepared.headers)
    )
    try:
        with urllib.request.urlopen(sent, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def error_code(body: bytes) -> str:
    import re

    found = re.search(rb"<Code>([^<]*)</Code>", body)
    assert found is not None, body[:300]
    return found.group(1).decode()
