"""ffmpeg's stderr into one line for the uploader."""

from __future__ import annotations

import pytest

from openfront.media.plan.diagnose import MAX_REASON, failure_reason


@pytest.mark.parametrize(
    ("stderr", "reason"),
    [
        ("", None),
        ("\n\nConversion failed!\n", None),
        (
            "[h264 @ 0x5593] Invalid NAL unit size (3103 > 1954).\n"
            "[vist#0:0/h264 @ 0x55] [dec:h264 @ 0x55] Decoding error: Invalid data found when "
            "processing input\n",
            "not a video file: ffmpeg recognised no audio or video format in it",
        ),
        (
            "[libx264 @ 0x1] width not divisible by 2 (641x360)\n"
            "[vost#0:0/libx264 @ 0x2] Error while opening encoder - maybe incorrect parameters\n"
            "Conversion failed!\n",
            "Error while opening encoder - maybe incorrect parameters",
        ),
        ("[out#0/hls @ 0x1] Error opening output hls/x: Permission denied\n", "permission denied"),
        ("[in#0 @ 0x1] Error opening input: No such file or directory\n", "does not exist"),
        (
            "Error: something odd happened\nExiting normally, received signal 15.\n",
            "something odd happened",
        ),
    ],
)
def test_failure_reason(stderr: str, reason: str | None) -> None:
    found = failure_reason(stderr)
    if reason is None:
        assert found is None
    else:
        assert found is not None and reason in found and "\n" not in found


def test_long_lines_are_shortened_and_control_characters_removed() -> None:
    found = failure_reason("x" * 1000 + "\x1b[0m\n")
    assert found is not None and len(found) == MAX_REASON and found.endswith("…")
    assert "\x1b" not in (failure_reason("bad \x1b[31mthing\n") or "")
