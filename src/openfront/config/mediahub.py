"""MediaHub's settings: one region's API server (accounts now; uploads, jobs and the app later).

Two regions share one accounts database and one token key, so an account made in Seoul signs
in through São Paulo. Load a file with :func:`load_mediahub_config`; the CLI lays its flags over
it with :func:`override_mediahub`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)

from openfront.config.edge import GiB, KiB, Listen, MiB, Size, TiB
from openfront.errors import ConfigError

Language = Literal["ko", "en", "pt-BR"]
# The seed: the Seoul site is in Korean, the São Paulo one in English.
REGION_LANGUAGES: Mapping[str, Language] = {"ap-northeast-2": "ko", "sa-east-1": "en"}
FALLBACK_LANGUAGE: Language = "en"
DB_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mariadb")
_REGION = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


class MediaHubModel(BaseModel):
    """Base of MediaHub's settings: frozen, unknown keys refused, snake_case keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_region(value: object) -> object:
    if isinstance(value, str) and not _REGION.match(value):
        raise ValueError(f"{value!r} is not a region name such as ap-northeast-2")
    return value


def _check_db_url(value: object) -> object:
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    if isinstance(raw, str):
        scheme = raw.partition("://")[0].partition("+")[0].lower()
        if "://" not in raw or scheme not in DB_SCHEMES:
            # The URL may carry a password: name the scheme only.
            raise ValueError(
                f"database URL scheme {scheme!r} is not supported: use sqlite:///PATH, "
                "postgresql://USER@HOST/DB or mysql://USER@HOST/DB"
            )
    return value


def _check_cidrs(value: object) -> object:
    if isinstance(value, list | tuple):
        for cidr in value:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except (TypeError, ValueError):
                raise ValueError(f"{cidr!r} is not a CIDR such as 10.0.0.0/8") from None
    return value


class PasswordRulesConfig(MediaHubModel):
    """What a new password must be (docs/mediahub.md lists the rules and their messages)."""

    min_length: int = Field(
        default=10,
        ge=8,
        le=128,
        description="Fewest characters (NIST SP 800-63B asks for at least 8).",
    )
    max_length: int = Field(
        default=256,
        ge=64,
        le=4096,
        description="Most characters; bounds the work one request can ask of the hasher "
        "(NIST asks to allow at least 64).",
    )
    min_classes: int = Field(
        default=2,
        ge=1,
        le=4,
        description="Kinds of characters to mix, of lower-case letters, upper-case letters, "
        "digits and everything else; 2 = not all one kind.",
    )


class Argon2Config(MediaHubModel):
    """argon2id parameters for new hashes; a sign-in with an older hash rehashes it."""

    time_cost: int = Field(default=3, ge=1, description="Passes over memory (RFC 9106: 3).")
    memory_kib: int = Field(
        default=64 * 1024, ge=8, description="Memory per hash in KiB (RFC 9106: 64 MiB)."
    )
    parallelism: int = Field(default=4, ge=1, le=255, description="Lanes per hash (RFC 9106: 4).")
    threads: int = Field(
        default=4,
        ge=1,
        description="Hashes computed at the same time; each takes memory_kib while it runs.",
    )

    @model_validator(mode="after")
    def _check(self) -> Argon2Config:
        if self.memory_kib < 8 * self.parallelism:
            raise ValueError("argon2 needs memory_kib of at least 8 × parallelism")
        return self


class TokensConfig(MediaHubModel):
    """Access tokens (JWT, HS256) and refresh tokens (opaque, rotated on use)."""

    key_file: Path | None = Field(
        default=None,
        description="File holding the HMAC key that signs access tokens, made once (mode 0600) "
        "if missing. Regions that accept each other's tokens point at the same key; none = "
        "`DATA/mediahub/token-key`.",
    )
    issuer: str = Field(
        default="openfront-mediahub",
        min_length=1,
        description="The `iss` claim; tokens from another issuer are refused.",
    )
    audience: str = Field(
        default="mediahub",
        min_length=1,
        description="The `aud` claim; tokens for another audience are refused.",
    )
    access_ttl: int = Field(
        default=15 * 60, ge=10, le=24 * 3600, description="Seconds an access token is valid."
    )
    refresh_ttl: int = Field(
        default=30 * 24 * 3600,
        ge=60,
        description="Seconds a refresh token is valid; each refresh issues a new one.",
    )
    leeway: int = Field(
        default=30,
        ge=0,
        le=300,
        description="Seconds of clock difference between regions tolerated on `exp` and `nbf`.",
    )


