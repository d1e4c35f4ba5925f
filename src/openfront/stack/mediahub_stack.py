"""MediaHub in `openfront up`: per storage region, the MediaHub server and its media edge.

For each region R with a bucket, managed or external (an external one if `up` reached its
store at start): `mediahub-R` (`openfront mediahub --config DATA/mediahub/R.yaml`: the API,
the web app and an in-process processing worker, storage = R's bucket) and `media-edge-R`
(`openfront edge --config DATA/media-edge-R.yaml`: R's bucket as an S3 origin with Origin
Access Control, failing over to the next region's bucket while an object is not replicated
yet; the streams behind the demo key group). All regions share the accounts database (SQLite
under DATA/mediahub/ unless a URL is given) and the token key, so an account made in one
region signs in in the others.

The documents are plain functions over plain data; `prepare` writes them and `specs` says how
to run them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from openfront.config.storage import media_bucket_name
from openfront.stack import demo_secure
from openfront.stack.demo_secure import DemoSecrets
from openfront.stack.supervisor import ServiceSpec

DB_ENV = "OPENFRONT_MEDIAHUB_DB"  # what `openfront mediahub --db` reads: no password in `ps`
MEDIAHUB_PORT = 8201  # the first region's MediaHub; the next region's is one higher
MEDIA_EDGE_PORT = 8301
MEDIA_ADMIN_PORT = 9301
OAC_ID = "EOACMEDIAHUB"
CORS_POLICY_ID = "mediahub-cors"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
# A replica that is not there yet answers 404 (SeaweedFS says 404 also where AWS says 403).
FAILOVER_STATUSES = [403, 404, 500, 502, 503, 504]
# Open without a signature: what a gallery shows for any video, and the bucket's public prefix.
OPEN_PATTERNS = ("videos/*/poster.jpg", "videos/*/thumbs/*", "public/*")
READ_METHODS = {"Items": ["GET", "HEAD", "OPTIONS"], "CachedMethods": ["GET", "HEAD"]}
MEDIA_MEMORY_BYTES = 64 * 1024 * 1024
MEDIA_DISK_BYTES = 4 * 1024 * 1024 * 1024
MEDIAHUB_READY_TIMEOUT = 60.0  # the first start migrates the database


@dataclass(frozen=True, slots=True)
class MediaRegion:
    """What MediaHub needs of one storage region."""

    name: str
    endpoint: str  # the store's S3 endpoint
    bucket: str
    credentials_file: Path  # the region's s3.json, or {"AccessKeyId", "SecretAccessKey"}
    signing_region: str | None = None  # an external store's SigV4 region, if not `name`


@dataclass(frozen=True, slots=True)
class MediaPorts:
    mediahub: int
    edge: int
    admin: int


def service_names(region: str) -> tuple[str, str]:
    return f"mediahub-{region}", f"media-edge-{region}"


def usual_ports(regions: Sequence[str]) -> dict[str, int]:
    """Port names and their usual numbers: 8201, 8301, 9301 for the first region, +1 after."""
    usual: dict[str, int] = {}
    for i, name in enumerate(regions):
        hub, edge = service_names(name)
        usual |= {hub: MEDIAHUB_PORT + i, edge: MEDIA_EDGE_PORT + i}
        usual[f"{edge}-admin"] = MEDIA_ADMIN_PORT + i
    return usual


def ports_of(chosen: Mapping[str, int], region: str) -> MediaPorts:
    hub, edge = service_names(region)
    return MediaPorts(chosen[hub], chosen[edge], chosen[f"{edge}-admin"])


def pick_bucket(region: str, buckets: Sequence[str]) -> str | None:
    """The region's media bucket: `mediahub-<region>` if it has one, else its first."""
    wanted = media_bucket_name(region)
    if wanted in buckets:
        return wanted
    return buckets[0] if buckets else None


def s3_domain(region: MediaRegion) -> str:
    """The origin's CloudFront-style DomainName; `edge.s3_origins` maps it to the store."""
    return f"{region.bucket}.s3.{region.name}.amazonaws.com"


def _signing(region: MediaRegion) -> dict[str, str]:
    return {} if region.signing_region is None else {"signing_region": region.signing_region}


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def url(host: str, port: int) -> str:
    return f"http://{_hostport(host, port)}"


