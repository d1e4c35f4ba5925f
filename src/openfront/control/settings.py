"""Settings of `openfront api`; the command's flags map onto these fields."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class ApiSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    listen: str = Field(
        default="127.0.0.1:9000", description="HOST:PORT the CloudFront API listens on."
    )
    data_dir: Path = Field(
        default=Path("data"),
        description="Folder for the SQLite database (control.db) and the key file that "
        "encrypts access key secrets (control.key).",
    )
    db_url: str | None = Field(
        default=None,
        description="Database URL: sqlite:///PATH, postgresql://USER@HOST/DB or "
        "mysql://USER@HOST/DB (MariaDB). Default: SQLite in the data folder.",
    )
    domain_suffix: str = Field(
        default="cloudfront.openfront.local",
        description="Distributions get the domain name `<id in lower case>.<suffix>`.",
    )
    account_id: str = Field(
        default="000000000000",
        pattern=r"^[0-9]{12}$",
        description="The 12-digit account id in ARNs (arn:aws:cloudfront::ACCOUNT:...).",
    )
    max_distributions: int = Field(
        default=200, ge=1, description="TooManyDistributions above this (CloudFront: 200)."
    )
    max_invalidation_paths_in_progress: int = Field(
        default=3000,
        ge=1,
        description="Paths in in-progress invalidations per distribution (CloudFront: 3,000).",
    )
    max_wildcard_paths_in_progress: int = Field(
        default=15,
        ge=1,
        description="Wildcard paths in in-progress invalidations per distribution "
        "(CloudFront: 15).",
    )
    max_body_bytes: int = Field(
        default=1 << 20, ge=1024, description="Largest request body accepted (413 above)."
    )
    max_clock_skew_seconds: int = Field(
        default=900,
        ge=1,
        description="How far a signed request's time may be from the server's "
        "(RequestTimeTooSkewed; AWS allows 15 minutes).",
    )
    complete_immediately: bool = Field(
        default=False,
        description="Report distributions Deployed and invalidations Completed as soon as they "
        "are stored, whatever the edges say (an API whose edges do not follow it).",
    )
    edge_stale_seconds: float = Field(
        default=60.0,
        gt=0,
        description="An edge not heard from for this long is stale: it no longer holds "
        "distributions InProgress or invalidations InProgress.",
    )
    edge_gone_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="An edge not heard from for this long is listed as gone.",
    )
    fleet_poll_seconds: float = Field(
        default=20.0,
        gt=0,
        le=300,
        description="Longest time a long-poll for changes is held open when nothing changes.",
    )
    bus_url: str | None = Field(
        default=None,
        pattern=r"^nats://",
        description="Also publish every change to NATS JetStream at this URL (nats://HOST:PORT), "
        "for edges started with --bus.",
    )
    bus_stream: str = Field(
        default="OPENFRONT_FLEET",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="The JetStream stream the changes go to; subjects "
        "`openfront.<stream in lower case>.config` and `.invalidation`.",
    )
