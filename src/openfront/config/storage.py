"""Object storage regions: where each region's S3 store is, its buckets, CORS and public prefixes.

Keys are S3's own where S3 has one (CORSRules, AllowedOrigins, ...), PascalCase like the
distribution config. A region is either managed (`openfront up` runs a SeaweedFS `weed mini` for
it) or an external S3 endpoint (AWS S3, MinIO, Ceph RGW) reached with credentials taken from
environment variables or a file, never written inline.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, model_validator

from openfront.config.edge import MiB, Size
from openfront.config.load import _read_json, _read_yaml, config_error
from openfront.config.policies import CfList, CfModel, ConfigPathError, NonEmpty, PathPart
from openfront.errors import ConfigError

# The highest base port whose whole block fits: weed's maintenance worker dials the admin port
# + 10000 for gRPC whatever -admin.port.grpc says, so that port belongs to the block too.
ADMIN_GRPC_OFFSET = 10_000
BLOCK_SPAN = 9  # master, volume, filer, s3 (each http + grpc) and admin http: BP .. BP+8
MAX_BASE_PORT = 65_535 - ADMIN_GRPC_OFFSET - (BLOCK_SPAN - 1)

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
MAX_CORS_RULES = 100  # S3's limit per bucket
CorsMethod = Literal["GET", "PUT", "POST", "DELETE", "HEAD"]


def bucket_name_problem(name: str) -> str | None:
    """Why `name` is not a valid S3 general purpose bucket name, or None (S3's naming rules)."""
    if not 3 <= len(name) <= 63:
        return "a bucket name has 3 to 63 characters"
    if not _BUCKET.match(name):
        return (
            "a bucket name uses lowercase letters, digits, '.' and '-', and starts and ends "
            "with a letter or digit"
        )
    if ".." in name or ".-" in name or "-." in name:
        return "a bucket name has no '..', '.-' or '-.'"
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        pass
    else:
        return "a bucket name is not formatted as an IP address"
    for prefix in _BUCKET_PREFIXES:
        if name.startswith(prefix):
            return f"a bucket name does not start with {prefix!r}"
    for suffix in _BUCKET_SUFFIXES:
        if name.endswith(suffix):
            return f"a bucket name does not end with {suffix!r}"
    return None


class CorsRule(CfModel):
    """One S3 CORSRule (PutBucketCors): which origins may use which methods and headers."""

    id: str | None = Field(
        default=None, alias="ID", max_length=255, description="Optional rule id (S3's ID)."
    )
    allowed_origins: Annotated[CfList[str], NonEmpty] = Field(
        description="Origins allowed, e.g. `https://app.example.com`; one `*` wildcard each."
    )
    allowed_methods: Annotated[CfList[CorsMethod], NonEmpty] = Field(
        description="Methods allowed: GET, PUT, POST, DELETE, HEAD."
    )
    allowed_headers: CfList[str] = Field(
        default=(),
        description="Request headers a preflight may ask for (`*` = any); one `*` each.",
    )
    expose_headers: CfList[str] = Field(
        default=(), description="Response headers scripts may read, e.g. `ETag` for multipart."
    )
    max_age_seconds: int | None = Field(
        default=None, ge=0, description="Seconds a browser may cache the preflight answer."
    )

    @model_validator(mode="after")
    def _check(self) -> CorsRule:
        problems: list[tuple[tuple[PathPart, ...], str]] = []
        for key, values in (
            ("AllowedOrigins", self.allowed_origins),
            ("AllowedHeaders", self.allowed_headers),
        ):
            for i, value in enumerate(values):
                if value.count("*") > 1 or not value.strip():
                    problems.append(((key, i), f"{value!r}: at most one '*' and not empty"))
        if problems:
            raise ConfigPathError(problems)
        return self

    def to_s3(self) -> dict[str, object]:
        """The rule as boto3's put_bucket_cors takes it (empty lists left out, like S3 does)."""
        rule: dict[str, object] = {
            "AllowedOrigins": list(self.allowed_origins),
            "AllowedMethods": list(self.allowed_methods),
        }
        if self.id is not None:
            rule["ID"] = self.id
        if self.allowed_headers:
            rule["AllowedHeaders"] = list(self.allowed_headers)
        if self.expose_headers:
            rule["ExposeHeaders"] = list(self.expose_headers)
        if self.max_age_seconds is not None:
            rule["MaxAgeSeconds"] = self.max_age_seconds
        return rule


class BucketConfig(CfModel):
    """A bucket OpenFront creates in its region and keeps configured (re-applied each start)."""

    name: str = Field(description="Bucket name, by S3's naming rules (3-63 characters, ...).")
    cors_rules: CfList[CorsRule] = Field(
        default=(),
        alias="CORSRules",
        description="S3 CORS rules; none = every cross-origin request is refused (at most 100).",
    )
    public_read_prefixes: CfList[str] = Field(
        default=(),
        description="Key prefixes anyone may GET without credentials (a bucket policy "
        "allowing s3:GetObject on `bucket/prefix*`); none = the bucket stays private.",
    )

    @model_validator(mode="after")
    def _check(self) -> BucketConfig:
        problems: list[tuple[tuple[PathPart, ...], str]] = []
        problem = bucket_name_problem(self.name)
        if problem:
            problems.append((("Name",), f"{self.name!r}: {problem}"))
        if len(self.cors_rules) > MAX_CORS_RULES:
            problems.append((("CORSRules",), f"at most {MAX_CORS_RULES} rules"))
        for i, prefix in enumerate(self.public_read_prefixes):
            if not prefix:
                problems.append(
                    (("PublicReadPrefixes", i), "empty: give a prefix such as 'public/'")
                )
            elif prefix.startswith("/") or any(c in prefix for c in "*?") or "\x00" in prefix:
                problems.append(
                    (("PublicReadPrefixes", i), f"{prefix!r}: a key prefix, no leading '/' or *?")
                )
        if problems:
            raise ConfigPathError(problems)
        return self


class ManagedStoreConfig(CfModel):
    """Options of the `weed mini` OpenFront runs for a managed region."""

    base_port: int | None = Field(
        default=None,
        ge=1024,
        le=MAX_BASE_PORT,
        description="First of the store's ports (BP..BP+8, and BP+10008 for the admin gRPC "
        "port); none = the first free block, chosen once and kept in the region's data dir.",
    )
    memory_limit: Size = Field(
        default=512 * MiB,
        description="Soft memory limit of the store (GOMEMLIMIT); without one weed keeps "
        "~1.3 GiB after a few large uploads. At least 64 MiB.",
    )

    @model_validator(mode="after")
    def _check(self) -> ManagedStoreConfig:
        if self.memory_limit < 64 * MiB:
            raise ConfigPathError.at("MemoryLimit", "at least 64 MiB")
        return self


class CredentialsConfig(CfModel):
    """Where an external region's access key comes from: environment variables or a file."""

    access_key_id_env: str = Field(
        default="AWS_ACCESS_KEY_ID", description="Environment variable holding the access key id."
    )
    secret_access_key_env: str = Field(
        default="AWS_SECRET_ACCESS_KEY",
        description="Environment variable holding the secret access key.",
    )
    file: Path | None = Field(
        default=None,
        description='JSON file `{"AccessKeyId": ..., "SecretAccessKey": ...}` (mode 0600); '
        "when set, the environment variables are not read.",
    )

    @model_validator(mode="after")
    def _check(self) -> CredentialsConfig:
        for key, value in (
            ("AccessKeyIdEnv", self.access_key_id_env),
            ("SecretAccessKeyEnv", self.secret_access_key_env),
        ):
            if not _ENV_NAME.match(value):
                raise ConfigPathError.at(key, f"{value!r} is not an environment variable name")
        return self


class RegionConfig(CfModel):
    """One storage region: a managed SeaweedFS store or an external S3 endpoint, and buckets."""

    name: str = Field(description="AWS-style region code, e.g. `ap-northeast-2`.")
    display_name: str = Field(default="", description='Human name, e.g. "Seoul".')
    managed: bool = Field(
        default=True,
        description="OpenFront runs a SeaweedFS `weed mini` for this region in `openfront up`; "
        "false = an external S3 store at Endpoint.",
    )
    endpoint: str | None = Field(
        default=None,
        description="External stores only: the S3 endpoint URL, e.g. `https://s3.sa-east-1."
        "amazonaws.com` or `http://minio.internal:9000`.",
    )
    signing_region: str | None = Field(
        default=None,
        description="Region name in SigV4 signatures; none = Name (MinIO: its configured "
        "region, `us-east-1` when none is set).",
    )
    credentials: CredentialsConfig = Field(
        default=CredentialsConfig(),
        description="External stores only: where the access key comes from. Managed stores "
        "get generated credentials (DATA/regions/NAME/s3.json, mode 0600).",
    )
    store: ManagedStoreConfig = Field(
        default=ManagedStoreConfig(), description="Managed stores only: ports and memory."
    )
    buckets: CfList[BucketConfig] = Field(
        default=(), description="Buckets created and configured at every start."
    )

    @model_validator(mode="after")
    def _check(self) -> RegionConfig:
        problems: list[tuple[tuple[PathPart, ...], str]] = []
        if not _REGION.match(self.name):
            problems.append((("Name",), f"{self.name!r} is not a region code like ap-northeast-2"))
        if self.managed and self.endpoint is not None:
            problems.append(
                (("Endpoint",), "a managed region has no Endpoint (set Managed: false)")
            )
        if not self.managed:
            if self.endpoint is None:
                problems.append((("Endpoint",), "an external region (Managed: false) needs one"))
            elif (why := _endpoint_problem(self.endpoint)) is not None:
                problems.append((("Endpoint",), why))
        problems += _duplicates((b.name for b in self.buckets), "Buckets", "bucket")
        if problems:
            raise ConfigPathError(problems)
        return self

    @property
    def label(self) -> str:
        return f"{self.name} ({self.display_name})" if self.display_name else self.name


class ReplicaBucket(CfModel):
    """One side of a replication rule: a bucket of a configured region."""

    region: str = Field(description="Name of a region listed under Regions.")
    bucket: str = Field(description="A bucket of that region.")


class ReplicationRule(CfModel):
    """Two buckets kept identical by a `weed filer.sync` between their regions' stores."""

    id: str = Field(
        alias="ID",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$",
        description="Rule id (S3's ID): letters, digits, `_.-`.",
    )
    status: Literal["Enabled", "Disabled"] = Field(
        default="Enabled", description="Disabled = no filer.sync and no audit for this rule."
    )
    source: ReplicaBucket = Field(description="One bucket (filer.sync's `-a` side).")
    destination: ReplicaBucket = Field(description="The other bucket (filer.sync's `-b` side).")
    bidirectional: bool = Field(
        default=True,
        description="Active-active (writes on either side replicate); false = Source to "
        "Destination only (`-isActivePassive`).",
    )


class ReplicationConfig(CfModel):
    """Cross-region replication between managed stores, and the replication auditor."""

    rules: CfList[ReplicationRule] = Field(
        default=(),
        max_length=11,
        description="Bucket pairs to replicate (at most 11); at most one rule per region pair.",
    )
    memory_limit: Size = Field(
        default=256 * MiB,
        description="GOMEMLIMIT of each filer.sync (~100 MiB idle; ~360 MiB after a few 64 MiB "
        "objects without a limit, ~310 MiB with 256 MiB). At least 64 MiB.",
    )
    audit_interval_seconds: float = Field(
        default=60.0, gt=0, description="Seconds between two audits by the supervised auditor."
    )
    grace_seconds: float = Field(
        default=60.0,
        ge=0,
        description="A difference younger than this is PENDING (replication in flight); "
        "older ones are FAILED and repaired.",
    )
    repair: bool = Field(
        default=True,
        description="The supervised auditor repairs FAILED objects (last writer wins).",
    )
    tombstone_lookback_seconds: float = Field(
        default=7 * 86_400.0,
        ge=0,
        description="How far back the auditor reads each filer's metadata log for deletes "
        "when a key is missing on one side.",
    )

    @model_validator(mode="after")
    def _check(self) -> ReplicationConfig:
        if self.memory_limit < 64 * MiB:
            raise ConfigPathError.at("MemoryLimit", "at least 64 MiB")
        problems = _duplicates((r.id for r in self.rules), "Rules", "rule", key_name="ID")
        pairs: dict[frozenset[str], str] = {}
        for i, rule in enumerate(self.rules):
            pair = frozenset((rule.source.region, rule.destination.region))
            if len(pair) < 2:
                problems.append((("Rules", i), "Source and Destination are in one region"))
            elif pair in pairs:
                problems.append(
                    (("Rules", i), f"rule {pairs[pair]!r} already replicates these regions")
                )
            pairs.setdefault(pair, rule.id)
        if problems:
            raise ConfigPathError(problems)
        return self


class StorageConfig(CfModel):
    """The storage regions of a stack."""

    regions: CfList[RegionConfig] = Field(default=(), description="Storage regions.")
    replication: ReplicationConfig = Field(
        default_factory=ReplicationConfig,
        description="Replication rules between regions and the auditor's settings.",
    )

    @model_validator(mode="after")
    def _check(self) -> StorageConfig:
        problems = _duplicates((r.name for r in self.regions), "Regions", "region")
        problems += self._replication_problems()
        owners: dict[str, str] = {}
        for i, region in enumerate(self.regions):
            for j, bucket in enumerate(region.buckets):
                if bucket.name in owners and owners[bucket.name] != region.name:
                    problems.append(
                        (
                            ("Regions", i, "Buckets", j, "Name"),
                            f"{bucket.name!r} is already a bucket of {owners[bucket.name]} "
                            "(bucket names are global in S3)",
                        )
                    )
                owners.setdefault(bucket.name, region.name)
        if problems:
            raise ConfigPathError(problems)
        return self

    def region(self, name: str) -> RegionConfig:
        for region in self.regions:
            if region.name == name:
                return region
        raise KeyError(name)

    def enabled_rules(self) -> list[ReplicationRule]:
        return [r for r in self.replication.rules if r.status == "Enabled"]

    def _replication_problems(self) -> list[tuple[tuple[PathPart, ...], str]]:
        regions = {r.name: r for r in self.regions}
        problems: list[tuple[tuple[PathPart, ...], str]] = []
        for i, rule in enumerate(self.replication.rules):
            for side, end in (("Source", rule.source), ("Destination", rule.destination)):
                where: tuple[PathPart, ...] = ("Replication", "Rules", i, side)
                region = regions.get(end.region)
                if region is None:
                    problems.append(((*where, "Region"), f"{end.region!r} is not a listed region"))
                elif not region.managed:
                    problems.append(
                        (
                            (*where, "Region"),
                            f"{end.region!r} is external: filer.sync needs managed stores "
                            "(replicate external buckets with the store's own replication)",
                        )
                    )
                elif end.bucket not in {b.name for b in region.buckets}:
                    problems.append(
                        ((*where, "Bucket"), f"{end.bucket!r} is not a bucket of {end.region}")
                    )
        return problems


def _endpoint_problem(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an http:// or https:// URL"
    if parts.query or parts.fragment or parts.path not in ("", "/"):
        return f"{url!r}: give only scheme, host and port"
    return None


def _duplicates(
    names: Iterable[str], key: str, what: str, key_name: str = "Name"
) -> list[tuple[tuple[PathPart, ...], str]]:
    seen: set[str] = set()
    out: list[tuple[tuple[PathPart, ...], str]] = []
    for i, name in enumerate(names):
        if name in seen:
            out.append(((key, i, key_name), f"{what} {name!r} is listed twice"))
        seen.add(name)
    return out


DEFAULT_REGIONS = (("ap-northeast-2", "Seoul"), ("sa-east-1", "São Paulo"))


def media_bucket_name(region: str) -> str:
    return f"mediahub-{region}"


def default_storage(app_origins: Iterable[str]) -> StorageConfig:
    """The demo stack's regions (the seed's Seoul and São Paulo), each with its media bucket:
    CORS for the app's origins (browser uploads read ETag for multipart), public read on
    `public/` only (the seed's bucket policy let anyone read and write everything)."""
    cors = {
        "AllowedOrigins": list(app_origins),
        "AllowedMethods": ["GET", "HEAD", "PUT", "POST"],
        "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag"],
        "MaxAgeSeconds": 3600,
    }
    regions = [
        {
            "Name": name,
            "DisplayName": display,
            "Buckets": [
                {
                    "Name": media_bucket_name(name),
                    "CORSRules": [cors] if cors["AllowedOrigins"] else [],
                    "PublicReadPrefixes": ["public/"],
                }
            ],
        }
        for name, display in DEFAULT_REGIONS
    ]
    (first, _), (second, _) = DEFAULT_REGIONS
    rule = {
        "ID": "mediahub",
        "Source": {"Region": first, "Bucket": media_bucket_name(first)},
        "Destination": {"Region": second, "Bucket": media_bucket_name(second)},
    }
    return parse_storage({"Regions": regions, "Replication": {"Rules": [rule]}}, "default storage")


def parse_storage(data: object, source: str) -> StorageConfig:
    """Validate parsed YAML/JSON into a StorageConfig; every problem is one line with its path."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: the top level must be a mapping with a 'Regions' list")
    try:
        return StorageConfig.model_validate(data)
    except ValidationError as exc:
        raise config_error(exc, source) from None


def load_storage(path: Path) -> StorageConfig:
    """Load a storage config from a `.yaml`/`.yml`/`.json` file; raises ConfigError."""
    source = str(path)
    if path.suffix.lower() not in (".yaml", ".yml", ".json"):
        raise ConfigError(f"{source}: use a .yaml, .yml or .json file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{source}: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read: {exc.strerror or exc}") from None
    data = _read_json(text, source) if path.suffix.lower() == ".json" else _read_yaml(text, source)
    return parse_storage(data, source)
