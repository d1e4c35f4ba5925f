"""Usernames and emails: what is accepted, the stored form, and the message for each refusal."""

from __future__ import annotations

import pytest

from openfront.mediahub.names import InvalidName, normalise_email, normalise_username


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("alice", "alice"),
        ("Alice", "alice"),
        ("  bob_99 ", "bob_99"),
        ("a.b-c_d", "a.b-c_d"),
        ("abc", "abc"),
        ("x" * 32, "x" * 32),
        ("007", "007"),
    ],
)
def test_usernames_are_stored_lower_case(raw: str, stored: str) -> None:
    assert normalise_username(raw) == stored


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("ab", "3 to 32 characters"),
        ("x" * 33, "3 to 32 characters"),
        ("", "3 to 32 characters"),
        ("al ice", "may only contain"),
        ("alice@x", "may only contain"),
        ("álice", "may only contain"),
        ("ǅungla", "may only contain"),  # lower-cases to non-ASCII
        ("_alice", "start and end with a letter or a digit"),
        ("alice.", "start and end with a letter or a digit"),
        ("-al", "start and end with a letter or a digit"),
        ("al..ice", "must not contain '..'"),
    ],
)
def test_bad_usernames_say_why(raw: str, message: str) -> None:
    with pytest.raises(InvalidName, match=message):
        normalise_username(raw)


@pytest.mark.parametrize(
    ("raw", "address", "key"),
    [
        ("alice@example.com", "alice@example.com", "alice@example.com"),
        ("  Alice@EXAMPLE.com \n", "Alice@example.com", "alice@example.com"),
        ("Bob.Smith+tag@Mail.Example.ORG", "Bob.Smith+tag@mail.example.org", None),
        ("user@Bücher.example", "user@xn--bcher-kva.example", None),
        ("user@xn--bcher-kva.example", "user@xn--bcher-kva.example", None),
        ("사용자@예시.한국", "사용자@xn--vv4b11d.xn--3e0b707e", None),
        ("a!#$%&'*+/=?^_`{|}~-@example.com", "a!#$%&'*+/=?^_`{|}~-@example.com", None),
        ("x@sub.domain-with-dash.example", "x@sub.domain-with-dash.example", None),
    ],
)
def test_emails_are_trimmed_with_an_idna_lower_case_domain(
    raw: str, address: str, key: str | None
) -> None:
    email = normalise_email(raw)
    assert email.address == address
    local, _, domain = address.rpartition("@")
    assert email.key == (key or f"{local.lower()}@{domain}")


def test_the_local_part_keeps_its_case_but_uniqueness_ignores_it() -> None:
    upper, lower = normalise_email("Bob@example.com"), normalise_email("bob@EXAMPLE.COM")
    assert upper.address != lower.address
    assert upper.key == lower.key


def test_unicode_local_parts_are_nfc() -> None:
    composed, decomposed = "jos\u00e9@example.com", "jose\u0301@example.com"
    assert normalise_email(composed) == normalise_email(decomposed)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "look like name@example.com"),
        ("alice", "look like name@example.com"),
        ("@example.com", "look like name@example.com"),
        ("alice@", "look like name@example.com"),
        ("a b@example.com", "must not contain ' '"),
        ('"quoted"@example.com', "must not contain '\"'"),
        ("a@b@example.com", "must not contain '@'"),
        (".alice@example.com", "must not start or end with '.'"),
        ("alice.@example.com", "must not start or end with '.'"),
        ("al..ice@example.com", "contain '..'"),
        ("x" * 65 + "@example.com", "at most 64 bytes"),
        ("alice@localhost", "full name such as example.com"),
        ("alice@example..com", "not a valid domain name"),
        ("alice@example.com.", "full name such as example.com"),
        ("alice@-example.com", "not a valid domain name"),
        ("alice@exa_mple.com", "not a valid domain name"),
        ("alice@[127.0.0.1]", "not an address literal"),
        ("alice@127.0.0.1", "not an IP address"),
        ("a" * 20 + "@" + ".".join(["x" * 60] * 4) + ".com", "at most 254 bytes"),
        ("alice\x00@example.com", "must not contain"),
    ],
)
def test_bad_emails_say_why(raw: str, message: str) -> None:
    with pytest.raises(InvalidName, match=message.replace("(", r"\(").replace(".", r"\.")):
        normalise_email(raw)
