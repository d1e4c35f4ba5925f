"""Password rules: each broken rule is named in its own sentence; good passwords pass."""

from __future__ import annotations

import pytest

from openfront.mediahub.password_rules import (
    PasswordRules,
    character_classes,
    normalise_password,
    password_problems,
)

RULES = PasswordRules(min_length=10, max_length=64, min_classes=2)


def problems(
    password: str, username: str = "alice", email: str = "w.onder@example.com"
) -> list[str]:
    return password_problems(password, username=username, email=email, rules=RULES)


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery",  # letters and spaces: two kinds
        "Tr0ub4dor&3x",
        "비밀번호는안전해요2024",  # Hangul has no case: it counts as "other"
        "ÅngströmÅngström",
        "x" * 9 + "Y",
        "Zz" * 32,  # exactly max_length
    ],
)
def test_good_passwords_pass(password: str) -> None:
    assert problems(password) == []


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("Short1!", ["password must be at least 10 characters long"]),
        ("Zz" * 32 + "z", ["password must be at most 64 characters long"]),
        (
            "abcdefghijkl",
            [
                "password must mix at least 2 kinds of: lower-case letters, upper-case letters, "
                "digits, other characters"
            ],
        ),
        ("1234567890123", ["password must mix at least 2 kinds of"]),
        ("!!!!!!!!!!!!", ["password must mix at least 2 kinds of"]),
        ("xALICEx12345", ["password must not contain the username"]),
        ("w.onder@example.com!", ["password must not contain the email address"]),
        ("W.ONDER-2024-xyz", ["password must not contain the email address"]),
        ("Password123", ["password is one of the most common passwords"]),
        ("QWERTYUIOP1", ["password is one of the most common passwords"]),
        ("tab\there12345", ["password must not contain control characters"]),
        ("aaaa", ["at least 10 characters", "mix at least 2 kinds"]),
    ],
)
def test_each_broken_rule_is_named(password: str, expected: list[str]) -> None:
    found = problems(password)
    assert len(found) == len(expected), found
    for sentence, start in zip(found, expected, strict=True):
        assert sentence.startswith(start) or start in sentence


def test_a_short_local_part_is_not_searched_for() -> None:
    # "al@..." would otherwise forbid every password containing "al".
    assert problems("Totally-al-right", username="zed", email="al@example.com") == []


def test_rules_are_configurable() -> None:
    strict = PasswordRules(min_length=12, max_length=128, min_classes=3)
    found = password_problems("abcdefgh1234", username="zed", email="z@example.com", rules=strict)
    assert found == [
        "password must mix at least 3 kinds of: lower-case letters, upper-case letters, digits, "
        "other characters"
    ]


@pytest.mark.parametrize(
    ("password", "classes"),
    [("abc", 1), ("aB", 2), ("aB1", 3), ("aB1 ", 4), ("한글", 1), ("Ab한", 3), ("١٢٣", 1)],
)
def test_character_classes(password: str, classes: int) -> None:
    assert character_classes(password) == classes


def test_passwords_are_compared_in_nfc() -> None:
    assert normalise_password("caf\u00e9") == normalise_password("cafe\u0301")
    assert len(normalise_password("cafe\u0301")) == 4
