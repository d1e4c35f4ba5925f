"""What a new password must be: long enough, mixed, not the account's own names, not common.

Pure: no I/O. Every rule that fails gives its own sentence, so a form can show them all.
Passwords are compared and hashed in Unicode NFC, so the same characters typed on different
keyboards are the same password.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PasswordRules:
    min_length: int = 10
    max_length: int = 256
    min_classes: int = 2


CLASS_NAMES = ("lower-case letters", "upper-case letters", "digits", "other characters")
# Among the most common passwords of 10+ characters in public breach lists; longer lists
# belong in a breach-corpus check, which this is not.
COMMON = frozenset(
    """
    password123 password1! password12 password1234 passw0rd12 p@ssw0rd123 password!!
    qwerty12345 qwerty123456 qwertyuiop1 1q2w3e4r5t 1q2w3e4r5t6y q1w2e3r4t5 1qaz2wsx3edc
    zaq12wsxcde zaq1zaq1zaq1 asdfghjkl1 asdf123456 abc1234567 abcd123456 a123456789
    1234567890a 123456789a iloveyou12 iloveyou123 welcome123 welcome1! admin12345
    administrator1 letmein123 trustno1234 sunshine123 football123 baseball123 princess123
    dragon12345 monkey12345 superman123 starwars123 changeme123 computer123 michael123
    """.split()
)


def normalise_password(password: str) -> str:
    return unicodedata.normalize("NFC", password)


def character_classes(password: str) -> int:
    seen = [False, False, False, False]
    for ch in password:
        if ch.islower():
            seen[0] = True
        elif ch.isupper():
            seen[1] = True
        elif ch.isdigit():
            seen[2] = True
        else:
            seen[3] = True  # symbols, spaces, and letters without case (Hangul, kana, …)
    return sum(seen)


def password_problems(
    password: str, *, username: str, email: str, rules: PasswordRules
) -> list[str]:
    """Sentences for every rule ``password`` breaks (empty = acceptable).

    ``username`` and ``email`` are the normalised forms the account will be stored with.
    """
    pw = normalise_password(password)
    problems: list[str] = []
    if len(pw) < rules.min_length:
        problems.append(f"password must be at least {rules.min_length} characters long")
    if len(pw) > rules.max_length:
        problems.append(f"password must be at most {rules.max_length} characters long")
    if any(unicodedata.category(ch) == "Cc" for ch in pw):
        problems.append("password must not contain control characters (tabs, line breaks, …)")
    if character_classes(pw) < rules.min_classes:
        kinds = ", ".join(CLASS_NAMES)
        problems.append(f"password must mix at least {rules.min_classes} kinds of: {kinds}")
    folded = pw.casefold()
    local = email.rpartition("@")[0].casefold()
    if username and username.casefold() in folded:
        problems.append("password must not contain the username")
    if email and (email.casefold() in folded or (len(local) >= 3 and local in folded)):
        problems.append("password must not contain the email address")
    if folded in COMMON:
        problems.append("password is one of the most common passwords")
    return problems
