"""Transactions the database rolls back for a deadlock are run again (Database.write_retrying)."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pymysql
import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from tests.integration.mediahub.conftest import user_row

from openfront.mediahub.database import Database
from openfront.mediahub.models import User
from openfront.sql.database import is_retryable


def _error(orig: object) -> OperationalError:
    return OperationalError("UPDATE ...", {}, orig)  # type: ignore[arg-type]


def test_deadlocks_and_serialization_failures_are_retryable_and_nothing_else() -> None:
    assert is_retryable(_error(pymysql.err.OperationalError(1213, "Deadlock found")))
    assert is_retryable(_error(SimpleNamespace(sqlstate="40P01", args=("deadlock detected",))))
    assert is_retryable(_error(SimpleNamespace(sqlstate="40001", args=("could not serialize",))))
    assert not is_retryable(_error(pymysql.err.OperationalError(1205, "Lock wait timeout")))
    assert not is_retryable(_error(SimpleNamespace(sqlstate="23505", args=("duplicate",))))
    assert not is_retryable(_error(ValueError()))


def test_a_retried_transaction_keeps_only_the_last_attempts_writes(db: Database) -> None:
    calls: list[str] = []

    def work(s: Session) -> str:
        name = f"try{len(calls)}"
        calls.append(name)
        s.add(user_row(name))
        s.flush()
        if len(calls) == 1:
            raise _error(pymysql.err.OperationalError(1213, "Deadlock found"))
        return name

    assert db.write_retrying(work) == "try1"
    with db.read() as s:
        assert list(s.scalars(select(User.username))) == ["try1"]


def test_other_errors_and_the_last_attempt_propagate(db: Database) -> None:
    calls = 0

    def always(s: Session) -> None:
        nonlocal calls
        calls += 1
        raise _error(pymysql.err.OperationalError(1213, "Deadlock found"))

    with pytest.raises(OperationalError):
        db.write_retrying(always, attempts=3)
    assert calls == 3

    def other(s: Session) -> None:
        nonlocal calls
        calls += 1
        raise _error(pymysql.err.OperationalError(1205, "Lock wait timeout"))

    calls = 0
    with pytest.raises(OperationalError):
        db.write_retrying(other)
    assert calls == 1


def test_a_real_deadlock_is_retried_until_both_transactions_commit(
    db: Database, database: str
) -> None:
    """Two transactions update the same two rows in opposite orders: the server picks one as
    the deadlock victim, rolls it back, and it commits on its next attempt."""
    if database.startswith("sqlite"):
        pytest.skip("SQLite writers take the database's write lock at BEGIN: no deadlock")
    a, b = user_row("a"), user_row("b")
    with db.write() as s:
        s.add_all([a, b])
    both_hold_one = threading.Barrier(2)
    attempts: list[str] = []

    def crosswise(first: uuid.UUID, second: uuid.UUID, label: str) -> str:
        def work(s: Session) -> str:
            attempts.append(label)
            s.execute(update(User).where(User.id == first).values(password_hash=label))
            if attempts.count(label) == 1:
                both_hold_one.wait(30)  # each holds one row and asks for the other's
            s.execute(update(User).where(User.id == second).values(password_hash=label))
            return label

        return db.write_retrying(work)

    with ThreadPoolExecutor(2) as pool:
        done = [pool.submit(crosswise, a.id, b.id, "ab"), pool.submit(crosswise, b.id, a.id, "ba")]
        assert sorted(f.result(60) for f in done) == ["ab", "ba"]
    assert len(attempts) == 3  # one of the two ran twice
    with db.read() as s:
        hashes = set(s.scalars(select(User.password_hash)))
    assert len(hashes) == 1  # the retried one committed last, over both rows
