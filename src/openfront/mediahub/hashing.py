"""argon2id password hashes (argon2-cffi): hash, verify, and whether to rehash after sign-in.

CPU- and memory-heavy by design; the shell runs these on a small thread pool (argon2-cffi
releases the GIL), never on the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from openfront.mediahub.password_rules import normalise_password


@dataclass(frozen=True, slots=True)
class Argon2Params:
    time_cost: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 4


class Hasher:
    def __init__(self, params: Argon2Params) -> None:
        self._ph = PasswordHasher(
            time_cost=params.time_cost,
            memory_cost=params.memory_kib,
            parallelism=params.parallelism,
            type=Type.ID,
        )
        # Verified when an account does not exist, so the reply takes as long as for one that
        # does and timing does not tell which names are registered.
        self._dummy = self._ph.hash("openfront-mediahub-no-such-account")

    def hash(self, password: str) -> str:
        return self._ph.hash(normalise_password(password))

    def verify(self, stored: str | None, password: str) -> bool:
        """Whether ``password`` matches ``stored``; None (no account) never matches."""
        try:
            matched = self._ph.verify(stored or self._dummy, normalise_password(password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return matched and stored is not None

    def needs_rehash(self, stored: str) -> bool:
        try:
            return self._ph.check_needs_rehash(stored)
        except (InvalidHashError, ValueError):
            return True