class SigninLimitsConfig(MediaHubModel):
    """Failed sign-ins allowed per sliding window before 429 with Retry-After."""

    account_failures: int = Field(
        default=5, ge=1, description="Failures per account (or per unknown name) in the window."
    )
    account_window: int = Field(
        default=15 * 60, ge=1, description="Seconds the per-account window spans."
    )
    ip_failures: int = Field(
        default=50,
        ge=1,
        description="Failures per client address (IPv6: per /64) in the window; higher than "
        "per account because offices and mobile carriers share addresses.",
    )
    ip_window: int = Field(
        default=15 * 60, ge=1, description="Seconds the per-address window spans."
    )
    trusted_proxies: Annotated[tuple[str, ...], BeforeValidator(_check_cidrs)] = Field(
        default=(),
        description="CIDRs of proxies (an edge, a load balancer) in front of the API; from "
        "these peers the X-Forwarded-For address is taken as the client's. Empty = never.",
    )


DEFAULT_EXTENSIONS = ("mp4", "m4v", "mov", "mkv", "webm", "avi", "mpg", "mpeg", "ts", "3gp", "ogv")


def _check_endpoint(value: object) -> object:
    if isinstance(value, str):
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http:// or https:// URL")
        if parts.query or parts.fragment or parts.path not in ("", "/"):
            raise ValueError(f"{value!r}: give only scheme, host and port")
    return value


def _check_base_url(value: object) -> object:
    if isinstance(value, str):
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http:// or https:// URL")
        if parts.query or parts.fragment:
            raise ValueError(f"{value!r}: no query or fragment in a base URL")
        return value.rstrip("/")
    return value


class MediaStorageConfig(MediaHubModel):
    """The region's media bucket: where uploads go (docs/storage.md makes one per region)."""

    endpoint: Annotated[str, BeforeValidator(_check_endpoint)] = Field(
        description="S3 endpoint of the region's store, e.g. `http://127.0.0.1:8333`."
    )
    bucket: str = Field(
        min_length=3, max_length=63, description="Media bucket, e.g. `mediahub-ap-northeast-2`."
    )
    credentials_file: Path = Field(
        description="Access key file: a managed region's `DATA/regions/NAME/s3.json` or "
        '`{"AccessKeyId": …, "SecretAccessKey": …}` (mode 0600).'
    )
    signing_region: str | None = Field(
        default=None, description="Region in SigV4 signatures; none = the MediaHub region."
    )
    public_endpoint: Annotated[str | None, BeforeValidator(_check_endpoint)] = Field(
        default=None,
        description="Endpoint browsers reach the store at, used in presigned URLs (the host "
        "is signed); none = `endpoint`.",
    )


class UploadsConfig(MediaHubModel):
    """Upload sizes, types, quotas, presigned URLs, tus staging and cleanup."""

    max_file_size: Size = Field(
        default=20 * GiB, description="Largest video accepted; larger gets 413 (at most 5 TiB)."
    )
    single_put_max: Size = Field(
        default=64 * MiB,
        description="Files up to this size get one presigned PUT; larger ones get presigned "
        "multipart parts.",
    )
    part_size: Size = Field(
        default=16 * MiB,
        description="Preferred multipart part size (presigned parts and tus); raised so a "
        "file has at most 10,000 parts, never under S3's 5 MiB.",
    )
    url_ttl: int = Field(
        default=3600,
        ge=60,
        le=7 * 24 * 3600,
        description="Seconds a presigned URL is valid (SigV4 allows at most 7 days).",
    )
    allowed_extensions: tuple[str, ...] = Field(
        default=DEFAULT_EXTENSIONS,
        min_length=1,
        description="File name extensions accepted (lower case, no dot); the content type "
        "must also be `video/*`.",
    )
    quota_bytes: Size = Field(
        default=50 * GiB,
        description="Bytes of videos one user may keep, unfinished uploads included; 0 = no limit.",
    )
    quota_videos: int = Field(
        default=200,
        ge=0,
        description="Videos one user may keep, unfinished uploads included; 0 = no limit.",
    )
    abandon_after: int = Field(
        default=24 * 3600,
        ge=60,
        description="Seconds after which an unfinished upload is deleted (its multipart "
        "upload aborted, its tus staging file and partial object removed, its row dropped).",
    )
    cleanup_interval: int = Field(
        default=600, ge=1, description="Seconds between two sweeps for abandoned uploads."
    )
    cors_origins: tuple[str, ...] = Field(
        default=(),
        description="Origins of web apps that may call `/videos` and `/uploads` from a browser "
        "(e.g. `http://127.0.0.1:5173`; `*` = any); none = same origin only.",
    )
    tus_dir: Path | None = Field(
        default=None,
        description="Folder for tus staging files (bytes not yet in a multipart part); none "
        "= `DATA/mediahub/tus`.",
    )

    @model_validator(mode="after")
    def _check(self) -> UploadsConfig:
        if self.max_file_size > 5 * TiB:
            raise ValueError("max_file_size: at most 5 TiB (the largest S3 object)")
        if self.part_size < 5 * MiB or self.part_size > 5 * GiB:
            raise ValueError("part_size: from 5 MiB to 5 GiB (S3's part limits)")
        if self.single_put_max > 5 * GiB:
            raise ValueError("single_put_max: at most 5 GiB (the largest single PUT)")
        if self.abandon_after < self.url_ttl:
            # An upload may legitimately go on as long as its presigned URLs are valid.
            raise ValueError("abandon_after: at least url_ttl")
        for ext in self.allowed_extensions:
            if not re.fullmatch(r"[a-z0-9]{1,10}", ext):
                raise ValueError(f"allowed_extensions: {ext!r} is not a lower-case extension")
        return self


