"""OpenFront's own edge settings (snake_case keys): listening, workers, limits, cache, logs."""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, model_validator

ADMIN_TOKEN_ENV = "OPENFRONT_ADMIN_TOKEN"
KiB, MiB, GiB, TiB = 1 << 10, 1 << 20, 1 << 30, 1 << 40
_UNITS = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": KiB,
    "mib": MiB,
    "gib": GiB,
    "tib": TiB,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def parse_size(value: object) -> int:
    """Bytes from an int or a string like ``"256MiB"``, ``"10GB"``, ``"4 KiB"`` (GB = 10^9)."""
    if isinstance(value, bool):
        raise ValueError("a size is a number of bytes or a string like '256MiB'")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        m = _SIZE.match(value)
        if m and m.group(2).lower() in _UNITS:
            number = float(m.group(1)) if "." in m.group(1) else int(m.group(1))
            return int(number * _UNITS[m.group(2).lower()])
    raise ValueError(
        f"{value!r} is not a size: use bytes or a number with B, KB, MB, GB, TB, KiB, MiB, GiB, TiB"
    )


def parse_listen(value: str) -> tuple[str, int]:
    """``"HOST:PORT"`` or ``"[IPv6]:PORT"`` to (host, port); raises ValueError."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"{value!r} is not HOST:PORT (e.g. 127.0.0.1:8080)")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        ipaddress.IPv6Address(host)
    elif ":" in host:
        raise ValueError(f"{value!r}: write an IPv6 address in brackets, e.g. [::1]:8080")
    return host, int(port)


def _check_listen(value: object) -> object:
    if isinstance(value, str):
        parse_listen(value)
    return value


Size = Annotated[int, BeforeValidator(parse_size), Field(ge=0)]
Listen = Annotated[str, BeforeValidator(_check_listen)]
Seconds = Annotated[float, Field(gt=0)]


class EdgeModel(BaseModel):
    """Base of OpenFront's own settings: frozen, unknown keys refused, snake_case keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _token_from_env(value: object) -> object:
    if value is None or value == "":
        return os.environ.get(ADMIN_TOKEN_ENV) or None
    return value


class AdminConfig(EdgeModel):
    listen: Listen = Field(
        default="127.0.0.1:9090",
        description="HOST:PORT of the admin port (invalidation, metrics, health).",
    )
    token: Annotated[SecretStr | None, BeforeValidator(_token_from_env)] = Field(
        default=None,
        validate_default=True,
        description=f"Bearer token the admin port requires; from ${ADMIN_TOKEN_ENV} when unset. "
        "Never logged or printed.",
    )


class LimitsConfig(EdgeModel):
    max_request_line: Size = Field(
        default=8192,
        description="Bytes in the request line; longer gets 414 (CloudFront's URL limit: 8,192).",
    )
    max_header_bytes: Size = Field(
        default=20480,
        description="Bytes of request line plus headers; more gets 431 and a close (CloudFront: "
        "20,480).",
    )
    max_headers: int = Field(
        default=100, ge=1, description="Number of request header fields; more gets 431."
    )
    header_timeout: Seconds = Field(
        default=10.0,
        description="Seconds to receive a whole request head (slow-loris guard, like nginx's "
        "client_header_timeout).",
    )
    idle_timeout: Seconds = Field(
        default=60.0, description="Seconds a keep-alive connection may sit idle between requests."
    )
    max_ranges: int = Field(
        default=50,
        ge=1,
        description="Ranges in one Range header; more and the header is ignored (full 200).",
    )
    body_read_timeout: Seconds = Field(
        default=60.0, description="Seconds between body bytes from a viewer upload."
    )