def reachable(host: str) -> str:
    """An address a browser on this machine can use for a service bound to `host`."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)


def app_origins(host: str, ports: Sequence[int]) -> list[str]:
    """Browser origins of pages on these ports: `localhost` and `127.0.0.1` both reach them."""
    hosts = ["localhost", "127.0.0.1"]
    if host not in hosts and host not in ("0.0.0.0", "::"):
        hosts.append(f"[{host}]" if ":" in host else host)
    return [f"http://{h}:{port}" for port in ports for h in hosts]


def mediahub_document(
    region: MediaRegion,
    *,
    host: str,
    ports: MediaPorts,
    data_dir: Path,
    signing_key: Path,
) -> dict[str, Any]:
    """DATA/mediahub/R.yaml: the region's server with its worker, bucket and media edge.

    The database URL is not in the file (it may hold a password): the child reads it from
    $OPENFRONT_MEDIAHUB_DB, and without it both regions use DATA/mediahub/mediahub.db."""
    return {
        "region": region.name,
        "listen": _hostport(host, ports.mediahub),
        "data_dir": str(data_dir),
        "storage": {
            "endpoint": region.endpoint,
            "bucket": region.bucket,
            "credentials_file": str(region.credentials_file),
            **_signing(region),
        },
        # The app is served by this server: its own origin is the one that calls the API.
        "uploads": {"cors_origins": app_origins(host, [ports.mediahub])},
        "processing": {"worker": True},
        "playback": {
            "cdn_url": url(reachable(host), ports.edge),
            "key_pair_id": demo_secure.KEY_PAIR_ID,
            "private_key_file": str(signing_key),
        },
    }


def media_edge_document(
    region: MediaRegion,
    fallback: MediaRegion | None,
    *,
    host: str,
    ports: MediaPorts,
    token: str,
    secrets: DemoSecrets,
    folder: Path,
    viewer_origins: Sequence[str],
) -> dict[str, Any]:
    """DATA/media-edge-R.yaml: one distribution over R's bucket (and `fallback`'s)."""
    members = [region] if fallback is None else [region, fallback]
    return {
        "edge": {
            "listen": _hostport(host, ports.edge),
            "workers": 1,
            "admin": {"listen": _hostport(host, ports.admin), "token": token},
            # Segments live on disk; a small memory tier keeps the demo light on one machine.
            "cache": {
                "memory_bytes": MEDIA_MEMORY_BYTES,
                "disk_path": str(folder / "cache"),
                "disk_bytes": MEDIA_DISK_BYTES,
            },
            "logs": {"path": str(folder / "logs")},
            "s3_origins": [
                {
                    "domain_name": s3_domain(m),
                    "endpoint": m.endpoint,
                    "credentials_file": str(m.credentials_file),
                    **_signing(m),
                }
                for m in members
            ],
        },
        "OriginAccessControls": [
            {
                "Id": OAC_ID,
                "OriginAccessControlConfig": {
                    "Name": "mediahub buckets",
                    "SigningProtocol": "sigv4",
                    "SigningBehavior": "always",
                    "OriginAccessControlOriginType": "s3",
                },
            }
        ],
        **demo_secure.key_settings(secrets),
        "ResponseHeadersPolicies": [_cors_policy(viewer_origins)],
        "distributions": [
            {"Id": distribution_id(region.name), "DistributionConfig": _media_distribution(members)}
        ],
    }


def distribution_id(region: str) -> str:
    return "EMEDIA" + region.upper().replace("-", "")


def _media_distribution(members: Sequence[MediaRegion]) -> dict[str, Any]:
    own = members[0]
    origins = [
        {
            "Id": m.name,
            "DomainName": s3_domain(m),
            "ConnectionAttempts": 1,
            "ConnectionTimeout": 2,
            "S3OriginConfig": {"OriginAccessIdentity": "", "OriginReadTimeout": 30},
            "OriginAccessControlId": OAC_ID,
        }
        for m in members
    ]
    target = own.name
    groups: list[dict[str, Any]] = []
    if len(members) > 1:
        target = f"{own.name}-failover"
        groups.append(
            {
                "Id": target,
                "FailoverCriteria": {"StatusCodes": FAILOVER_STATUSES},
                "Members": [m.name for m in members],
            }
        )

    def behavior(**extra: Any) -> dict[str, Any]:
        # The bucket's Cache-Control decides within CachingOptimized's bounds: segments,
        # posters and thumbnails a year (immutable), playlists a minute.
        return {
            "TargetOriginId": target,
            "ViewerProtocolPolicy": "allow-all",
            "CachePolicyId": CACHING_OPTIMIZED,
            "ResponseHeadersPolicyId": CORS_POLICY_ID,
            "AllowedMethods": READ_METHODS,
            **extra,
        }

    return {
        "Comment": f"MediaHub {own.name}: its media bucket, failing over to the other region's",
        "Enabled": True,
        "Origins": origins,
        "OriginGroups": groups,
        # Everything else, the uploads and every video's HLS included, needs the API's
        # signature: a video's visibility can change at any time, so the path cannot say.
        "DefaultCacheBehavior": behavior(
            TrustedKeyGroups={"Enabled": True, "Items": [demo_secure.KEY_GROUP_ID]}
        ),
        "CacheBehaviors": [behavior(PathPattern=pattern) for pattern in OPEN_PATTERNS],
    }


def _cors_policy(viewer_origins: Sequence[str]) -> dict[str, Any]:
    """hls.js on a MediaHub page reads playlists and segments from the edge's origin; with
    credentials (signed cookies) the browser needs the exact origin, never `*`."""
    cors = {
        "AccessControlAllowOrigins": list(viewer_origins),
        "AccessControlAllowHeaders": ["Range", "Content-Type"],
        "AccessControlAllowMethods": ["GET", "HEAD", "OPTIONS"],
        "AccessControlAllowCredentials": True,
        "AccessControlExposeHeaders": ["Content-Length", "Content-Range", "Accept-Ranges"],
        "AccessControlMaxAgeSec": 3600,
        "OriginOverride": True,
    }
    return {
        "Id": CORS_POLICY_ID,
        "ResponseHeadersPolicyConfig": {"Name": CORS_POLICY_ID, "CorsConfig": cors},
    }


@dataclass(frozen=True, slots=True)
class MediaPlan:
    """The written files and ports of every region, in the storage config's order."""

    regions: tuple[MediaRegion, ...]
    ports: Mapping[str, MediaPorts]
    hub_configs: Mapping[str, Path]
    edge_configs: Mapping[str, Path]
    database_url: str | None