X264Preset = Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"]


class ProcessingConfig(MediaHubModel):
    """Processing jobs: the worker, its leases and retries (docs/mediahub.md#processing)."""

    worker: bool = Field(
        default=True,
        description="Run a worker inside the API server (the single-process demo); off = run "
        "`openfront mediahub worker` processes instead.",
    )
    concurrency: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Videos one worker transcodes at once; each ffmpeg uses every core.",
    )
    lease: float = Field(
        default=60.0,
        ge=1.0,
        le=3600.0,
        description="Seconds a worker holds a job without renewing (it renews every third of "
        "that); a killed worker's job is taken over this long after its last renewal.",
    )
    poll_interval: float = Field(
        default=2.0,
        gt=0.0,
        le=300.0,
        description="Seconds between two looks for due jobs (an upload completed in the same "
        "process wakes the in-process worker at once).",
    )
    max_attempts: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Attempts before a video is marked failed; a refused file is never retried.",
    )
    retry_base: float = Field(
        default=30.0,
        ge=0.0,
        description="Seconds before the second attempt; doubled for each further one, with "
        "up to half taken off at random.",
    )
    retry_cap: float = Field(
        default=3600.0, ge=0.0, description="Longest wait between two attempts, in seconds."
    )
    preset: X264Preset = Field(
        default="veryfast", description="x264 preset (docs/media-processing.md)."
    )
    timeout: float | None = Field(
        default=None,
        gt=0.0,
        description="Seconds one transcode may take; none = 120 s plus 10 s per second of video.",
    )
    work_dir: Path | None = Field(
        default=None,
        description="Folder for downloads and ffmpeg output while a job runs (removed after "
        "each job); none = `DATA/mediahub/work`.",
    )


class PlaybackConfig(MediaHubModel):
    """Playback through the edge: the CDN in front of the region's bucket, and signing."""

    cdn_url: Annotated[str | None, BeforeValidator(_check_base_url)] = Field(
        default=None,
        description="Base URL of the edge distribution whose origin is the region's media "
        "bucket, e.g. `https://localhost:8443` (a path is allowed: `https://cdn.example/media`); "
        "none = videos have no playback URLs.",
    )
    key_pair_id: str | None = Field(
        default=None,
        min_length=1,
        description="CloudFront public key id (Key-Pair-Id) of a key in the distribution's "
        "trusted key group, for private videos.",
    )
    private_key_file: Path | None = Field(
        default=None,
        description="PEM private key (RSA or EC P-256) matching `key_pair_id`; kept out of logs.",
    )
    ttl: int = Field(
        default=3600,
        ge=60,
        le=7 * 24 * 3600,
        description="Seconds signed cookies and URLs for a private video stay valid.",
    )
    cookie_domain: str | None = Field(
        default=None,
        description="`Domain` of the signed cookies, when the API and the CDN are sibling "
        "hosts (`example.com` for api.example.com and cdn.example.com); none = the API's host.",
    )

    @model_validator(mode="after")
    def _check(self) -> PlaybackConfig:
        if (self.key_pair_id is None) != (self.private_key_file is None):
            raise ValueError("give key_pair_id and private_key_file together")
        return self


