"""stack.json: the small API, whole-document writes, and concurrent updaters."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from openfront.stack.stackfile import StackFile, read_stack, write_json_atomic


def test_set_remove_and_read(tmp_path: Path) -> None:
    path = tmp_path / "stack.json"
    stack = StackFile(path)
    assert read_stack(path) == {"services": {}}
    stack.set("origin", url="http://127.0.0.1:1", pid=10)
    stack.set("edge", url="http://127.0.0.1:2", pid=11, admin_url="http://127.0.0.1:3")
    assert read_stack(path) == {
        "services": {
            "origin": {"url": "http://127.0.0.1:1", "pid": 10},
            "edge": {"url": "http://127.0.0.1:2", "pid": 11, "admin_url": "http://127.0.0.1:3"},
        }
    }
    stack.remove("origin")
    stack.remove("never-there")
    assert list(stack.services()) == ["edge"]


def test_set_replaces_a_service_and_keeps_other_writers_entries(tmp_path: Path) -> None:
    path = tmp_path / "stack.json"
    StackFile(path).set("api", url="http://a", pid=1)  # another process's service
    mine = StackFile(path)
    mine.set("edge", url="http://e", pid=2)
    mine.set("edge", url="http://e2", pid=3)
    assert read_stack(path)["services"] == {
        "api": {"url": "http://a", "pid": 1},
        "edge": {"url": "http://e2", "pid": 3},
    }


def test_concurrent_updates_are_all_kept_and_readers_never_see_a_torn_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "stack.json"
    StackFile(path).set("seed", url="http://seed", pid=0)
    names = [f"svc{i}" for i in range(40)]
    done = threading.Event()
    torn: list[str] = []

    def read_until_done() -> None:
        while not done.is_set():
            try:
                read_stack(path)
            except ValueError as exc:
                torn.append(str(exc))

    reader = threading.Thread(target=read_until_done)
    writers = [
        threading.Thread(target=StackFile(path).set, args=(n,), kwargs={"url": n, "pid": i})
        for i, n in enumerate(names)
    ]
    reader.start()
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    done.set()
    reader.join()
    assert torn == []
    assert set(read_stack(path)["services"]) == {"seed", *names}


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "stack.json"
    write_json_atomic(path, {"services": {"a": {"url": "u", "pid": 1}}})
    with pytest.raises(TypeError):
        write_json_atomic(path, {"services": {"a": object()}})
    assert json.loads(path.read_text()) == {"services": {"a": {"url": "u", "pid": 1}}}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stack.json"]


@pytest.mark.parametrize("content", ["[]", '{"nope": 1}', '{"services": []}'])
def test_a_file_that_is_not_a_stack_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "stack.json"
    path.write_text(content)
    with pytest.raises(ValueError, match="not a stack file"):
        read_stack(path)