def prepare(
    regions: Sequence[MediaRegion],
    chosen: Mapping[str, int],
    *,
    host: str,
    data_dir: Path,
    token: str,
    secrets: DemoSecrets,
    database_url: str | None,
    write: Callable[[Path, str], None],
) -> MediaPlan:
    """Write DATA/mediahub/R.yaml and DATA/media-edge-R.yaml for every region."""
    ports = {r.name: ports_of(chosen, r.name) for r in regions}
    viewers = app_origins(host, [p.mediahub for p in ports.values()])
    (data_dir / "mediahub").mkdir(parents=True, exist_ok=True)
    hubs: dict[str, Path] = {}
    edges: dict[str, Path] = {}
    header = "# Generated by `openfront up` on every start; edit a copy to run it yourself.\n"
    for i, region in enumerate(regions):
        fallback = regions[(i + 1) % len(regions)] if len(regions) > 1 else None
        folder = data_dir / f"media-edge-{region.name}"
        hub_doc = mediahub_document(
            region,
            host=host,
            ports=ports[region.name],
            data_dir=data_dir,
            signing_key=secrets.signing_key,
        )
        edge_doc = media_edge_document(
            region,
            fallback,
            host=host,
            ports=ports[region.name],
            token=token,
            secrets=secrets,
            folder=folder,
            viewer_origins=viewers,
        )
        hubs[region.name] = data_dir / "mediahub" / f"{region.name}.yaml"
        edges[region.name] = data_dir / f"media-edge-{region.name}.yaml"
        write(hubs[region.name], header + _dump(hub_doc))
        write(edges[region.name], header + _dump(edge_doc))
    return MediaPlan(tuple(regions), ports, hubs, edges, database_url)


def specs(plan: MediaPlan, run_dir: Path, environ: Mapping[str, str]) -> list[ServiceSpec]:
    """Each region's edge, then its MediaHub (whose playback URLs point at that edge)."""
    env = None if plan.database_url is None else {**environ, DB_ENV: plan.database_url}
    out: list[ServiceSpec] = []
    for region in plan.regions:
        hub, edge = service_names(region.name)
        out.append(
            ServiceSpec(
                edge,
                ("edge", "--config", str(plan.edge_configs[region.name])),
                run_dir / f"{edge}.log",
            )
        )
        out.append(
            ServiceSpec(
                hub,
                ("mediahub", "--config", str(plan.hub_configs[region.name])),
                run_dir / f"{hub}.log",
                ready_timeout=MEDIAHUB_READY_TIMEOUT,
                env=env,
            )
        )
    return out


class _PlainDumper(yaml.SafeDumper):
    def ignore_aliases(self, data: object) -> bool:
        return True


def _dump(document: Mapping[str, Any]) -> str:
    return yaml.dump(dict(document), Dumper=_PlainDumper, sort_keys=False, allow_unicode=True)
