"""ffmpeg's stderr into one line a person can act on."""

from __future__ import annotations

import re

MAX_REASON = 200

# `[in#0 @ 0x55aa0b4c7f00] `, `[h264 @ 0x...] `, `[vist#0:0/h264 @ 0x...] [dec:h264 @ 0x...] `
_PREFIX = re.compile(r"^(?:\[[^\]]*\]\s*)+")
# Summary lines that only repeat that something failed; the line before them says what.
_GENERIC = re.compile(
    r"^(Error opening (input|output) files?\b|Conversion failed|Exiting normally|"
    r"At least one output file must be specified|Terminating thread|"
    r"Nothing was written into output file|Error while (filtering|decoding|encoding)\b|"
    r"Error closing|Task finished with error code)",
    re.I,
)
# What ffmpeg says → what the uploader should hear.
_FRIENDLY = (
    (
        "moov atom not found",
        "the file is incomplete: its MP4 index (moov atom) is missing, so the upload was "
        "probably cut short",
    ),
    (
        "Format not on whitelist",
        "unsupported file format: upload MP4, MOV, MKV, WebM, AVI, FLV, MPEG-TS, Ogg, WMV, MXF "
        "or an animated GIF",
    ),
    (
        "Invalid data found when processing input",
        "not a video file: ffmpeg recognised no audio or video format in it",
    ),
    ("No such file or directory", "the source file does not exist"),
    ("Permission denied", "the source file cannot be read (permission denied)"),
)


def failure_reason(stderr: str) -> str | None:
    """The telling line of ffmpeg's stderr in plain words (a known cause wins over the last
    line: `moov atom not found` comes before the generic `Invalid data found`); None if empty."""
    lines = [_PREFIX.sub("", line).strip() for line in stderr.splitlines()]
    meaningful = [line for line in lines if line and not _GENERIC.match(line)]
    if not meaningful:
        return None
    lowered = [line.lower() for line in meaningful]
    for needle, friendly in _FRIENDLY:
        if any(needle.lower() in line for line in lowered):
            return friendly
    last = meaningful[-1].removeprefix("Error opening input: ").removeprefix("Error: ")
    return _shorten(last)


def _shorten(text: str) -> str:
    text = "".join(char if char.isprintable() else " " for char in text)
    if len(text) <= MAX_REASON:
        return text
    return text[: MAX_REASON - 1] + "…"
