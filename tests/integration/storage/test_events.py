"""Object events from a real store's metadata stream: order, and a restart that resumes from the
saved offset without losing or repeating events."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from tests.support.weed import MEDIA_BUCKET, WeedStore

from openfront.storage.events import EventSubscriber, ObjectEvent, Offset
from openfront.storage.versioning import VERSION_META, StampClock

DEADLINE = 30.0
KEY = "ev/clip é 한.txt"  # multi-byte UTF-8 survives weed's JSON and our chunked reads


def _subscriber(store: WeedStore, offset: Path) -> EventSubscriber:
    """Without a saved offset it starts now, before the test's writes."""
    return EventSubscriber(
        store.region.weed,
        store.region.info()["filer_address"],
        MEDIA_BUCKET,
        store.region.name,
        offset,
        start_ns=time.time_ns(),
    )


async def _collect(subscriber: EventSubscriber, prefix: str, count: int) -> list[ObjectEvent]:
    """The first `count` events under `prefix`; returns once the offset has moved past them."""
    got: list[ObjectEvent] = []
    done, saved = asyncio.Event(), asyncio.Event()

    def committed(offset: Offset) -> None:
        if got and len(got) == count and got[-1].id in offset.ids:
            saved.set()

    subscriber.on_offset = committed

    def take(event: ObjectEvent) -> None:
        if event.key.startswith(prefix):
            got.append(event)
            if len(got) == count:
                done.set()

    runner = asyncio.ensure_future(subscriber.run(take))
    try:
        async with asyncio.timeout(DEADLINE):
            waiter = asyncio.ensure_future(done.wait())
            finished, _ = await asyncio.wait({runner, waiter}, return_when="FIRST_COMPLETED")
            if runner in finished:
                runner.result()  # raise what stopped it
            # the offset is saved when the subscriber moves on from the last event
            await saved.wait()
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
    return got


async def test_put_overwrite_delete_arrive_in_order_with_stamp(
    store: WeedStore, tmp_path: Path
) -> None:
    client = store.client()
    stamp = str(StampClock(store.region.name).stamp(time.time_ns()))
    subscriber = _subscriber(store, tmp_path / "offset.json")

    async def write() -> None:
        put = client.put_object
        await asyncio.to_thread(
            put, Bucket=MEDIA_BUCKET, Key=KEY, Body=b"1", Metadata={VERSION_META: stamp}
        )
        await asyncio.to_thread(put, Bucket=MEDIA_BUCKET, Key=KEY, Body=b"22")
        await asyncio.to_thread(client.delete_object, Bucket=MEDIA_BUCKET, Key=KEY)

    collecting = asyncio.ensure_future(_collect(subscriber, "ev/", 3))
    await write()
    events = await collecting
    assert [(e.kind, e.key, e.size) for e in events] == [
        ("create", KEY, 1),
        ("update", KEY, 2),
        ("delete", KEY, 2),
    ]
    assert events[0].version == stamp and events[1].version is None
    assert events[0].etag == "c4ca4238a0b923820dcc509a6f75849b"  # md5("1")
    assert all(e.region == store.region.name and not e.from_replication for e in events)
    assert [e.ts_ns for e in events] == sorted(e.ts_ns for e in events)
    saved = json.loads((tmp_path / "offset.json").read_text())
    assert saved["ts_ns"] == events[-1].ts_ns


async def test_a_restarted_subscriber_resumes_without_loss_or_repeats(
    store: WeedStore, tmp_path: Path
) -> None:
    client = store.client()
    offset = tmp_path / "offset.json"

    def put(key: str) -> None:
        client.put_object(Bucket=MEDIA_BUCKET, Key=key, Body=key.encode())

    first = asyncio.ensure_future(_collect(_subscriber(store, offset), "resume/", 2))
    for key in ("resume/1", "resume/2"):
        await asyncio.to_thread(put, key)
    assert [e.key for e in await first] == ["resume/1", "resume/2"]
    # written while no subscriber runs
    for key in ("resume/3", "resume/4"):
        await asyncio.to_thread(put, key)
    second = await _collect(_subscriber(store, offset), "resume/", 2)
    assert [e.key for e in second] == ["resume/3", "resume/4"]


def test_the_events_command_prints_json_lines(store: WeedStore, tmp_path: Path) -> None:
    import subprocess
    import sys
    import threading

    from openfront.stack.stackfile import StackFile

    info = store.region.info()
    assert store.process is not None
    StackFile(tmp_path / "stack.json").set(
        store.region.service, url=info.pop("url"), pid=store.process.pid, **info
    )
    argv = [sys.executable, "-m", "openfront", "storage", "events", "--data", str(tmp_path)]
    proc = subprocess.Popen(
        [*argv, "--bucket", MEDIA_BUCKET], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    lines: list[bytes] = []
    got = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if b'"cli/one"' in line:
                lines.append(line)
                got.set()
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        offset = tmp_path / "replication" / f"events-{store.region.name}-{MEDIA_BUCKET}.json"
        deadline = time.monotonic() + DEADLINE
        while not offset.exists():  # the command saved its start offset: it is following
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.02)
        store.client().put_object(Bucket=MEDIA_BUCKET, Key="cli/one", Body=b"1")
        assert got.wait(DEADLINE)
    finally:
        proc.terminate()
        code = proc.wait(timeout=DEADLINE)
        reader.join(timeout=DEADLINE)
        assert proc.stdout is not None
        proc.stdout.close()
    event = json.loads(lines[0])
    assert (event["kind"], event["key"], event["bucket"]) == ("create", "cli/one", MEDIA_BUCKET)
    assert code == 0
    assert not _tails_of(info["filer_address"]), "filer.meta.tail outlived the command"


def _tails_of(filer_address: str) -> list[int]:
    """Pids of `weed filer.meta.tail` processes following this filer."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"filer.meta.tail" in argv and f"-filer={filer_address}".encode() in argv:
            found.append(int(entry.name))
    return found
