"""Shared terminal output for the commands: rich on stderr for errors, plain exits."""

from __future__ import annotations

from typing import NoReturn

import click
from rich.console import Console
from rich.text import Text

EXIT_FAILURE = 1
EXIT_CONFIG = 2  # bad configuration or usage, like click's own usage errors

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    """Print `error: message` in red on stderr and exit with `code` (no traceback)."""
    text = Text("error: ", style="bold red")
    text.append(message, style="red")
    err.print(text)
    raise click.exceptions.Exit(code)


def warn(message: str) -> None:
    err.print(Text(message, style="yellow"))


def parse_hostport(value: str, option: str) -> tuple[str, int]:
    """`HOST:PORT`, `[V6]:PORT` or `:PORT` (all interfaces) into (host, port)."""
    host, sep, port_s = value.rpartition(":")
    if not sep or not port_s.isdigit() or not 0 <= int(port_s) <= 65535:
        fail(f"{option}: expected HOST:PORT (got {value!r})", EXIT_CONFIG)
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host or "0.0.0.0", int(port_s)
