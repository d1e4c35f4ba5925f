"""PublicKeys, KeyGroups and TrustedKeyGroups: validated with key paths, compiled to loaded keys."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from openfront.config import compile_all, parse_config
from openfront.errors import ConfigError

D = "distributions[0].DistributionConfig"
Data = dict[str, Any]


def _public_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


PEM_A, PEM_B = _public_pem(), _public_pem()


def _key(key_id: str, pem: str = PEM_A) -> Data:
    return {"Id": key_id, "PublicKeyConfig": {"Name": f"n-{key_id}", "EncodedKey": pem}}


def base() -> Data:
    return {
        "PublicKeys": [_key("K1", PEM_A), _key("K2", PEM_B)],
        "KeyGroups": [
            {"Id": "g1", "KeyGroupConfig": {"Name": "one", "Items": ["K1"]}},
            {"Id": "g2", "KeyGroupConfig": {"Name": "two", "Items": ["K1", "K2"]}},
        ],
        "distributions": [
            {
                "DistributionConfig": {
                    "Origins": [{"Id": "o", "DomainName": "origin.example"}],
                    "DefaultCacheBehavior": {"TargetOriginId": "o"},
                    "CacheBehaviors": [
                        {
                            "PathPattern": "/private/*",
                            "TargetOriginId": "o",
                            "TrustedKeyGroups": {"Enabled": True, "Items": ["g1"]},
                        }
                    ],
                }
            }
        ],
    }


def _behavior(data: Data) -> Data:
    behavior: Data = data["distributions"][0]["DistributionConfig"]["CacheBehaviors"][0]
    return behavior


def test_valid_config_compiles_the_trusted_keys() -> None:
    (dist,) = compile_all(parse_config(base(), "t.yaml"))
    keys = dict(dist.behaviors[0].trusted_keys)
    assert list(keys) == ["K1"]
    assert (
        keys["K1"]
        .public_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        .decode()
        == PEM_A
    )
    assert dist.default_behavior.trusted_keys == ()


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [
        ({"Enabled": True, "Quantity": 2, "Items": ["g1", "g2"]}, ["K1", "K2"]),  # union, once
        (["g2"], ["K1", "K2"]),  # plain list: Enabled
        ({"Enabled": False, "Items": ["g1"]}, []),
        ({"Enabled": False}, []),
    ],
)
def test_trusted_key_groups_forms(trusted: object, expected: list[str]) -> None:
    data = base()
    _behavior(data)["TrustedKeyGroups"] = trusted
    (dist,) = compile_all(parse_config(data, "t.yaml"))
    assert [key_id for key_id, _ in dist.behaviors[0].trusted_keys] == expected


def test_quantity_items_form_at_top_level() -> None:
    data = base()
    data["PublicKeys"] = {"Quantity": 2, "Items": data["PublicKeys"]}
    data["KeyGroups"] = {"Quantity": 2, "Items": data["KeyGroups"]}
    assert len(parse_config(data, "t.yaml").key_groups) == 2


def test_each_pem_is_loaded_once_and_shared() -> None:
    data = base()
    _behavior(data)["TrustedKeyGroups"] = ["g1", "g2"]
    data["distributions"][0]["DistributionConfig"]["DefaultCacheBehavior"]["TrustedKeyGroups"] = [
        "g1"
    ]
    (dist,) = compile_all(parse_config(data, "t.yaml"))
    assert (
        dict(dist.behaviors[0].trusted_keys)["K1"] is dict(dist.default_behavior.trusted_keys)["K1"]
    )


def _set(path: tuple[str | int, ...], value: object) -> Callable[[Data], None]:
    def apply(data: Data) -> None:
        node: Any = data
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return apply


BEHAVIOR = ("distributions", 0, "DistributionConfig", "CacheBehaviors", 0)
PRIVATE_PEM = (
    ec.generate_private_key(ec.SECP256R1())
    .private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    .decode()
)


@pytest.mark.parametrize(
    ("change", "where", "says"),
    [
        (
            _set((*BEHAVIOR, "TrustedKeyGroups", "Items"), ["g1", "nope"]),
            f"{D}.CacheBehaviors[0].TrustedKeyGroups.Items[1]",
            "NoSuchResource: no KeyGroups entry has Id 'nope'",
        ),
        (
            _set(("KeyGroups", 1, "KeyGroupConfig", "Items"), ["K1", "K9"]),
            "KeyGroups[1].KeyGroupConfig.Items[1]",
            "NoSuchPublicKey: no PublicKeys entry has Id 'K9'",
        ),
        (
            _set(("PublicKeys", 1, "PublicKeyConfig", "EncodedKey"), "-----BEGIN PUBLIC KEY-----"),
            "PublicKeys[1].PublicKeyConfig.EncodedKey",
            "not a PEM public key",
        ),
        (
            _set(("PublicKeys", 0, "PublicKeyConfig", "EncodedKey"), PRIVATE_PEM),
            "PublicKeys[0].PublicKeyConfig.EncodedKey",
            "this is a private key",
        ),
        (
            _set(("KeyGroups", 0, "KeyGroupConfig", "Items"), ["K1"] * 6),
            "KeyGroups[0].KeyGroupConfig.Items",
            "1 to 5 public key Ids (got 6)",
        ),
        (
            _set(("KeyGroups", 0, "KeyGroupConfig", "Items"), []),
            "KeyGroups[0].KeyGroupConfig.Items",
            "1 to 5 public key Ids (got 0)",
        ),
        (
            _set(("KeyGroups", 0, "KeyGroupConfig", "Items"), ["K1", "K1"]),
            "KeyGroups[0].KeyGroupConfig.Items",
            "a public key is listed twice",
        ),
        (
            _set((*BEHAVIOR, "TrustedKeyGroups"), {"Enabled": True}),
            f"{D}.CacheBehaviors[0].TrustedKeyGroups.Items",
            "Enabled needs at least one key group Id",
        ),
        (
            _set((*BEHAVIOR, "TrustedKeyGroups"), {"Enabled": True, "Items": ["g1"] * 5}),
            f"{D}.CacheBehaviors[0].TrustedKeyGroups.Items",
            "at most 4 key groups (got 5)",
        ),
        (
            _set(
                (*BEHAVIOR, "TrustedKeyGroups"), {"Enabled": True, "Quantity": 2, "Items": ["g1"]}
            ),
            f"{D}.CacheBehaviors[0].TrustedKeyGroups",
            "InconsistentQuantities",
        ),
        (
            _set((*BEHAVIOR, "TrustedKeyGroups"), {"Items": ["g1"]}),
            f"{D}.CacheBehaviors[0].TrustedKeyGroups.Enabled",
            "required key is missing",
        ),
        (
            _set(("PublicKeys", 1, "Id"), "K1"),
            "PublicKeys[1].Id",
            "'K1' is repeated",
        ),
        (
            _set(("KeyGroups", 1, "KeyGroupConfig", "Name"), "one"),
            "KeyGroups[1].KeyGroupConfig.Name",
            "'one' is repeated",
        ),
        (
            _set(("PublicKeys", 0, "Id"), "bad id"),
            "PublicKeys[0].Id",
            "use 1-64 letters",
        ),
    ],
)
def test_bad_key_config_names_the_path(
    change: Callable[[Data], None], where: str, says: str
) -> None:
    data = copy.deepcopy(base())
    change(data)
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "t.yaml")
    lines = str(caught.value).splitlines()
    assert any(line.startswith(f"t.yaml: {where}: ") and says in line for line in lines), lines