class CacheConfig(EdgeModel):
    memory_bytes: Size = Field(
        default=256 * MiB, description="Bytes the memory tier may hold (bodies and metadata)."
    )
    memory_max_object_bytes: Size = Field(
        default=4 * MiB, description="Largest object kept in memory; larger ones go to disk only."
    )
    memory_layout: Literal["arena", "objects"] = Field(
        default="arena",
        description="How the memory tier keeps objects: `arena` (records in one mmap, about "
        "120 B per object beside its stored bytes) or `objects` (one Python object per key, "
        "about 325 B).",
    )
    disk_path: Path | None = Field(
        default=None, description="Folder of the disk tier; none means no disk tier."
    )
    disk_bytes: Size = Field(default=10 * GiB, description="Bytes the disk tier may hold.")
    max_object_bytes: Size = Field(
        default=30 * 1000**3,
        description="Largest object cached at all (CloudFront: 30 GB); larger ones stream "
        "through uncached.",
    )

    @model_validator(mode="after")
    def _check(self) -> CacheConfig:
        if self.memory_max_object_bytes > self.memory_bytes:
            raise ValueError("memory_max_object_bytes is larger than memory_bytes")
        return self


class LogsConfig(EdgeModel):
    path: Path | None = Field(
        default=None,
        description="Folder for access log files (CloudFront standard format, one file per "
        "distribution and hour, `<Id>.YYYY-MM-DD-HH.<unique>[.gz]`); none = off.",
    )
    rotate_bytes: Size = Field(
        default=64 * MiB, description="Rotate when the file reaches this size; 0 = never."
    )
    rotate_seconds: int = Field(
        default=3600, ge=0, description="Rotate after this many seconds; 0 = never."
    )
    gzip: bool = Field(default=True, description="Compress rotated files with gzip.")


def _check_cidrs(value: object) -> object:
    if isinstance(value, list | tuple):
        for cidr in value:
            if not isinstance(cidr, str):
                raise ValueError(f"{cidr!r} is not a CIDR such as 10.0.0.0/8")
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise ValueError(f"{cidr!r} is not a CIDR such as 10.0.0.0/8") from None
    return value


class ViewerConfig(EdgeModel):
    trusted_proxies: Annotated[tuple[str, ...], BeforeValidator(_check_cidrs)] = Field(
        default=(),
        description="CIDRs (`10.0.0.0/8`, `::1/128`) of load balancers in front of the edge. "
        "Only for peers in these networks is the first X-Forwarded-For address taken as the "
        "viewer address (for geo, CloudFront-Viewer-Address and logs); empty = never.",
    )
    geoip_database: Path | None = Field(
        default=None,
        description="MaxMind GeoLite2/GeoIP2 Country or City .mmdb file; a City file also "
        "gives the region, city, postal code, time zone and coordinate headers. None = the "
        "country database bundled with geoip2fast.",
    )


_HOST_NAME = re.compile(r"^(\*\.)?(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$")


def check_host_name(name: object) -> str:
    """A DNS name for a certificate, `*.` wildcard allowed; raises ValueError."""
    if not isinstance(name, str) or not _HOST_NAME.match(name) or len(name) > 253:
        raise ValueError(f"{name!r} is not a host name such as cdn.example.com or *.example.com")
    return name


def _check_host_names(value: object) -> object:
    if isinstance(value, list | tuple):
        for name in value:
            check_host_name(name)
    return value


class CertificateConfig(EdgeModel):
    """One certificate for the TLS listener, like an ACM certificate attached to aliases."""

    names: Annotated[tuple[str, ...], BeforeValidator(_check_host_names)] = Field(
        min_length=1,
        description="Host names this certificate is presented for (SNI), e.g. cdn.example.com; "
        "`*.example.com` matches one label (a.example.com, not a.b.example.com nor example.com).",
    )
    cert_file: Path = Field(
        description="PEM file with the certificate first, then the intermediates (the chain)."
    )
    key_file: Path = Field(description="PEM file with the certificate's private key.")


