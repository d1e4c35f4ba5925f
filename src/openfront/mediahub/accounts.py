"""Accounts in the database: users, refresh token families, failed sign-ins.

Blocking calls (SQLAlchemy sessions); the async service runs them on a thread pool. Every
decision that races between processes or regions is one conditional statement in one
transaction: a unique constraint for sign-up, a compare-and-swap UPDATE for refresh rotation.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openfront.mediahub.database import Database
from openfront.mediahub.models import RefreshToken, SigninFailure, User
from openfront.mediahub.names import Email


@dataclass(frozen=True, slots=True)
class Account:
    id: uuid.UUID
    username: str
    email: str
    created_at: datetime
    password_hash: str


class Conflict(Exception):
    def __init__(self, field: Literal["username", "email"]) -> None:
        super().__init__(f"{field} is taken")
        self.field: Literal["username", "email"] = field


@dataclass(frozen=True, slots=True)
class Rotated:
    account: Account


@dataclass(frozen=True, slots=True)
class Refused:
    reason: Literal["unknown", "expired", "revoked", "reused"]


def _account(user: User) -> Account:
    return Account(user.id, user.username, user.email, user.created_at, user.password_hash)


class AccountStore:
    def __init__(self, db: Database, region: str) -> None:
        self.db = db
        self.region = region

    # -- users -----------------------------------------------------------------------------

    def taken(self, username: str, email: Email) -> Literal["username", "email"] | None:
        with self.db.read() as s:
            if s.scalar(select(User.id).where(User.username == username)) is not None:
                return "username"
            if s.scalar(select(User.id).where(User.email_key == email.key)) is not None:
                return "email"
            return None

    def create(self, username: str, email: Email, password_hash: str, now: datetime) -> Account:
        """A new account; Conflict names the field when the username or email is taken."""
        field = self.taken(username, email)
        if field is not None:
            raise Conflict(field)
        user = User(
            id=uuid.uuid4(),
            username=username,
            email=email.address,
            email_key=email.key,
            password_hash=password_hash,
            created_at=now,
        )
        try:
            with self.db.write() as s:
                s.add(user)
        except IntegrityError:
            # Someone registered the same name between the check and the insert.
            field = self.taken(username, email)
            if field is None:
                raise
            raise Conflict(field) from None
        return _account(user)

    def find(self, *, username: str | None = None, email_key: str | None = None) -> Account | None:
        with self.db.read() as s:
            if username is not None:
                user = s.scalar(select(User).where(User.username == username))
            else:
                user = s.scalar(select(User).where(User.email_key == email_key))
            return None if user is None else _account(user)

    def get(self, user_id: uuid.UUID) -> Account | None:
        with self.db.read() as s:
            user = s.get(User, user_id)
            return None if user is None else _account(user)

    def replace_hash(self, user_id: uuid.UUID, old: str, new: str) -> None:
        """Store a rehash, unless the hash changed meanwhile (a password change wins)."""
        with self.db.write() as s:
            s.execute(
                update(User)
                .where(User.id == user_id, User.password_hash == old)
                .values(password_hash=new)
                .execution_options(synchronize_session=False)
            )

    # -- failed sign-ins -------------------------------------------------------------------

    def failures(self, keys: Sequence[str], since: float) -> dict[str, list[float]]:
        found: dict[str, list[float]] = defaultdict(list)
        with self.db.read() as s:
            rows = s.execute(
                select(SigninFailure.key, SigninFailure.at).where(
                    SigninFailure.key.in_(keys), SigninFailure.at > since
                )
            )
            for key, at in rows:
                found[key].append(at)
        return {key: found[key] for key in keys}

    def record_failure(self, keys: Sequence[str], at: float, forget_before: float) -> None:
        """Add a failure under each key, and drop every failure (any key) too old to matter."""
        with self.db.write() as s:
            s.add_all(SigninFailure(key=key, at=at) for key in keys)
            s.execute(
                delete(SigninFailure)
                .where(SigninFailure.at <= forget_before)
                .execution_options(synchronize_session=False)
            )

    def clear_failures(self, key: str) -> None:
        with self.db.write() as s:
            s.execute(
                delete(SigninFailure)
                .where(SigninFailure.key == key)
                .execution_options(synchronize_session=False)
            )

    # -- refresh tokens --------------------------------------------------------------------

    def issue(self, user_id: uuid.UUID, token_hash: str, now: datetime, ttl: int) -> None:
        """The first refresh token of a new sign-in (a new family); drops expired ones."""
        with self.db.write() as s:
            s.execute(
                delete(RefreshToken)
                .where(RefreshToken.user_id == user_id, RefreshToken.expires_at <= now)
                .execution_options(synchronize_session=False)
            )
            s.add(self._token(token_hash, uuid.uuid4(), user_id, now, ttl))

    def rotate(self, presented: str, new_hash: str, now: datetime, ttl: int) -> Rotated | Refused:
        """Spend ``presented`` and issue ``new_hash`` in its family, or say why not.

        Presenting a token that was already spent means two parties hold it (one of them a
        thief): the whole family is revoked, so both must sign in again. Concurrent refreshes of
        one family can deadlock on MariaDB (each revoking the family): the loser is run again.
        """

        def work(s: Session) -> Rotated | Refused:
            return self._rotate(s, presented, new_hash, now, ttl)

        return self.db.write_retrying(work)

    def _rotate(
        self, s: Session, presented: str, new_hash: str, now: datetime, ttl: int
    ) -> Rotated | Refused:
        spent = cast(
            CursorResult[Any],
            s.execute(
                update(RefreshToken)
                .where(
                    RefreshToken.token_hash == presented,
                    RefreshToken.used_at.is_(None),
                    RefreshToken.revoked_at.is_(None),
                    RefreshToken.expires_at > now,
                )
                .values(used_at=now)
                .execution_options(synchronize_session=False)
            ),
        )
        token = s.get(RefreshToken, presented)
        if token is None:
            return Refused("unknown")
        if spent.rowcount == 1:
            user = s.get(User, token.user_id)
            if user is None:
                return Refused("unknown")
            s.add(self._token(new_hash, token.family_id, token.user_id, now, ttl))
            return Rotated(_account(user))
        if token.revoked_at is not None:
            return Refused("revoked")
        if token.expires_at <= now:
            return Refused("expired")
        self._revoke(s, token.family_id, now)
        return Refused("reused")

    def revoke_family(self, presented: str, now: datetime) -> None:
        with self.db.write() as s:
            token = s.get(RefreshToken, presented)
            if token is not None:
                self._revoke(s, token.family_id, now)

    def _revoke(self, s: Session, family_id: uuid.UUID, now: datetime) -> None:
        s.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )

    def _token(
        self, token_hash: str, family: uuid.UUID, user_id: uuid.UUID, now: datetime, ttl: int
    ) -> RefreshToken:
        return RefreshToken(
            token_hash=token_hash,
            family_id=family,
            user_id=user_id,
            region=self.region,
            issued_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
