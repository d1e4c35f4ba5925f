"""`openfront dist`: the life cycle from the command line, against a real API server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.integration.control.helpers import ROOT_KEY, ROOT_SECRET, ApiThread, start_api

from openfront.cli.main import main

SITE = """\
Comment: site
Enabled: true
Origins:
  - Id: app
    DomainName: origin.example.com
    CustomOriginConfig: {HTTPPort: 8000, HTTPSPort: 443, OriginProtocolPolicy: http-only}
DefaultCacheBehavior:
  TargetOriginId: app
  ViewerProtocolPolicy: allow-all
  CachePolicyId: 658327ea-f89d-4fab-a63d-7e88639e58f6
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiThread]:
    data = tmp_path_factory.mktemp("dist-cli")
    api = start_api(data, f"sqlite:///{data / 'control.db'}")
    yield api
    api.stop()


def run(server: ApiThread, *args: str) -> Result:
    env = {
        "AWS_ACCESS_KEY_ID": ROOT_KEY,
        "AWS_SECRET_ACCESS_KEY": ROOT_SECRET,
        "OPENFRONT_API_URL": server.url,
    }
    return CliRunner().invoke(main, ["dist", *args], env=env, prog_name="openfront")


def test_life_cycle(server: ApiThread, tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(SITE)
    created = run(server, "create", "--config", str(site))
    assert created.exit_code == 0, created.output
    dist_id = created.output.split()[0]
    assert f"{dist_id}  Deployed" in created.output

    listed = run(server, "list")
    assert f"{dist_id}  Deployed    enabled" in listed.output

    site.write_text(SITE.replace("Comment: site", "Comment: changed"))
    updated = run(server, "update", dist_id, "--config", str(site))
    assert updated.exit_code == 0, updated.output
    shown = run(server, "get", dist_id, "--config-only")
    assert json.loads(shown.output)["DistributionConfig"]["Comment"] == "changed"

    refused = run(server, "delete", dist_id)
    assert refused.exit_code == 1 and "DistributionNotDisabled" in refused.output
    deleted = run(server, "delete", dist_id, "--disable")
    assert deleted.exit_code == 0 and f"deleted {dist_id}" in deleted.output
    gone = run(server, "get", dist_id)
    assert gone.exit_code == 1 and "NoSuchDistribution" in gone.output


def test_config_file_errors(server: ApiThread, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SITE + "Protocol: h3\n")
    result = run(server, "create", "--config", str(bad))
    assert result.exit_code == 2 and "Protocol: not a DistributionConfig key" in result.output
    invalid = tmp_path / "invalid.yaml"
    invalid.write_text(SITE.replace("TargetOriginId: app", "TargetOriginId: nowhere"))
    result = run(server, "create", "--config", str(invalid))
    assert result.exit_code == 1 and "InvalidArgument" in result.output