class MediaHubConfig(MediaHubModel):
    """One region's MediaHub API server."""

    region: Annotated[str, BeforeValidator(_check_region)] = Field(
        default="ap-northeast-2",
        description="Region name (the seed's: ap-northeast-2 Seoul, sa-east-1 São Paulo).",
    )
    listen: Listen = Field(
        default="127.0.0.1:8200", description="HOST:PORT of the API (port 0 = any free)."
    )
    data_dir: Path = Field(
        default=Path("data"),
        description="State folder; MediaHub keeps its files under `DATA/mediahub/`.",
    )
    database_url: Annotated[SecretStr | None, BeforeValidator(_check_db_url)] = Field(
        default=None,
        description="SQLAlchemy-style URL of the accounts database shared by all regions: "
        "`postgresql://…` (psycopg), `mysql://…` or `mariadb://…` (PyMySQL), `sqlite:///PATH`; "
        "none = SQLite at `DATA/mediahub/mediahub.db`. Never logged with its password.",
    )
    default_language: Language | None = Field(
        default=None,
        description="Language of the region's site; none = by region (ap-northeast-2 `ko`, "
        "sa-east-1 `en`, others `en`).",
    )
    max_body_bytes: Size = Field(
        default=64 * KiB, description="Largest JSON request body; larger gets 413."
    )
    passwords: PasswordRulesConfig = Field(
        default_factory=PasswordRulesConfig, description="Password rules."
    )
    argon2: Argon2Config = Field(default_factory=Argon2Config, description="Password hashing.")
    tokens: TokensConfig = Field(default_factory=TokensConfig, description="Tokens.")
    signin_limits: SigninLimitsConfig = Field(
        default_factory=SigninLimitsConfig, description="Rate limits on failed sign-ins."
    )
    storage: MediaStorageConfig | None = Field(
        default=None,
        description="The region's media bucket; none = the upload routes answer 503.",
    )
    uploads: UploadsConfig = Field(
        default_factory=UploadsConfig, description="Upload limits, quotas and cleanup."
    )
    processing: ProcessingConfig = Field(
        default_factory=ProcessingConfig, description="Processing jobs and workers."
    )
    playback: PlaybackConfig = Field(
        default_factory=PlaybackConfig, description="Playback URLs and signed cookies."
    )

    @property
    def home(self) -> Path:
        """MediaHub's folder under the data dir."""
        return self.data_dir / "mediahub"

    @property
    def language(self) -> Language:
        if self.default_language is not None:
            return self.default_language
        return REGION_LANGUAGES.get(self.region, FALLBACK_LANGUAGE)

    @property
    def token_key_file(self) -> Path:
        return self.tokens.key_file or self.home / "token-key"

    @property
    def tus_dir(self) -> Path:
        return self.uploads.tus_dir or self.home / "tus"

    @property
    def work_dir(self) -> Path:
        return self.processing.work_dir or self.home / "work"


def _message(err: Mapping[str, object]) -> str:
    msg = str(err["msg"]).removeprefix("Value error, ")
    loc = err.get("loc") or ()
    value = err.get("input")
    secret = isinstance(loc, tuple) and "database_url" in loc
    if not secret and isinstance(value, str | int | float) and len(repr(value)) <= 60:
        if repr(value) not in msg:
            msg += f" (got {value!r})"
    return msg


def mediahub_config(data: object, source: str) -> MediaHubConfig:
    """Validate parsed data into a MediaHubConfig; ConfigError names every problem's key."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: the top level must be a mapping of keys to values")
    try:
        return MediaHubConfig.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"{source}: {'.'.join(str(p) for p in e['loc']) or '(top level)'}: {_message(e)}"
            for e in exc.errors()
        ]
        raise ConfigError("\n".join(lines)) from None


def load_mediahub_config(path: Path) -> MediaHubConfig:
    """A ``.yaml``/``.yml``/``.json`` file of MediaHubConfig keys; raises ConfigError."""
    from openfront.config.load import _read_json, _read_yaml

    source = str(path)
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".json"):
        raise ConfigError(f"{source}: use a .yaml, .yml or .json file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{source}: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read: {exc.strerror or exc}") from None
    data = _read_json(text, source) if suffix == ".json" else _read_yaml(text, source)
    return mediahub_config(data, source)


def override_mediahub(cfg: MediaHubConfig, given: Mapping[str, object]) -> MediaHubConfig:
    """``cfg`` with top-level settings replaced (the CLI's flags), validated again."""
    data = cfg.model_dump(exclude_unset=True)
    if cfg.database_url is not None:
        data["database_url"] = cfg.database_url.get_secret_value()
    return mediahub_config({**data, **given}, "command line")
