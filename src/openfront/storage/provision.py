"""Buckets as configured, at every start: create if missing, then CORS and the public-read policy
are made equal to the config. A rule or policy changed by hand is put back, and said so."""

from __future__ import annotations

import json
from typing import Any

from openfront.config.storage import BucketConfig, RegionConfig
from openfront.storage.client import error_code

POLICY_VERSION = "2012-10-17"
_NO_CORS = {"NoSuchCORSConfiguration"}
_NO_POLICY = {"NoSuchBucketPolicy"}
_EXISTS = {"BucketAlreadyOwnedByYou"}


def public_read_policy(bucket: str, prefixes: tuple[str, ...]) -> dict[str, Any] | None:
    """A bucket policy letting anyone GET objects under `prefixes` (and nothing else), or None."""
    if not prefixes:
        return None
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "OpenFrontPublicRead",
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{bucket}/{prefix}*" for prefix in prefixes],
            }
        ],
    }


def _as_list(value: object) -> list[Any]:
    if value is None:
        return []
    return sorted(value) if isinstance(value, list) else [value]


def normalize_policy(policy: dict[str, Any] | None) -> object:
    """Stores echo a policy back in their own shape ("Action": "s3:GetObject" vs a list)."""
    if policy is None:
        return None
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    out = []
    for statement in statements:
        principal = statement.get("Principal")
        if principal == {"AWS": "*"} or principal == {"AWS": ["*"]}:
            principal = "*"
        out.append(
            (
                statement.get("Effect"),
                json.dumps(principal, sort_keys=True),
                _as_list(statement.get("Action")),
                _as_list(statement.get("Resource")),
                json.dumps(statement.get("Condition"), sort_keys=True),
            )
        )
    return sorted(out, key=repr)


def normalize_cors(rules: list[dict[str, Any]]) -> list[tuple[object, ...]]:
    return [
        (
            rule.get("ID"),
            _as_list(rule.get("AllowedOrigins")),
            _as_list(rule.get("AllowedMethods")),
            _as_list(rule.get("AllowedHeaders")),
            _as_list(rule.get("ExposeHeaders")),
            rule.get("MaxAgeSeconds"),
        )
        for rule in rules
    ]


def _current_cors(client: Any, bucket: str) -> list[dict[str, Any]] | None:
    try:
        rules: list[dict[str, Any]] = client.get_bucket_cors(Bucket=bucket)["CORSRules"]
    except Exception as exc:
        if error_code(exc) in _NO_CORS:
            return None
        raise
    return rules


def _current_policy(client: Any, bucket: str) -> dict[str, Any] | None:
    try:
        text = client.get_bucket_policy(Bucket=bucket)["Policy"]
    except Exception as exc:
        if error_code(exc) in _NO_POLICY:
            return None
        raise
    try:
        policy: dict[str, Any] = json.loads(text)
    except ValueError:
        return {"unparsable": text}
    return policy


def _create(client: Any, bucket: str, region: str) -> bool:
    """True if the bucket was created now; us-east-1 is the one region without a constraint."""
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        client.create_bucket(**kwargs)
    except Exception as exc:
        if error_code(exc) in _EXISTS:
            return False
        raise
    return True


def provision_bucket(client: Any, bucket: BucketConfig, region: str) -> list[str]:
    """Make one bucket match its config; returns what was changed, for the operator."""
    notes: list[str] = []
    name = bucket.name
    if _create(client, name, region):
        notes.append(f"{name}: created")
    fresh = bool(notes)

    want_cors = [rule.to_s3() for rule in bucket.cors_rules]
    have_cors = _current_cors(client, name)
    if normalize_cors(want_cors) != normalize_cors(have_cors or []):
        if want_cors:
            client.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": want_cors})
        else:
            client.delete_bucket_cors(Bucket=name)
        if not fresh:
            notes.append(f"{name}: CORS rules differed from the config and were re-applied")

    want_policy = public_read_policy(name, bucket.public_read_prefixes)
    have_policy = _current_policy(client, name)
    if normalize_policy(want_policy) != normalize_policy(have_policy):
        if want_policy is not None:
            client.put_bucket_policy(Bucket=name, Policy=json.dumps(want_policy))
        else:
            client.delete_bucket_policy(Bucket=name)
        if not fresh:
            notes.append(f"{name}: bucket policy differed from the config and was re-applied")
    return notes


def provision_region(client: Any, region: RegionConfig) -> list[str]:
    signing_region = region.signing_region or region.name
    notes: list[str] = []
    for bucket in region.buckets:
        notes += provision_bucket(client, bucket, signing_region)
    return notes
