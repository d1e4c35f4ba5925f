"""Private content: PublicKeys and KeyGroups, and the references to them from behaviors."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import Field, model_validator

from openfront.config.distribution import CacheBehavior, DefaultCacheBehavior, DistributionConfig
from openfront.config.policies import CfList, CfModel, ConfigPathError, PathPart
from openfront.signing import load_public_key

Problems = list[tuple[tuple[PathPart, ...], str]]

_KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_KEY_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
MAX_KEYS_PER_GROUP = 5  # CloudFront quota


def _name_problem(name: str) -> str | None:
    return None if _KEY_NAME.match(name) else "use 1-128 letters, digits, '_', '-'"


def _pem_problem(pem: str) -> str | None:
    if "PRIVATE KEY" in pem:
        return "this is a private key: give the public key (keep the private one secret)"
    try:
        load_public_key(pem)
    except ValueError as exc:
        reason = str(exc).split(": ", 1)[0]  # cryptography's detail is noise in a config error
        return f"{reason} (expected -----BEGIN PUBLIC KEY----- PEM text)"
    return None


class PublicKeyConfig(CfModel):
    name: str = Field(description="Unique name (1-128 letters, digits, `_`, `-`).")
    encoded_key: str = Field(
        description="The public key, PEM text (`-----BEGIN PUBLIC KEY-----`); RSA or EC P-256."
    )
    comment: str = Field(default="", max_length=128, description="Free text.")

    @model_validator(mode="after")
    def _check(self) -> PublicKeyConfig:
        problems: Problems = []
        if (msg := _name_problem(self.name)) is not None:
            problems.append((("Name",), msg))
        if (msg := _pem_problem(self.encoded_key)) is not None:
            problems.append((("EncodedKey",), msg))
        if problems:
            raise ConfigPathError(problems)
        return self


class PublicKey(CfModel):
    id: str = Field(description="The Key-Pair-Id signers use, e.g. K2JCJMDEHXQW5F; unique.")
    public_key_config: PublicKeyConfig = Field(description="The key.")

    @model_validator(mode="after")
    def _check(self) -> PublicKey:
        if not _KEY_ID.match(self.id):
            raise ConfigPathError.at("Id", "use 1-64 letters, digits, '.', '_', '-'")
        return self


class KeyGroupConfig(CfModel):
    name: str = Field(description="Unique name (1-128 letters, digits, `_`, `-`).")
    items: CfList[str] = Field(description="Ids of entries in PublicKeys (1 to 5).")
    comment: str = Field(default="", max_length=128, description="Free text.")

    @model_validator(mode="after")
    def _check(self) -> KeyGroupConfig:
        problems: Problems = []
        if (msg := _name_problem(self.name)) is not None:
            problems.append((("Name",), msg))
        if not 1 <= len(self.items) <= MAX_KEYS_PER_GROUP:
            msg = f"1 to {MAX_KEYS_PER_GROUP} public key Ids (got {len(self.items)})"
            problems.append((("Items",), msg))
        elif len(set(self.items)) != len(self.items):
            problems.append((("Items",), "a public key is listed twice"))
        if problems:
            raise ConfigPathError(problems)
        return self


class KeyGroup(CfModel):
    id: str = Field(description="Unique id, referenced by behaviors' TrustedKeyGroups.")
    key_group_config: KeyGroupConfig = Field(description="The group.")


def _unique(key: str, field: tuple[str, ...], values: list[str], out: Problems) -> set[str]:
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            out.append(((key, i, *field), f"{value!r} is repeated"))
        seen.add(value)
    return seen


def key_problems(
    public_keys: Sequence[PublicKey],
    key_groups: Sequence[KeyGroup],
    distributions: Sequence[DistributionConfig],
) -> Problems:
    """Ids and names are unique; groups name declared keys; behaviors name declared groups."""
    problems: Problems = []
    key_ids = _unique("PublicKeys", ("Id",), [k.id for k in public_keys], problems)
    names = [k.public_key_config.name for k in public_keys]
    _unique("PublicKeys", ("PublicKeyConfig", "Name"), names, problems)
    group_ids = _unique("KeyGroups", ("Id",), [g.id for g in key_groups], problems)
    names = [g.key_group_config.name for g in key_groups]
    _unique("KeyGroups", ("KeyGroupConfig", "Name"), names, problems)
    for i, g in enumerate(key_groups):
        for j, key_id in enumerate(g.key_group_config.items):
            if key_id not in key_ids:
                msg = f"NoSuchPublicKey: no PublicKeys entry has Id {key_id!r}"
                problems.append((("KeyGroups", i, "KeyGroupConfig", "Items", j), msg))
    for i, dc in enumerate(distributions):
        behaviors: list[tuple[tuple[PathPart, ...], CacheBehavior | DefaultCacheBehavior]] = [
            (("DefaultCacheBehavior",), dc.default_cache_behavior),
            *((("CacheBehaviors", j), b) for j, b in enumerate(dc.cache_behaviors)),
        ]
        for where, b in behaviors:
            trusted = b.trusted_key_groups
            for j, group_id in enumerate(trusted.items if trusted else ()):
                if group_id not in group_ids:
                    path = ("distributions", i, "DistributionConfig", *where, "TrustedKeyGroups")
                    msg = f"NoSuchResource: no KeyGroups entry has Id {group_id!r}"
                    problems.append(((*path, "Items", j), msg))
    return problems
