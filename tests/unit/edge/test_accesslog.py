from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openfront.edge import accesslog
from openfront.edge.accesslog import (
    FIELDS,
    HEADER,
    RECORD_FIELDS,
    AccessLog,
    decode_value,
    encode_value,
    format_record,
    read_log,
)

GUIDE_FIELDS = """date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status
cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id
x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher
x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port
time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start
sc-range-end""".split()

TS = 1_764_000_000.25  # 2025-11-24 16:00:00 UTC


def make_rec(n: int = 0, ts: float = TS, **over: Any) -> tuple[Any, ...]:
    values: dict[str, Any] = {
        "ts": ts,
        "edge_location": "LHR50-C1",
        "sc_bytes": 1234 + n,
        "c_ip": "192.0.2.10",
        "cs_method": "GET",
        "cs_host": "d111111abcdef8.cloudfront.net",
        "cs_uri_stem": f"/img/{n}.jpg",
        "sc_status": 200,
        "referer": None,
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
        "uri_query": "a=1&b=2",
        "cookie": None,
        "edge_result_type": "Hit",
        "request_id": f"req-{n}",
        "host_header": "www.example.com",
        "cs_protocol": "https",
        "cs_bytes": 321,
        "time_taken": 0.0123,
        "x_forwarded_for": "",
        "ssl_protocol": "TLSv1.3",
        "ssl_cipher": "TLS_AES_128_GCM_SHA256",
        "edge_response_result_type": "Hit",
        "protocol_version": "HTTP/1.1",
        "fle_status": None,
        "fle_encrypted_fields": None,
        "c_port": 51234,
        "time_to_first_byte": 0.001,
        "detailed_result_type": "Hit",
        "content_type": "image/jpeg",
        "content_len": 1000,
        "range_start": None,
        "range_end": None,
    }
    assert tuple(values) == RECORD_FIELDS
    values.update(over)
    return tuple(values.values())


class FullDisk:
    def write(self, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


class FakeClock:
    def __init__(self, now: float = TS) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_log(tmp_path: Path, clock: FakeClock) -> Iterator[Any]:
    logs: list[AccessLog] = []

    def factory(**kw: Any) -> AccessLog:
        kw.setdefault("rotate_bytes", 10 << 20)
        kw.setdefault("rotate_seconds", 3600.0)
        kw.setdefault("clock", clock)
        lg = AccessLog(tmp_path, "E2EXAMPLE", **kw)
        logs.append(lg)
        return lg

    yield factory
    for lg in logs:
        lg.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("openfront-accesslog")]


def gz_files(d: Path) -> list[Path]:
    return sorted(d.glob("E2EXAMPLE.*.gz"))


def all_rows(d: Path) -> list[dict[str, str]]:
    return [row for p in sorted(d.iterdir()) for row in read_log(p)]


def test_fields_match_the_guide_exactly() -> None:
    assert list(FIELDS) == GUIDE_FIELDS
    assert len(FIELDS) == 33


def test_header_lines() -> None:
    assert HEADER.splitlines() == ["#Version: 1.0", "#Fields: " + " ".join(GUIDE_FIELDS)]


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (None, "-"),
        ("", "-"),
        (b"", "-"),
        ("plain/path.jpg", "plain/path.jpg"),
        ("a=1&b=2;c:d,e@f+g$h!(i)*", "a=1&b=2;c:d,e@f+g$h!(i)*"),
        ("Mozilla/5.0 (X11; Linux)", "Mozilla/5.0%20(X11;%20Linux)"),
        ("tab\there", "tab%09here"),
        ("line\nbreak\r", "line%0Abreak%0D"),
        ("\x00\x1f\x7f", "%00%1F%7F"),
        ("<>\"#%{}|\\^~[]`' ", "%3C%3E%22%23%25%7B%7D%7C%5C%5E%7E%5B%5D%60%27%20"),
        ("café", "caf%C3%A9"),
        ("日本", "%E6%97%A5%E6%9C%AC"),
        (b"\xff\x00ok", "%FF%00ok"),
        (200, "200"),
        (0.0123, "0.012"),
        (1.5, "1.500"),
    ],
)
def test_encoding_table(value: object, encoded: str) -> None:
    assert encode_value(value) == encoded