class TlsConfig(EdgeModel):
    """The HTTPS listener: certificates chosen by SNI; the first one when no name matches."""

    listen: Listen = Field(
        default="127.0.0.1:8443", description="HOST:PORT of the HTTPS listener (port 0 = any free)."
    )
    certificates: tuple[CertificateConfig, ...] = Field(
        min_length=1,
        description="Certificates with their names; the first one also serves viewers that send "
        "no SNI or an unknown name.",
    )
    min_protocol: Literal["TLSv1.2", "TLSv1.3"] = Field(
        default="TLSv1.2",
        description="Oldest TLS version accepted on the listener; older handshakes are refused. "
        "A distribution's ViewerCertificate.MinimumProtocolVersion can raise it for its aliases.",
    )
    reload_seconds: Seconds = Field(
        default=60.0,
        description="How often certificate files are checked for changes (by mtime) and reloaded "
        "without a restart.",
    )


class OriginTlsConfig(EdgeModel):
    """How the edge checks origin certificates (https-only and match-viewer origins)."""

    ca_bundle: Path | None = Field(
        default=None,
        description="PEM file of extra CA certificates trusted for origins, on top of the "
        "system store (e.g. a private CA, or `openfront cert`'s ca.pem); none = system CAs only.",
    )
    verify: bool = Field(
        default=True,
        description="Check origin certificates (chain and name), as CloudFront always does. "
        "`false` is for labs only: any certificate is accepted and the edge logs a warning.",
    )


class S3OriginAccess(EdgeModel):
    """Where an S3 origin really is and what the edge signs its requests with (OAC)."""

    domain_name: str = Field(
        description="The S3 origin's DomainName this entry is for, e.g. "
        "`media.s3.ap-northeast-2.amazonaws.com`."
    )
    endpoint: str | None = Field(
        default=None,
        description="`http(s)://HOST:PORT` of an S3-compatible store (SeaweedFS, MinIO, Ceph): "
        "requests go there with the bucket in the path (path-style). None = DomainName over "
        "HTTPS, as CloudFront reaches AWS S3.",
    )
    signing_region: str | None = Field(
        default=None,
        description="Region in the SigV4 signature; none = the region in DomainName.",
    )
    region_dir: Path | None = Field(
        default=None,
        description="A managed storage region's folder (`DATA/regions/NAME`): the edge signs "
        "with the credentials in its s3.json.",
    )
    credentials_file: Path | None = Field(
        default=None,
        description='JSON file `{"AccessKeyId": ..., "SecretAccessKey": ...}` (or a weed '
        "s3.json). With neither this nor region_dir: $AWS_ACCESS_KEY_ID, "
        "$AWS_SECRET_ACCESS_KEY and $AWS_SESSION_TOKEN.",
    )

    @model_validator(mode="after")
    def _check(self) -> S3OriginAccess:
        if self.region_dir is not None and self.credentials_file is not None:
            raise ValueError("give region_dir or credentials_file, not both")
        if self.endpoint is not None:
            parts = urlsplit(self.endpoint)
            if (
                parts.scheme not in ("http", "https")
                or not parts.hostname
                or parts.path not in ("", "/")
                or parts.query
                or parts.username
            ):
                raise ValueError(f"endpoint {self.endpoint!r}: use http(s)://HOST[:PORT]")
        return self


def _check_api_url(value: object) -> object:
    if isinstance(value, str) and not re.match(r"^https?://[^/?#\s]+/?$", value):
        raise ValueError(f"{value!r} is not an API URL like http://127.0.0.1:9000")
    return value


