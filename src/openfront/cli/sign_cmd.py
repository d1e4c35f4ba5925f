"""`openfront sign-url` and `openfront sign-cookie`: private content for operators and tests."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

from openfront.cli._console import EXIT_CONFIG, fail, warn

if TYPE_CHECKING:
    from openfront.signing import PrivateKey

DEFAULT_EXPIRES_IN = 3600
COOKIE_ATTRIBUTES = "; Path=/"


def _signing_options(command: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.argument("url"),
        click.option(
            "--key-pair-id",
            required=True,
            metavar="ID",
            help="Id of the public key in the trusted key group (PublicKeys[].Id).",
        ),
        click.option(
            "--private-key",
            required=True,
            type=click.Path(path_type=Path, dir_okay=False),
            metavar="FILE",
            help="PEM private key (RSA or EC P-256) matching that public key.",
        ),
        click.option(
            "--expires-in",
            type=click.IntRange(min=1),
            metavar="SECONDS",
            help=f"Valid for this long from now (default {DEFAULT_EXPIRES_IN}).",
        ),
        click.option(
            "--expires", type=click.IntRange(min=0), metavar="EPOCH", help="Valid until then."
        ),
        click.option(
            "--policy",
            type=click.Path(path_type=Path, dir_okay=False),
            metavar="FILE",
            help="A custom policy (JSON) instead of the canned one; no --expires then.",
        ),
        click.option(
            "--hash-algorithm",
            type=click.Choice(["SHA1", "SHA256"], case_sensitive=False),
            default="SHA1",
            show_default=True,
            help="Digest signed; SHA256 adds Hash-Algorithm=SHA256.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        fail(f"{what} {path}: not UTF-8 text", EXIT_CONFIG)
    except OSError as exc:
        fail(f"{what} {path}: cannot read: {exc.strerror or exc}", EXIT_CONFIG)


def _private_key(path: Path) -> PrivateKey:
    from openfront.signing import load_private_key

    try:
        return load_private_key(_read(path, "--private-key"))
    except ValueError as exc:
        fail(f"--private-key {path}: {' '.join(str(exc).split())}", EXIT_CONFIG)


def _policy_text(path: Path) -> str:
    try:
        document = json.loads(_read(path, "--policy"))
    except json.JSONDecodeError as exc:
        fail(f"--policy {path}: not JSON: line {exc.lineno}, column {exc.colno}", EXIT_CONFIG)
    # CloudFront asks for the policy without whitespace; it also keeps the URL short.
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def _terms(
    expires_in: int | None, expires: int | None, policy: Path | None
) -> tuple[int | None, str | None]:
    """(canned expiry, custom policy): exactly one is set."""
    if expires_in is not None and expires is not None:
        fail("give --expires-in or --expires, not both", EXIT_CONFIG)
    if policy is not None:
        if expires_in is not None or expires is not None:
            msg = "--policy carries its own DateLessThan: leave out --expires and --expires-in"
            fail(msg, EXIT_CONFIG)
        return None, _policy_text(policy)
    now = int(time.time())
    if expires is None:
        expires = now + (expires_in or DEFAULT_EXPIRES_IN)
    elif expires <= now:
        warn(f"--expires {expires} is in the past: the signature is already expired")
    return expires, None


def _inputs(
    url: str, private_key: Path, expires_in: int | None, expires: int | None, policy: Path | None
) -> tuple[PrivateKey, int | None, str | None]:
    """The checked URL's signing key, canned expiry and custom policy (one of the two)."""
    _check_url(url)
    return (_private_key(private_key), *_terms(expires_in, expires, policy))


def _check_url(url: str) -> None:
    if not url.startswith(("http://", "https://")) or not urlsplit(url).netloc:
        fail(f"expected an http:// or https:// URL (got {url!r})", EXIT_CONFIG)


@click.command("sign-url")
@_signing_options
def sign_url_cmd(
    url: str,
    key_pair_id: str,
    private_key: Path,
    expires_in: int | None,
    expires: int | None,
    policy: Path | None,
    hash_algorithm: str,
) -> None:
    """Print URL signed for a behavior with TrustedKeyGroups (CloudFront's format).

    \b
    Without --policy, a canned policy for exactly this URL (query included).
    Examples:
      openfront sign-url https://cdn.example.com/private/a.jpg \\
          --key-pair-id K2JCJMDEHXQW5F --private-key private.pem --expires-in 600
      openfront sign-url https://cdn.example.com/private/a.jpg \\
          --key-pair-id K2JCJMDEHXQW5F --private-key private.pem --policy policy.json
    """
    from openfront.signing import sign_url

    key, canned, custom = _inputs(url, private_key, expires_in, expires, policy)
    try:
        signed = sign_url(
            url, key_pair_id, key, expires=canned, policy=custom, hash_algorithm=hash_algorithm
        )
    except ValueError as exc:
        fail(str(exc), EXIT_CONFIG)
    click.echo(signed)


@click.command("sign-cookie")
@_signing_options
def sign_cookie_cmd(
    url: str,
    key_pair_id: str,
    private_key: Path,
    expires_in: int | None,
    expires: int | None,
    policy: Path | None,
    hash_algorithm: str,
) -> None:
    """Print the CloudFront-* Set-Cookie values, one per line, for URL.

    \b
    Without --policy: a canned policy for exactly URL, or, when URL holds a '*'
    (quote it), a custom policy for that resource pattern: https://cdn.example.com/private/*
    Example:
      openfront sign-cookie 'https://cdn.example.com/private/*' \\
          --key-pair-id K2JCJMDEHXQW5F --private-key private.pem --expires-in 86400
    """
    from openfront.signing import build_policy, sign_cookies

    key, canned, custom = _inputs(url, private_key, expires_in, expires, policy)
    try:
        if canned is not None and "*" in url:
            custom, canned = build_policy(url, canned), None
        cookies = sign_cookies(
            url, key_pair_id, key, expires=canned, policy=custom, hash_algorithm=hash_algorithm
        )
    except ValueError as exc:
        fail(str(exc), EXIT_CONFIG)
    secure = "; Secure" if url.startswith("https://") else ""
    for name, value in cookies.items():
        click.echo(f"{name}={value}{COOKIE_ATTRIBUTES}{secure}; HttpOnly")