@pytest.mark.parametrize("code", [*range(33), 127, *range(128, 256)])
def test_every_control_and_high_byte_is_encoded(code: int) -> None:
    assert encode_value(bytes([code])) == f"%{code:02X}"


@given(st.text(st.characters(codec="utf-8")))
def test_encoding_round_trips_and_stays_one_field(text: str) -> None:
    enc = encode_value(text)
    assert enc.isascii()
    assert not any(c in enc for c in "\t\n\r ")
    if text != "-":
        assert decode_value(enc) == text


def test_format_record_fields_in_order() -> None:
    line = format_record(make_rec(7, sc_status=0, referer="https://ref.example/a b"))
    values = line.split("\t")
    assert len(values) == 33
    row = dict(zip(FIELDS, values, strict=True))
    assert row["date"] == "2025-11-24"
    assert row["time"] == "16:00:00"
    assert row["x-edge-location"] == "LHR50-C1"
    assert row["sc-bytes"] == "1241"
    assert row["cs-uri-stem"] == "/img/7.jpg"
    assert row["sc-status"] == "000"
    assert row["cs(Referer)"] == "https://ref.example/a%20b"
    assert row["cs(User-Agent)"] == "Mozilla/5.0%20(X11;%20Linux%20x86_64)"
    assert row["cs(Cookie)"] == "-"
    assert row["x-forwarded-for"] == "-"
    assert row["time-taken"] == "0.012"
    assert row["time-to-first-byte"] == "0.001"
    assert row["c-port"] == "51234"
    assert row["sc-range-end"] == "-"


@pytest.mark.parametrize(
    ("rec", "exc"),
    [((1.0, "x"), ValueError), (make_rec()[:-1], ValueError), (("x", *make_rec()[1:]), TypeError)],
)
def test_format_record_rejects_bad_records(rec: tuple[Any, ...], exc: type[Exception]) -> None:
    with pytest.raises(exc):
        format_record(rec)


def test_write_then_close_gzips_and_round_trips(tmp_path: Path, make_log: Any) -> None:
    lg = make_log()
    lg.record(make_rec(1, cookie="session=abc def"))
    lg.record(make_rec(2))
    lg.sync()
    plain = lg.current_path
    assert plain is not None
    assert plain.name.startswith("E2EXAMPLE.2025-11-24-16.")
    assert plain.read_text().startswith(HEADER)
    assert len(read_log(plain)) == 2
    lg.close()
    assert not plain.exists()
    [gz] = gz_files(tmp_path)
    assert gz.name == plain.name + ".gz"
    with gzip.open(gz, "rt") as fh:
        assert fh.readline() == "#Version: 1.0\n"
    rows = read_log(gz, decode=True)
    assert [r["x-edge-request-id"] for r in rows] == ["req-1", "req-2"]
    assert rows[0]["cs(Cookie)"] == "session=abc def"
    assert rows[0]["cs(User-Agent)"] == "Mozilla/5.0 (X11; Linux x86_64)"
    assert rows[0]["cs(Referer)"] == ""
    raw = read_log(gz)
    assert raw[0]["cs(Cookie)"] == "session=abc%20def"


def test_rotation_by_size(tmp_path: Path, make_log: Any) -> None:
    line_len = len(format_record(make_rec())) + 1
    lg = make_log(rotate_bytes=len(HEADER) + 3 * line_len)
    for i in range(10):
        lg.record(make_rec(i))
    lg.close()
    files = gz_files(tmp_path)
    assert len(files) == 4  # 3 + 3 + 3 + 1
    for p in files:
        with gzip.open(p, "rt") as fh:
            assert fh.read().startswith(HEADER)
    ids = [r["x-edge-request-id"] for r in all_rows(tmp_path)]
    assert sorted(ids) == sorted(f"req-{i}" for i in range(10))