class ControlPlaneConfig(EdgeModel):
    """Following `openfront api`: distributions and invalidations come from there."""

    url: Annotated[str, BeforeValidator(_check_api_url)] = Field(
        description="The API's URL, e.g. http://127.0.0.1:9000."
    )
    edge_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9._-]{1,64}$",
        description="This edge's id in the fleet. Default: generated on the first start and "
        "kept in `data_dir/edge-id`, so it stays the same across restarts.",
    )
    region: str = Field(
        default="", max_length=64, description="A region label shown by `openfront edges`."
    )
    address: str | None = Field(
        default=None,
        max_length=255,
        description="The address viewers reach this edge at, as listed by `openfront edges`. "
        "Default: the viewer listener's URL.",
    )
    data_dir: Path = Field(
        default=Path("edge-data"),
        description="Folder for the edge id and the last good configuration "
        "(`fleet-state.json`), from which the edge starts when the API is down.",
    )
    credentials_file: Path | None = Field(
        default=None,
        description="File with `AWS_ACCESS_KEY_ID=...` and `AWS_SECRET_ACCESS_KEY=...` lines "
        "(an API access key). Default: those environment variables.",
    )
    poll_seconds: Seconds = Field(
        default=20.0,
        le=300,
        description="How long one long-poll for changes may be held open by the API.",
    )
    retry_seconds: Seconds = Field(
        default=1.0,
        description="First wait before retrying an unreachable API (doubles up to 30 s).",
    )
    bus: str | None = Field(
        default=None,
        pattern=r"^nats://",
        description="Receive changes from NATS JetStream (`nats://HOST:PORT`) instead of the "
        "API's long-poll; acknowledgements still go to the API.",
    )
    bus_stream: str = Field(
        default="OPENFRONT_FLEET",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="The JetStream stream `openfront api --bus-stream` publishes to.",
    )


class EdgeConfig(EdgeModel):
    listen: Listen = Field(
        default="127.0.0.1:8080", description="HOST:PORT viewers connect to (port 0 = any free)."
    )
    workers: int = Field(
        default=1,
        ge=1,
        le=256,
        description="Processes sharing the port with SO_REUSEPORT (like nginx worker_processes).",
    )
    pop: str = Field(
        default="LOC50-C1",
        pattern=r"^[A-Za-z0-9-]{1,32}$",
        description="Value of X-Amz-Cf-Pop and the log's x-edge-location, e.g. IAD89-C3.",
    )
    product_name: str = Field(
        default="cloudfront",
        description="Word in `X-Cache: Hit from cloudfront` and in Via; the format stays.",
    )
    event_loop: Literal["asyncio", "uvloop"] = Field(
        default="uvloop",
        description="`uvloop` (the default: about 25% more hot hits per second and "
        "writev for large bodies, docs/performance.md) or the standard `asyncio` loop.",
    )
    admin: AdminConfig = Field(
        default_factory=AdminConfig,  # built per load: the token may come from the environment
        description="The admin port.",
    )
    limits: LimitsConfig = Field(default=LimitsConfig(), description="Request limits/timeouts.")
    cache: CacheConfig = Field(default=CacheConfig(), description="The cache tiers.")
    logs: LogsConfig = Field(default=LogsConfig(), description="The access log.")
    viewer: ViewerConfig = Field(
        default=ViewerConfig(), description="Viewer address and geolocation."
    )
    tls: TlsConfig | None = Field(
        default=None, description="The HTTPS listener for viewers; none = HTTP only."
    )
    origin_tls: OriginTlsConfig = Field(
        default=OriginTlsConfig(), description="Certificate checks for HTTPS to origins."
    )
    control_plane: ControlPlaneConfig | None = Field(
        default=None,
        description="Follow `openfront api` (docs/control-plane.md#the-edge-fleet): it supplies "
        "the distributions; this file only the edge's own settings.",
    )
    s3_origins: tuple[S3OriginAccess, ...] = Field(
        default=(),
        description="Per S3 origin DomainName: the store it lives on and the credentials "
        "Origin Access Control signs with. S3 origins not listed are reached at DomainName and "
        "signed with the AWS_* environment variables.",
    )

    @model_validator(mode="after")
    def _check(self) -> EdgeConfig:
        if not _TOKEN.match(self.product_name):
            raise ValueError("product_name must be one HTTP token, e.g. cloudfront")
        domains = [a.domain_name.lower() for a in self.s3_origins]
        if len(set(domains)) != len(domains):
            raise ValueError("s3_origins: a domain_name is listed twice")
        return self
