from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from openfront.edge.metrics import (
    BUCKETS,
    EdgeMetrics,
    check_snapshot,
    dump_snapshot,
    merge,
    read_snapshots,
    render_prometheus,
)


def samples(snapshot: dict[str, Any]) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = render_prometheus(snapshot).decode()
    out: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for fam in text_string_to_metric_families(text):
        assert fam.name.startswith("openfront_edge_")
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def key(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return (name, frozenset(labels.items()))


@pytest.fixture
def metrics() -> EdgeMetrics:
    m = EdgeMetrics()
    m.request("E1", 200, "Hit", 1000, 200)
    m.request("E1", 200, "Miss", 500)
    m.request("E1", 502, "Error", 80)
    m.request("E2", 304, "RefreshHit", 120)
    m.origin("E1", 0.004, None)
    m.origin("E1", 0.3, None)
    m.origin("E1", 42.0, None)
    m.origin("E1", None, "OriginConnectError")
    m.origin("E2", 0.01, None)
    return m


def test_counters_render_as_prometheus_text(metrics: EdgeMetrics) -> None:
    got = samples(metrics.snapshot())
    assert got[key("openfront_edge_requests_total", distribution="E1")] == 3
    assert got[key("openfront_edge_requests_total", distribution="E2")] == 1
    assert got[key("openfront_edge_bytes_out_total", distribution="E1")] == 1580
    assert got[key("openfront_edge_bytes_in_total", distribution="E1")] == 200
    assert got[key("openfront_edge_results_total", distribution="E1", result="Hit")] == 1
    assert got[key("openfront_edge_results_total", distribution="E2", result="RefreshHit")] == 1
    assert got[key("openfront_edge_responses_total", distribution="E1", status="200")] == 2
    assert got[key("openfront_edge_responses_total", distribution="E1", status="502")] == 1
    assert got[key("openfront_edge_origin_requests_total", distribution="E1")] == 4
    err = key("openfront_edge_origin_errors_total", distribution="E1", error="OriginConnectError")
    assert got[err] == 1


def test_histogram_buckets_are_cumulative(metrics: EdgeMetrics) -> None:
    got = samples(metrics.snapshot())
    name = "openfront_edge_origin_first_byte_seconds"

    def bucket(le: str) -> float:
        return got[key(name + "_bucket", distribution="E1", le=le)]

    assert bucket("0.005") == 1
    assert bucket("0.25") == 1
    assert bucket("0.5") == 2
    assert bucket("30.0") == 2
    assert bucket("+Inf") == 3
    assert got[key(name + "_count", distribution="E1")] == 3
    assert got[key(name + "_sum", distribution="E1")] == pytest.approx(42.304)


def test_histogram_type_is_declared(metrics: EdgeMetrics) -> None:
    text = render_prometheus(metrics.snapshot()).decode()
    fams = {f.name: f.type for f in text_string_to_metric_families(text)}
    assert fams["openfront_edge_origin_first_byte_seconds"] == "histogram"
    assert fams["openfront_edge_requests"] == "counter"


@pytest.mark.parametrize(
    ("seconds", "index"),
    [(0.0, 0), (0.005, 0), (0.0051, 1), (1.0, 7), (30.0, 11), (30.01, 12), (1e9, 12)],
)
def test_bucket_boundaries_are_inclusive(seconds: float, index: int) -> None:
    m = EdgeMetrics()
    m.origin("E", seconds)
    counts = m.snapshot()["distributions"]["E"]["origin_latency"]["counts"]
    assert counts.index(1) == index
    assert len(counts) == len(BUCKETS) + 1


def test_snapshot_is_json_and_valid(metrics: EdgeMetrics) -> None:
    snap = metrics.snapshot()
    assert json.loads(json.dumps(snap)) == snap
    check_snapshot(snap)


def test_empty_metrics_render() -> None:
    text = render_prometheus(EdgeMetrics().snapshot()).decode()
    assert list(text_string_to_metric_families(text))


def test_merge_sums_workers(metrics: EdgeMetrics) -> None:
    other = EdgeMetrics()
    other.request("E1", 200, "Hit", 10)
    other.request("E3", 404, "Error", 5)
    other.origin("E1", 0.3, "OriginReadError")
    merged = merge([metrics.snapshot(), other.snapshot()])
    got = samples(merged)
    assert got[key("openfront_edge_requests_total", distribution="E1")] == 4
    assert got[key("openfront_edge_requests_total", distribution="E3")] == 1
    assert got[key("openfront_edge_results_total", distribution="E1", result="Hit")] == 2
    assert got[key("openfront_edge_bytes_out_total", distribution="E1")] == 1590
    assert got[key("openfront_edge_origin_first_byte_seconds_count", distribution="E1")] == 4
    assert merge([]) == EdgeMetrics().snapshot()


@given(
    st.lists(
        st.lists(
            st.tuples(
                st.sampled_from(["A", "B"]),
                st.sampled_from([200, 304, 404, 502]),
                st.sampled_from(["Hit", "Miss", "Error"]),
                st.integers(0, 10_000),
            ),
            max_size=20,
        ),
        max_size=4,
    )
)
def test_merge_equals_one_worker_seeing_everything(
    workers: list[list[tuple[str, int, str, int]]],
) -> None:
    together = EdgeMetrics()
    parts = []
    for events in workers:
        m = EdgeMetrics()
        for ev in events:
            m.request(*ev)
            together.request(*ev)
        parts.append(m.snapshot())
    merged = merge(parts)
    want = together.snapshot()
    assert merged == json.loads(json.dumps(want))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ([], "not a version"),
        ({"version": 99}, "not a version"),
        ({"version": 1, "buckets": [1.0], "distributions": {}}, "buckets"),
        ({"version": 1, "buckets": list(BUCKETS), "distributions": []}, "distributions"),
    ],
)
def test_invalid_snapshots_are_refused(bad: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        merge([bad])


def test_invalid_counter_names_its_key(metrics: EdgeMetrics) -> None:
    snap = metrics.snapshot()
    snap["distributions"]["E1"]["results"]["Hit"] = -1
    with pytest.raises(ValueError, match=r"distributions\.E1\.results\.Hit"):
        render_prometheus(snap)


def test_write_and_read_snapshots(tmp_path: Path, metrics: EdgeMetrics) -> None:
    metrics.write_snapshot(tmp_path / "worker-1.json")
    other = EdgeMetrics()
    other.request("E1", 200, "Hit", 1)
    other.write_snapshot(tmp_path / "worker-2.json")
    other.request("E1", 200, "Hit", 1)
    other.write_snapshot(tmp_path / "worker-2.json")  # replaced, not appended
    (tmp_path / "torn.json").write_text('{"version": 1, "buck')
    (tmp_path / "notes.txt").write_text("ignored")
    snaps = read_snapshots(tmp_path)
    assert len(snaps) == 2
    got = samples(merge(snaps))
    assert got[key("openfront_edge_requests_total", distribution="E1")] == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "notes.txt",
        "torn.json",
        "worker-1.json",
        "worker-2.json",
    ]


def test_dump_snapshot_leaves_no_temp_file_on_error(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        dump_snapshot({"x": object()}, tmp_path / "w.json")
    assert list(tmp_path.iterdir()) == []
