"""The token key file (made once, 0600, one winner in a race) and argon2id hashing."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest

from openfront.mediahub.hashing import Argon2Params, Hasher
from openfront.mediahub.keys import KEY_BYTES, KeyFileError, load_or_create_key

CHEAP = Argon2Params(time_cost=1, memory_kib=8, parallelism=1)


def test_the_key_is_made_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "mediahub" / "token-key"
    key = load_or_create_key(path)
    assert len(key) == KEY_BYTES
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_key(path) == key
    assert base64.b64decode(path.read_text()) == key
    assert [p.name for p in path.parent.iterdir()] == ["token-key"]  # no temp file left


def test_processes_racing_to_make_the_key_agree(tmp_path: Path) -> None:
    path = tmp_path / "token-key"
    code = (
        "import sys; from pathlib import Path; "
        "from openfront.mediahub.keys import load_or_create_key; "
        "sys.stdout.write(load_or_create_key(Path(sys.argv[1])).hex())"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    keys = {p.communicate(timeout=60)[0] for p in procs}
    assert len(keys) == 1 and bytes.fromhex(keys.pop()) == load_or_create_key(path)


@pytest.mark.parametrize(
    ("text", "message"), [("not base64!", "not a base64 key"), ("AAAA", "at least 32")]
)
def test_a_bad_key_file_is_an_error_not_a_new_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "token-key"
    path.write_text(text)
    with pytest.raises(KeyFileError, match=message):
        load_or_create_key(path)
    assert path.read_text() == text


@pytest.fixture(scope="module")
def hasher() -> Hasher:
    return Hasher(CHEAP)


def test_hashes_are_argon2id_and_verify(hasher: Hasher) -> None:
    stored = hasher.hash("correct horse battery")
    assert stored.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert hasher.verify(stored, "correct horse battery")
    assert not hasher.verify(stored, "correct horse batterY")
    assert hasher.hash("correct horse battery") != stored  # salted


def test_verify_is_nfc_insensitive(hasher: Hasher) -> None:
    assert hasher.verify(hasher.hash("caf\u00e9-caf\u00e9-1"), "cafe\u0301-cafe\u0301-1")


def test_no_account_and_bad_hashes_never_verify(hasher: Hasher) -> None:
    assert not hasher.verify(None, "openfront-mediahub-no-such-account")
    assert not hasher.verify("not a hash", "x")
    assert not hasher.verify("$argon2id$v=19$m=8,t=1,p=1$broken", "x")


def test_rehash_when_the_parameters_change(hasher: Hasher) -> None:
    stored = hasher.hash("correct horse battery")
    assert not hasher.needs_rehash(stored)
    stronger = Hasher(Argon2Params(time_cost=2, memory_kib=16, parallelism=1))
    assert stronger.needs_rehash(stored)
    assert stronger.verify(stored, "correct horse battery")  # old hashes still sign in
    assert stronger.needs_rehash("garbage")
