"""CloudFront's API DistributionConfig in, OpenFront's DistributionConfig model out, and back.

What clients send is CloudFront's whole document: Terraform and ``get → edit → update`` round
trips carry every field the API returns. Fields OpenFront acts on go to the model (which
validates them). Fields that change nothing here (price class, logging bucket, IPv6 flag, TLS
certificate settings) are kept and echoed. Fields that would change behaviour OpenFront does not
have are refused with InvalidArgument unless they carry their empty value, so a config never
silently means less than it says. Legacy cache settings (ForwardedValues, MinTTL, DefaultTTL,
MaxTTL) become an inline cache policy (plus an origin request policy where they forwarded more
than the key holds).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from openfront.config import DistributionConfig, OpenFrontConfig
from openfront.config.load import config_error
from openfront.control.awsmodel import service_model
from openfront.control.errors import ApiError
from openfront.control.resources import Account, Resolved, resolve
from openfront.control.xmlcodec import conform

# Accepted with any value: they describe billing, logging or TLS choices an OpenFront edge makes
# from its own settings.
ANY_VALUE = frozenset(
    {
        "PriceClass",
        "HttpVersion",
        "IsIPV6Enabled",
        "Logging",
        "ViewerCertificate",
        "OriginSslProtocols",
        "OriginShield",
        "IpAddressType",
        "OriginHttpVersion",
        "ConnectionMode",
    }
)
EMPTY_MEANS_UNSET = ("CachePolicyId", "OriginRequestPolicyId", "ResponseHeadersPolicyId")
EDGE_CHECK_ID = "EVALIDATE"
LEGACY_KEYS = ("ForwardedValues", "MinTTL", "DefaultTTL", "MaxTTL")
LEGACY_POLICY_NAME = "legacy-cache-settings"
MAX_ORIGINS = 25
MAX_BEHAVIORS = 25
MAX_ORIGIN_GROUPS = 10
MAX_CNAMES = 100
_CODE_IN_MESSAGE = re.compile(r"\b([A-Z][A-Za-z]+): ")

# What GetDistributionConfig shows for keys a request left out (CloudFront's own defaults).
TOP_DEFAULTS: dict[str, Any] = {
    "Logging": {"Enabled": False, "IncludeCookies": False, "Bucket": "", "Prefix": ""},
    "PriceClass": "PriceClass_All",
    "ViewerCertificate": {
        "CloudFrontDefaultCertificate": True,
        "SSLSupportMethod": "vip",
        "MinimumProtocolVersion": "TLSv1",
        "CertificateSource": "cloudfront",
    },
    "WebACLId": "",
    "HttpVersion": "http2",
    "IsIPV6Enabled": True,
    "Staging": False,
    "ContinuousDeploymentPolicyId": "",
}
BEHAVIOR_DEFAULTS: dict[str, Any] = {
    "TrustedSigners": {"Enabled": False, "Quantity": 0},
    "TrustedKeyGroups": {"Enabled": False, "Quantity": 0},
    "SmoothStreaming": False,
    "LambdaFunctionAssociations": {"Quantity": 0},
    "FunctionAssociations": {"Quantity": 0},
    "FieldLevelEncryptionId": "",
}
ORIGIN_DEFAULTS: dict[str, Any] = {"OriginShield": {"Enabled": False}, "OriginAccessControlId": ""}


def validate_config(doc: Mapping[str, Any], account: Account | None = None) -> DistributionConfig:
    """The model for an API document, or the ApiError CloudFront would answer with."""
    return checked_config(doc, account or Account())[0]


def checked_config(doc: Mapping[str, Any], account: Account) -> tuple[DistributionConfig, Resolved]:
    """The model and the account resources it uses, or the ApiError CloudFront answers with."""
    model_input = copy.deepcopy(dict(doc))
    for behavior in _behaviors(model_input):
        for key in EMPTY_MEANS_UNSET:
            if behavior.get(key) == "":
                del behavior[key]
        _translate_legacy(behavior)
    for _ in range(8):  # each round can only uncover keys below the ones it removed
        try:
            model = DistributionConfig.model_validate(model_input)
        except ValidationError as exc:
            _drop_inert_extras(exc, model_input)
            continue
        _check_quotas(model)
        resolved = resolve(model, account)
        _check_as_edge_config(model, resolved)
        return model, resolved
    raise ApiError("InvalidArgument", "the DistributionConfig nests unsupported keys too deeply")


def _behaviors(doc: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    if isinstance(doc.get("DefaultCacheBehavior"), dict):
        found.append(doc["DefaultCacheBehavior"])
    behaviors = doc.get("CacheBehaviors")
    if isinstance(behaviors, dict):
        found.extend(b for b in behaviors.get("Items") or () if isinstance(b, dict))
    return found


def _drop_inert_extras(exc: ValidationError, model_input: dict[str, Any]) -> None:
    """Remove unknown keys that carry nothing; raise for the first error of any other kind."""
    extras = [e for e in exc.errors() if e["type"] == "extra_forbidden"]
    if not extras:
        raise _api_error(exc) from None
    for err in extras:
        loc = tuple(err["loc"])
        if loc[-1] not in ANY_VALUE and not _inert(err["input"]):
            where = ".".join(str(p) for p in loc)
            msg = f"DistributionConfig: {where}: OpenFront does not support this setting yet"
            raise ApiError("InvalidArgument", msg) from None
        _remove(model_input, loc)


def _inert(value: Any) -> bool:
    if value is None or value is False or value == "" or value == []:
        return True
    if isinstance(value, Mapping):
        return all((k == "Quantity" and v == 0) or _inert(v) for k, v in value.items())
    return False


def _remove(doc: dict[str, Any], loc: tuple[Any, ...]) -> None:
    node: Any = doc
    try:
        for part in loc[:-1]:
            if isinstance(part, int) and isinstance(node, Mapping):
                node = node["Items"]  # the model saw the list inside {Quantity, Items}
            node = node[part]
        del node[loc[-1]]
    except (KeyError, IndexError, TypeError):
        where = ".".join(str(p) for p in loc)
        raise ApiError("InvalidArgument", f"DistributionConfig: {where}: unknown key") from None


def _api_error(exc: ValidationError) -> ApiError:
    message = str(config_error(exc, "DistributionConfig")).replace("\n", "; ")
    message = message.replace("distributions[0].DistributionConfig.", "")
    errors = service_model()["shapes"]
    for code in _CODE_IN_MESSAGE.findall(message):
        if "error" in errors.get(code, {}):
            return ApiError(code, message)
    return ApiError("InvalidArgument", message)


# --- legacy cache settings ----------------------------------------------------------------------


def _items(value: Any) -> list[Any]:
    if isinstance(value, Mapping):
        return list(value.get("Items") or ())
    return list(value or ())


def _translate_legacy(behavior: dict[str, Any]) -> None:
    legacy = {k: behavior.pop(k) for k in LEGACY_KEYS if k in behavior}
    if not legacy:
        return
    if behavior.get("CachePolicyId"):
        if "ForwardedValues" in legacy or any(legacy.get(k) for k in LEGACY_KEYS[1:]):
            msg = "ForwardedValues and MinTTL/DefaultTTL/MaxTTL cannot be used with a CachePolicyId"
            raise ApiError("InvalidArgument", msg)
        return
    fv = legacy.get("ForwardedValues") or {}
    headers = _items(fv.get("Headers"))
    cookie_pref = fv.get("Cookies") or {}
    forward = cookie_pref.get("Forward", "none")
    cookies: dict[str, Any] = {"CookieBehavior": forward}
    if forward == "whitelist":
        cookies["Cookies"] = _items(cookie_pref.get("WhitelistedNames"))
    query_string = bool(fv.get("QueryString", False))
    qs_keys = _items(fv.get("QueryStringCacheKeys"))
    qs_behavior = ("whitelist" if qs_keys else "all") if query_string else "none"
    query_strings: dict[str, Any] = {"QueryStringBehavior": qs_behavior}
    if qs_behavior == "whitelist":
        query_strings["QueryStrings"] = qs_keys
    if "*" in headers:
        # Forwarding every header made CloudFront cache nothing.
        behavior["CachePolicyConfig"] = {
            "Name": LEGACY_POLICY_NAME,
            "MinTTL": 0,
            "DefaultTTL": 0,
            "MaxTTL": 0,
        }
        behavior["OriginRequestPolicyConfig"] = {
            "Name": LEGACY_POLICY_NAME,
            "HeadersConfig": {"HeaderBehavior": "allViewer"},
            "CookiesConfig": cookies,
            "QueryStringsConfig": {"QueryStringBehavior": "all" if query_string else "none"},
        }
        return
    compress = bool(behavior.get("Compress", False))
    header_config: dict[str, Any] = {"HeaderBehavior": "whitelist" if headers else "none"}
    if headers:
        header_config["Headers"] = headers
    behavior["CachePolicyConfig"] = {
        "Name": LEGACY_POLICY_NAME,
        "MinTTL": legacy.get("MinTTL", 0),
        "DefaultTTL": legacy.get("DefaultTTL", 86_400),
        "MaxTTL": legacy.get("MaxTTL", 31_536_000),
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": compress,
            "EnableAcceptEncodingBrotli": compress,
            "HeadersConfig": header_config,
            "CookiesConfig": cookies,
            "QueryStringsConfig": query_strings,
        },
    }
    if qs_behavior == "whitelist":
        # Legacy settings sent every query string to the origin, keyed on the listed ones.
        behavior["OriginRequestPolicyConfig"] = {
            "Name": LEGACY_POLICY_NAME,
            "QueryStringsConfig": {"QueryStringBehavior": "all"},
        }


# --- checks the model alone cannot make ---------------------------------------------------------


def _check_quotas(model: DistributionConfig) -> None:
    quotas = (
        ("TooManyOrigins", len(model.origins), MAX_ORIGINS, "origins"),
        ("TooManyCacheBehaviors", len(model.cache_behaviors), MAX_BEHAVIORS, "cache behaviors"),
        (
            "TooManyOriginGroupsPerDistribution",
            len(model.origin_groups),
            MAX_ORIGIN_GROUPS,
            "origin groups",
        ),
        ("TooManyDistributionCNAMEs", len(model.aliases), MAX_CNAMES, "CNAMEs"),
    )
    for code, count, limit, what in quotas:
        if count > limit:
            raise ApiError(code, f"{count} {what}; a distribution has at most {limit}")


def _check_as_edge_config(model: DistributionConfig, resolved: Resolved) -> None:
    """Validate the distribution as an edge will load it, with the resources it uses."""
    entry = {"Id": EDGE_CHECK_ID, "DistributionConfig": model_document(model)}
    try:
        OpenFrontConfig.model_validate({**resolved.entries, "distributions": [entry]})
    except ValidationError as exc:
        raise _api_error(exc) from None


# --- the document GetDistributionConfig returns -------------------------------------------------


def model_document(model: DistributionConfig) -> dict[str, Any]:
    """The model's own dump with CloudFront's key names: what an edge loads."""
    dumped: dict[str, Any] = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped


def api_document(doc: Mapping[str, Any], model: DistributionConfig) -> dict[str, Any]:
    """What the API shows: the request, with the model's values and CloudFront's defaults."""
    merged = _merge(
        conform(doc, "DistributionConfig"), conform(model_document(model), "DistributionConfig")
    )
    for key, value in TOP_DEFAULTS.items():
        merged.setdefault(key, copy.deepcopy(value))
    for behavior in _behaviors(merged):
        for key, value in BEHAVIOR_DEFAULTS.items():
            behavior.setdefault(key, copy.deepcopy(value))
    for origin in merged["Origins"].get("Items", ()):
        for key, value in ORIGIN_DEFAULTS.items():
            origin.setdefault(key, copy.deepcopy(value))
    result: dict[str, Any] = conform(merged, "DistributionConfig")
    return result


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            out[key] = _merge(base[key], value) if key in base else value
        return out
    if isinstance(base, list) and isinstance(over, list) and len(base) == len(over):
        return [_merge(b, o) for b, o in zip(base, over, strict=True)]
    return over
