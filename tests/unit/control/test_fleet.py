"""The fleet's decisions without servers: edge health, parsing edge reports, applying changes."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.support.edge import dist_config

from openfront.config import OpenFrontConfig
from openfront.control import fleet
from openfront.control.errors import ApiError
from openfront.edge.follow import (
    Snapshot,
    apply_changes,
    edge_only_config,
    read_credentials,
    write_durably,
)
from openfront.edge.follow_bus import changes_from, durable_name
from openfront.errors import ConfigError

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BASE = edge_only_config({"edge": {"listen": "127.0.0.1:0"}}, "test")


def test_health_by_silence() -> None:
    def health(seconds: float) -> str:
        return fleet.health(NOW - timedelta(seconds=seconds), NOW, 60, 3600)

    assert [health(s) for s in (0, 59.9, 60, 3599, 3600)] == [
        "healthy",
        "healthy",
        "stale",
        "stale",
        "gone",
    ]


@pytest.mark.parametrize(
    ("edge_id", "body", "code"),
    [
        ("bad/id", {}, "InvalidArgument"),
        ("e" * 65, {}, "InvalidArgument"),
        ("e1", [], "MalformedInput"),
        ("e1", {"pop": 7}, "InvalidArgument"),
        ("e1", {"region": "x" * 65}, "InvalidArgument"),
        ("e1", {"config_seq": -1}, "InvalidArgument"),
        ("e1", {"config_seq": True}, "InvalidArgument"),
        ("e1", {"invalidation_seq": "3"}, "InvalidArgument"),
    ],
)
def test_registration_refuses_bad_input(edge_id: str, body: Any, code: str) -> None:
    with pytest.raises(ApiError) as exc:
        fleet.parse_registration(edge_id, body)
    assert exc.value.code == code


def test_registration_and_errors_parse() -> None:
    reg = fleet.parse_registration("edge-1.a_b", {"pop": "FRA50-C1", "config_seq": 4})
    assert (reg.pop, reg.config_seq, reg.invalidation_seq) == ("FRA50-C1", 4, None)
    long = "x" * 5000
    parsed = fleet.parse_errors({"E1": {"seq": 3, "message": long}})
    assert parsed == {"E1": {"seq": 3, "message": long[:1000]}}
    for bad in ([], {"E1": "oops"}, {"E1": {"seq": 1}}):
        with pytest.raises(ApiError):
            fleet.parse_errors(bad)


def _config_change(seq: int, dist_id: str, config: Any, deleted: bool = False) -> dict[str, Any]:
    return {"seq": seq, "distribution_id": dist_id, "deleted": deleted, "config": config}


def test_apply_changes_loads_good_refuses_bad_and_deletes() -> None:
    good = dist_config(8001)
    snap, cfg = apply_changes(
        Snapshot(), BASE, {"config_seq": 2, "invalidation_seq": 5, "configs": [
            _config_change(1, "EA", good), _config_change(2, "EB", good),
        ]},
    )  # fmt: skip
    assert cfg is not None and [d.id for d in cfg.distributions] == ["EA", "EB"]
    assert cfg.edge == BASE.edge
    assert (snap.config_seq, snap.invalidation_seq, snap.errors) == (2, 5, {})

    bad = {**dist_config(8002), "FutureSetting": True}
    refused, cfg2 = apply_changes(
        snap, BASE, {"config_seq": 3, "configs": [_config_change(3, "EA", bad)]}
    )
    assert cfg2 is None  # nothing to reload: EA keeps its last good configuration
    assert refused.config_seq == 3 and refused.distributions["EA"]["seq"] == 1
    assert refused.errors["EA"]["seq"] == 3 and "FutureSetting" in refused.errors["EA"]["message"]

    fixed, cfg3 = apply_changes(
        refused, BASE, {"config_seq": 5, "configs": [
            _config_change(4, "EB", None, deleted=True), _config_change(5, "EA", dist_config(8003)),
        ]},
    )  # fmt: skip
    assert cfg3 is not None and [d.id for d in cfg3.distributions] == ["EA"]
    assert fixed.errors == {} and list(fixed.distributions) == ["EA"]

    emptied, cfg4 = apply_changes(
        fixed, BASE, {"config_seq": 6, "configs": [_config_change(6, "EA", None, deleted=True)]}
    )
    assert cfg4 is not None and cfg4.distributions == () and emptied.distributions == {}


def test_snapshot_round_trip_and_damage(tmp_path: Path) -> None:
    path = tmp_path / "state" / "fleet-state.json"
    snap = Snapshot(
        7, 3, {"EA": {"seq": 7, "config": {"x": 1}}}, {"EB": {"seq": 6, "message": "m"}}
    )
    write_durably(path, snap.to_json(), 0o600)
    assert Snapshot.load(path) == snap
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["fleet-state.json"]  # no temp file left
    path.write_text("{not json")
    assert Snapshot.load(path) is None
    assert Snapshot.load(tmp_path / "missing.json") is None


def test_credentials_from_file_or_environment(tmp_path: Path) -> None:
    f = tmp_path / "creds.env"
    f.write_text(
        "# edge key\nexport AWS_ACCESS_KEY_ID=AKOFEDGE0000000001\n"
        "AWS_SECRET_ACCESS_KEY='s3cr/t=='\n"
    )
    assert read_credentials(f, {}) == ("AKOFEDGE0000000001", "s3cr/t==")
    env = {"AWS_ACCESS_KEY_ID": "AKOFENV", "AWS_SECRET_ACCESS_KEY": "sec"}
    assert read_credentials(None, env) == ("AKOFENV", "sec")
    with pytest.raises(ConfigError, match="needs AWS_ACCESS_KEY_ID"):
        read_credentials(None, {})
    with pytest.raises(ConfigError, match="cannot read"):
        read_credentials(tmp_path / "missing", env)


def test_edge_only_config_keeps_edge_settings_and_checks_them() -> None:
    cfg = edge_only_config({"edge": {"pop": "NRT57-C2"}, "distributions": []}, "f.yaml")
    assert isinstance(cfg, OpenFrontConfig) and cfg.edge.pop == "NRT57-C2"
    assert cfg.distributions == ()
    assert edge_only_config(None, "empty.yaml").edge.listen == "127.0.0.1:8080"
    with pytest.raises(ConfigError, match=r"f\.yaml: edge"):
        edge_only_config({"edge": {"workers": 0}}, "f.yaml")
    with pytest.raises(ConfigError, match="mapping"):
        edge_only_config([1], "f.yaml")


def test_bus_messages_skip_what_was_applied() -> None:
    messages = [
        {"kind": "config", "seq": 4, "distribution_id": "EA"},
        {"kind": "config", "seq": 9, "distribution_id": "EA"},
        {"kind": "invalidation", "seq": 2, "distribution_id": "EA", "paths": ["/a"]},
        {"kind": "invalidation", "seq": 3, "distribution_id": "EA", "paths": ["/b"]},
    ]
    changes = changes_from(messages, config_seq=4, inv_seq=2)
    assert [c["seq"] for c in changes["configs"]] == [9]
    assert [i["seq"] for i in changes["invalidations"]] == [3]
    assert (changes["config_seq"], changes["invalidation_seq"]) == (9, 3)
    assert changes_from([], 5, 6)["config_seq"] == 5
    assert durable_name("edge.a/b") == "edge_edge_a_b"


def test_statuses_wait_for_healthy_edges_only(tmp_path: Path) -> None:
    from tests.integration.control.helpers import dist_config as api_config

    from openfront.control import distributions, invalidations
    from openfront.control.db import Database, database_url
    from openfront.control.settings import ApiSettings

    db = Database(database_url(None, tmp_path))
    db.migrate()
    settings = ApiSettings(edge_stale_seconds=60)
    try:
        with db.write() as session:
            for edge_id, seen in (("live", NOW), ("dead", NOW - timedelta(seconds=61))):
                fleet.register(session, fleet.parse_registration(edge_id, {}), "t", seen)
            view, _ = distributions.create_distribution(session, api_config("r1"), settings, NOW)
            batch = {"Paths": {"Quantity": 1, "Items": ["/a"]}, "CallerReference": "c1"}
            inv, _ = invalidations.create_invalidation(session, view.id, batch, settings, NOW)
        assert (view.status, inv.status) == ("InProgress", "InProgress")

        def statuses() -> tuple[str, str]:
            with db.write() as session:
                fleet.settle(session, settings, NOW)
                got = distributions.get_distribution(session, view.id).status
                return got, invalidations.get_invalidation(session, view.id, inv.id).status

        with db.read() as session:
            config_head, inv_head = fleet.head(session)
        with db.write() as session:  # the live edge refuses the configuration
            refused = {view.id: {"seq": config_head, "message": "no"}}
            fleet.acknowledge(session, "live", config_head, inv_head - 1, refused, NOW)
        assert statuses() == ("InProgress", "InProgress")
        with db.write() as session:  # the dead edge never acks: it does not count
            fleet.acknowledge(session, "live", config_head, inv_head, {}, NOW)
        assert statuses() == ("Deployed", "Completed")
        with db.read() as session:
            listed = {e["id"]: e["status"] for e in fleet.list_edges(session, settings, NOW)}
        assert listed == {"live": "healthy", "dead": "stale"}
    finally:
        db.close()
