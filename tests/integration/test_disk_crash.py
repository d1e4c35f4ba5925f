"""kill -9 a writer at several points: acknowledged objects survive, nothing torn is served."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from openfront.edge.store import DiskStore

WRITER = r"""
import hashlib, sys
from pathlib import Path
from openfront.cache.entry import EntryMeta
from openfront.edge.store import DiskStore

def body(tag, i):
    seed = hashlib.sha256(f"{tag}:{i}".encode()).digest()
    return seed * (1 + (i * 977) % 4000)

root, tag = Path(sys.argv[1]), sys.argv[2]
store = DiskStore(root, 1 << 30)
store.open()
i = 0
while True:
    key = f"{tag}:{i}".encode()
    data = body(tag, i)
    with store.begin(key) as w:
        for off in range(0, len(data), 8192):
            w.write(data[off : off + 8192])
        w.commit(EntryMeta(key, "/" + tag, 200, (("x-i", str(i)),), len(data), 1.0, 2.0, 0.0, 60.0))
    print(key.decode(), flush=True)
    i += 1
"""


def expected_body(key: str) -> bytes:
    tag, i = key.rsplit(":", 1)
    seed = hashlib.sha256(f"{tag}:{i}".encode()).digest()
    return seed * (1 + (int(i) * 977) % 4000)


def run_and_kill(root: Path, tag: str, acked_before_kill: int) -> list[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(root), tag],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    acked: list[str] = []
    try:
        while len(acked) < acked_before_kill:
            line = proc.stdout.readline()
            assert line, f"writer exited early with {proc.poll()}"
            acked.append(line.strip())
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    return acked


def check_store(root: Path, acked: list[str]) -> None:
    store = DiskStore(root, 1 << 30)
    store.open()
    for key in acked:
        obj = store.get(key.encode())
        assert obj is not None, f"acknowledged {key} lost"
        with obj:
            assert obj.meta.key == key.encode() and obj.meta.url == "/" + key.rsplit(":", 1)[0]
            assert obj.read() == expected_body(key)
    for raw_key in store.keys():  # an unacknowledged but visible object must be whole too
        seen = store.get(raw_key)
        assert seen is not None
        with seen:
            assert seen.read() == expected_body(raw_key.decode())
    files = [p for p in root.rglob("*") if p.is_file()]
    assert not [p for p in files if p.name.startswith(".tmp.")]
    metas = {p.name.split(".")[0] for p in files if p.suffix == ".meta"}
    bodies = [p.name.split(".")[0] for p in files if p.suffix == ".body"]
    assert sorted(bodies) == sorted(metas), "orphan body files remain"
    assert len(metas) == len(store)


@pytest.mark.parametrize("acked_before_kill", [1, 7, 25])
def test_kill_minus_nine_never_tears(tmp_path: Path, acked_before_kill: int) -> None:
    all_acked: list[str] = []
    for round_ in range(2):  # the second run also exercises open() after a crash
        all_acked += run_and_kill(tmp_path, f"r{round_}", acked_before_kill)
        check_store(tmp_path, all_acked)
