"""What `openfront up` prints about the storage regions, from their stack.json entries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class StorageWelcome:
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # service, URL, pid
    tries: list[tuple[str, str]] = field(default_factory=list)  # comment, command
    notes: list[str] = field(default_factory=list)


def storage_welcome(services: Mapping[str, Any], data: str, openfront: str) -> StorageWelcome:
    # Stores are `s3-<region>` (region.service_name); MediaHub's entries name a region too.
    regions = [
        services[n] for n in sorted(services) if n.startswith("s3-") and "region" in services[n]
    ]
    welcome = StorageWelcome()
    _mediahub(welcome, services)
    if not regions:
        return welcome
    for info in regions:
        label = f"S3 {info['region']}"
        if info.get("display_name"):
            label += f" ({info['display_name']})"
        pid = info.get("pid")
        welcome.rows.append((label, str(info["url"]), "external" if pid is None else str(pid)))
    first = regions[0]
    region, buckets = first["region"], first.get("buckets") or []
    if buckets:
        s3 = f"{openfront} s3"
        where = f"--data {data} --region {region}"
        key = "public/index.html"
        welcome.tries += [
            ("Buckets of a storage region", f"{s3} ls {where}"),
            (
                "Upload to the public/ prefix, read it without credentials",
                f"{s3} cp {where} {data}/origin/index.html s3://{buckets[0]}/{key} && "
                f"curl -i {first['url']}/{buckets[0]}/{key}",
            ),
            (
                "A presigned download URL (valid 1 hour)",
                f"{s3} presign {where} s3://{buckets[0]}/{key}",
            ),
        ]
    _replication(welcome, services, data, openfront)
    for info in regions:
        if info.get("credentials_file") and info.get("managed"):
            welcome.notes.append(
                f"S3 credentials of {info['region']} are in {info['credentials_file']} (mode 0600)."
            )
    return welcome


def _replication(
    welcome: StorageWelcome, services: Mapping[str, Any], data: str, openfront: str
) -> None:
    """Rows for filer.sync and the auditor, and how to see replication at work."""
    syncs = [n for n in sorted(services) if n.startswith("replication-") and "a" in services[n]]
    for name in syncs:
        info = services[name]
        label = f"replication {info['a']['region']} <-> {info['b']['region']}"
        welcome.rows.append((label, str(info.get("metrics_url", info["url"])), str(info["pid"])))
    audit = services.get("replication-audit")
    if audit is not None:
        url = str(audit.get("metrics_url") or audit["url"])
        welcome.rows.append(("replication auditor", url, str(audit.get("pid", ""))))
    if not syncs:
        return
    info = services[syncs[0]]
    a, b = info["a"], info["b"]
    s3 = f"{openfront} s3"
    welcome.tries += [
        (
            f"Put an object in {a['region']}, list it in {b['region']} a moment later",
            f"{s3} cp --data {data} --region {a['region']} {data}/origin/index.html "
            f"s3://{a['bucket']}/public/{a['region']}.html && "
            f"{s3} ls --data {data} --region {b['region']} s3://{b['bucket']}/public/",
        ),
        ("Replication status of every object", f"{openfront} storage audit --data {data}"),
    ]


def _mediahub(welcome: StorageWelcome, services: Mapping[str, Any]) -> None:
    """Each region's MediaHub (what a user opens) and its media edge, in the stack's order."""
    hubs = [n for n in services if n.startswith("mediahub-") and "region" in services[n]]
    for name in hubs:
        info = services[name]
        region = str(info["region"])
        language = info.get("language")
        label = f"MediaHub {region}" + (f" ({language})" if language else "")
        welcome.rows.append((label, str(info["url"]), str(info.get("pid", ""))))
        edge = services.get(f"media-edge-{region}")
        if edge is not None:
            welcome.rows.append(
                (f"media edge {region}", str(edge["url"]), str(edge.get("pid", "")))
            )
    if len(hubs) >= 2:
        first, second = (services[n] for n in hubs[:2])
        welcome.notes.append(
            f"MediaHub: sign up at {first['url']}, sign in with the same account at "
            f"{second['url']}; a video uploaded in one region plays in the other once replicated."
        )
    elif hubs:
        welcome.notes.append(f"MediaHub: open {services[hubs[0]]['url']} and sign up.")
