"""Origin Access Control (CloudFront's OriginAccessControl objects) and S3 origin domain names."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field

from openfront.config.policies import CfModel

SigningBehavior = Literal["always", "never", "no-override"]

# CloudFront's S3 REST endpoints: BUCKET.s3.REGION.amazonaws.com, the legacy BUCKET.s3-REGION
# form and the region-less BUCKET.s3.amazonaws.com (us-east-1).
_S3_DOMAIN = re.compile(
    r"^(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\.s3(?:[.-](?P<region>[a-z]{2}(?:-[a-z]+)+-\d{1,2}))?"
    r"\.amazonaws\.com(?:\.cn)?$"
)


def parse_s3_domain(domain: str) -> tuple[str, str] | None:
    """(bucket, region) of an S3 bucket endpoint name, or None when ``domain`` is not one."""
    m = _S3_DOMAIN.match(domain.lower().rstrip("."))
    if m is None:
        return None
    return m.group("bucket"), m.group("region") or "us-east-1"


class OriginAccessControlConfig(CfModel):
    name: str = Field(
        min_length=1, max_length=64, description="A name for the origin access control."
    )
    description: str = Field(default="", max_length=256, description="Free text.")
    signing_protocol: Literal["sigv4"] = Field(
        default="sigv4", description="How origin requests are signed: `sigv4`, the only value."
    )
    signing_behavior: SigningBehavior = Field(
        default="always",
        description="`always`: sign every origin request, replacing a viewer's Authorization; "
        "`no-override`: sign unless the viewer brought its own credentials (Authorization "
        "header, or, as an OpenFront extension, a presigned URL's X-Amz-Signature), which then "
        "reach the bucket untouched; `never`: do not sign.",
    )
    origin_access_control_origin_type: Literal["s3"] = Field(
        default="s3", description="The kind of origin: `s3`, the only one OpenFront signs for."
    )


class OriginAccessControl(CfModel):
    id: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Id that origins name in OriginAccessControlId, e.g. E2QWRUHAPOMQZL.",
    )
    origin_access_control_config: OriginAccessControlConfig = Field(
        description="How the edge signs requests to the origins that use it."
    )
