"""`openfront dist`: distributions through `openfront api` with boto3, like `aws cloudfront`."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any, NoReturn

import click

from openfront.cli._console import EXIT_CONFIG, fail, out

URL_ENV = "OPENFRONT_API_URL"
DEFAULT_URL = "http://127.0.0.1:9000"


def _client(endpoint: str | None) -> Any:
    import boto3

    return boto3.client(
        "cloudfront",
        endpoint_url=endpoint or os.environ.get(URL_ENV) or DEFAULT_URL,
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    )


def _call(endpoint: str | None, operation: str, **params: Any) -> Any:
    """One API call; a CloudFront error, missing credentials or no server are one line."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    cf = _client(endpoint)
    try:
        return getattr(cf, operation)(**params)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        fail(f"{error.get('Code', 'Error')}: {error.get('Message', exc)}")
    except NoCredentialsError:
        fail("no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or a profile)")
    except BotoCoreError as exc:
        fail(str(exc))


def _show(value: Any) -> None:
    out.print_json(json.dumps(value, default=str))


def _bad_file(path: Path, message: str) -> NoReturn:
    fail(f"{path}: {message}", EXIT_CONFIG)


def load_config(path: Path) -> dict[str, Any]:
    """A DistributionConfig from JSON or YAML: bare, or as get-distribution-config prints it.

    Plain lists are accepted where CloudFront wants {Quantity, Items}, as in config files.
    """
    import yaml

    from openfront.control.xmlcodec import conform

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        _bad_file(path, f"cannot read: {exc}")
    if isinstance(data, dict) and "DistributionConfig" in data:
        data = data["DistributionConfig"]
    if not isinstance(data, dict):
        _bad_file(path, "expected a DistributionConfig mapping")
    shaped: dict[str, Any] = conform(data, "DistributionConfig")
    lost = _lost_keys(data, shaped, "")
    if lost:
        _bad_file(path, f"{lost}: not a DistributionConfig key of the CloudFront API")
    return shaped


def _lost_keys(given: Any, shaped: Any, where: str) -> str | None:
    if isinstance(given, list) and isinstance(shaped, dict):
        shaped = shaped.get("Items", [])
    if isinstance(given, dict) and isinstance(shaped, dict):
        for key, value in given.items():
            if value is None:
                continue
            if key not in shaped:
                return f"{where}{key}"
            found = _lost_keys(value, shaped[key], f"{where}{key}.")
            if found:
                return found
    if isinstance(given, list) and isinstance(shaped, list):
        for i, (g, s) in enumerate(zip(given, shaped, strict=False)):
            found = _lost_keys(g, s, f"{where.rstrip('.')}[{i}].")
            if found:
                return found
    return None


endpoint_option = click.option(
    "--endpoint-url",
    "endpoint",
    metavar="URL",
    help=f"The API's URL (default ${URL_ENV}, else {DEFAULT_URL}).",
)
config_option = click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="DistributionConfig as JSON or YAML (plain lists allowed).",
)


@click.group()
def dist() -> None:
    """Create, show, change and delete distributions through `openfront api`.

    Credentials come from the usual AWS places ($AWS_ACCESS_KEY_ID and
    $AWS_SECRET_ACCESS_KEY, or a profile); the API's URL from --endpoint-url or
    $OPENFRONT_API_URL.

    \b
    Examples:
      openfront dist create --config site.yaml
      openfront dist list
      openfront dist update E2QWRUHAPOMQZL --config site.yaml
      openfront dist delete E2QWRUHAPOMQZL --disable
    """


@dist.command("create")
@config_option
@endpoint_option
def dist_create(config_path: Path, endpoint: str | None) -> None:
    """Create a distribution; a missing CallerReference gets a random one."""
    config = load_config(config_path)
    config.setdefault("CallerReference", f"openfront-{uuid.uuid4()}")
    config.setdefault("Comment", "")
    config.setdefault("Enabled", True)
    made = _call(endpoint, "create_distribution", DistributionConfig=config)
    d = made["Distribution"]
    click.echo(f"{d['Id']}  {d['Status']}  {d['DomainName']}  ETag {made['ETag']}")


@dist.command("list")
@endpoint_option
def dist_list(endpoint: str | None) -> None:
    """One line per distribution: Id, Status, Enabled, DomainName, Comment."""
    marker = ""
    while True:
        page = _call(endpoint, "list_distributions", Marker=marker)["DistributionList"]
        for d in page.get("Items", []):
            state = "enabled" if d["Enabled"] else "disabled"
            click.echo(
                f"{d['Id']}  {d['Status']:<10}  {state:<8}  {d['DomainName']}  {d['Comment']}"
            )
        if not page["IsTruncated"]:
            return
        marker = page["NextMarker"]


@dist.command("get")
@click.argument("dist_id", metavar="ID")
@click.option("--config-only", is_flag=True, help="Only the DistributionConfig and its ETag.")
@endpoint_option
def dist_get(dist_id: str, config_only: bool, endpoint: str | None) -> None:
    """Show a distribution (or its config) as JSON."""
    if config_only:
        got = _call(endpoint, "get_distribution_config", Id=dist_id)
        _show({"ETag": got["ETag"], "DistributionConfig": got["DistributionConfig"]})
    else:
        got = _call(endpoint, "get_distribution", Id=dist_id)
        _show({"ETag": got["ETag"], "Distribution": got["Distribution"]})


@dist.command("update")
@click.argument("dist_id", metavar="ID")
@config_option
@click.option("--if-match", metavar="ETAG", help="Expected ETag (default: the current one).")
@endpoint_option
def dist_update(
    dist_id: str, config_path: Path, if_match: str | None, endpoint: str | None
) -> None:
    """Replace a distribution's config. Its CallerReference is kept when the file has none."""
    config = load_config(config_path)
    current = _call(endpoint, "get_distribution_config", Id=dist_id)
    config.setdefault("CallerReference", current["DistributionConfig"]["CallerReference"])
    config.setdefault("Comment", current["DistributionConfig"]["Comment"])
    config.setdefault("Enabled", current["DistributionConfig"]["Enabled"])
    updated = _call(
        endpoint,
        "update_distribution",
        Id=dist_id,
        IfMatch=if_match or current["ETag"],
        DistributionConfig=config,
    )
    click.echo(f"{dist_id}  {updated['Distribution']['Status']}  ETag {updated['ETag']}")


@dist.command("delete")
@click.argument("dist_id", metavar="ID")
@click.option("--disable", is_flag=True, help="Disable it first if it is enabled.")
@click.option("--if-match", metavar="ETAG", help="Expected ETag (default: the current one).")
@endpoint_option
def dist_delete(dist_id: str, disable: bool, if_match: str | None, endpoint: str | None) -> None:
    """Delete a distribution (CloudFront deletes only disabled ones: see --disable)."""
    current = _call(endpoint, "get_distribution_config", Id=dist_id)
    etag = if_match or current["ETag"]
    config = current["DistributionConfig"]
    if disable and config["Enabled"]:
        config["Enabled"] = False
        etag = _call(
            endpoint, "update_distribution", Id=dist_id, IfMatch=etag, DistributionConfig=config
        )["ETag"]
    _call(endpoint, "delete_distribution", Id=dist_id, IfMatch=etag)
    click.echo(f"deleted {dist_id}")