def test_rotation_by_age(tmp_path: Path, make_log: Any, clock: FakeClock) -> None:
    lg = make_log(rotate_seconds=60.0)
    lg.record(make_rec(1))
    lg.sync()
    first = lg.current_path
    clock.now += 59
    lg.sync()
    assert lg.current_path == first
    clock.now += 1
    lg.sync()  # an idle tick is enough to rotate an old file
    assert lg.current_path is None
    assert gz_files(tmp_path) == [first.with_name(first.name + ".gz")]
    lg.record(make_rec(2))
    lg.sync()
    assert lg.current_path not in (None, first)


def test_rotation_when_the_hour_changes(tmp_path: Path, make_log: Any, clock: FakeClock) -> None:
    clock.now = TS + 3599 - 0.25  # 16:59:59
    lg = make_log()
    lg.record(make_rec(1))
    lg.sync()
    clock.now += 1  # 17:00:00
    lg.record(make_rec(2))
    lg.close()
    names = [p.name for p in gz_files(tmp_path)]
    assert [n.split(".")[1] for n in names] == ["2025-11-24-16", "2025-11-24-17"]


def test_without_gzip_rotated_files_stay_plain(tmp_path: Path, make_log: Any) -> None:
    lg = make_log(gzip_on_rotate=False)
    lg.record(make_rec())
    lg.close()
    [p] = list(tmp_path.iterdir())
    assert not p.name.endswith(".gz")
    assert lg.rotated[-1] == p
    assert len(read_log(p)) == 1


def test_close_drains_everything_and_stops_the_thread(tmp_path: Path, make_log: Any) -> None:
    lg = make_log()
    for i in range(5000):
        lg.record(make_rec(i))
        if i % 1000 == 0:
            lg.flush()
    lg.close()
    assert not lg._thread.is_alive()
    assert len(all_rows(tmp_path)) == 5000
    assert lg.written == 5000
    lg.close()  # idempotent


def test_malformed_records_are_skipped_not_fatal(tmp_path: Path, make_log: Any) -> None:
    lg = make_log()
    lg.record(make_rec(1))
    lg.record(("oops",))
    lg.record(make_rec(2))
    lg.close()
    assert lg.malformed == 1
    assert len(all_rows(tmp_path)) == 2


def test_flush_never_blocks_when_the_writer_is_stuck(
    tmp_path: Path, make_log: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    entered = threading.Event()

    def blocking_clock() -> float:
        entered.set()
        release.wait()
        return TS

    monkeypatch.setattr(accesslog, "MAX_PENDING_RECORDS", 50)
    lg = make_log(clock=blocking_clock)
    lg.record(make_rec(0))
    lg.flush()
    assert entered.wait(10)
    for i in range(1, 200):  # more batches than the queue holds
        lg.record(make_rec(i))
        lg.flush()
    assert lg.dropped > 0
    release.set()
    lg.close()
    assert len(all_rows(tmp_path)) == 200 - lg.dropped


def test_write_errors_are_counted_not_fatal(tmp_path: Path, make_log: Any) -> None:
    lg = make_log()
    lg.record(make_rec(1))
    lg.sync()
    assert lg.current_path is not None
    current = lg._writer.current
    current.fh.close()
    current.fh = FullDisk()  # the next write raises, as a failing disk would
    lg.record(make_rec(2))
    lg.sync()
    assert lg.write_errors == 1
    lg.record(make_rec(3))
    lg.close()
    ids = {r["x-edge-request-id"] for r in all_rows(tmp_path)}
    assert ids == {"req-1", "req-3"}


@pytest.mark.parametrize(
    "content",
    [b"", b"hello\n", b"#Version: 1.0\n#Fields: a b\nonly-one\n"],
)
def test_read_log_rejects_bad_files(tmp_path: Path, content: bytes) -> None:
    p = tmp_path / "bad.log"
    p.write_bytes(content)
    with pytest.raises(ValueError):
        read_log(p)


@pytest.mark.parametrize("dist", ["", "../x", ".hidden", "a/b"])
def test_bad_distribution_id_is_refused(tmp_path: Path, dist: str) -> None:
    with pytest.raises(ValueError):
        AccessLog(tmp_path, dist, rotate_bytes=1, rotate_seconds=1)
