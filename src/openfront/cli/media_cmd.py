"""`openfront media`: probe a video, or transcode it to HLS by hand (what MediaHub's jobs run)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from openfront.cli._console import err, fail, out

if TYPE_CHECKING:
    from openfront.media import ProbeResult, TranscodeResult

X264_PRESETS = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"]


@click.group()
def media() -> None:
    """Probe videos and transcode them to an HLS ladder (docs/media-processing.md).

    \b
    Examples:
      openfront media probe clip.mov
      openfront media transcode clip.mov out/clip
    """


@media.command()
@click.argument("source", type=click.Path(path_type=Path, dir_okay=False, exists=True))
def probe(source: Path) -> None:
    """Print what SOURCE holds, whether it is accepted, and the renditions it would get.

    Exits 1 when the file is rejected, with the reason on stderr.
    """
    from openfront.media import MediaRejected
    from openfront.media import probe as probe_file

    try:
        result = asyncio.run(probe_file(source))
    except MediaRejected as exc:
        fail(f"rejected: {exc.reason}")
    summary = _probe_summary(result)
    out.print_json(json.dumps(summary))
    if summary["rejected"] is not None:
        fail(f"rejected: {summary['rejected']}")


def _probe_summary(result: ProbeResult) -> dict[str, object]:
    from openfront.media import reject_reason
    from openfront.media.plan import plan_encode

    reason = reject_reason(result)
    summary: dict[str, object] = {"probe": dataclasses.asdict(result), "rejected": reason}
    if reason is None:
        plan = plan_encode(result)
        summary["renditions"] = [dataclasses.asdict(r) for r in plan.renditions]
    return summary


@media.command()
@click.argument("source", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.argument("out_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--preset",
    type=click.Choice(X264_PRESETS),
    default="veryfast",
    show_default=True,
    help="x264 speed/size trade-off.",
)
@click.option(
    "--crf", type=click.IntRange(0, 51), default=23, show_default=True, help="x264 quality."
)
@click.option(
    "--segment-seconds",
    type=click.IntRange(2, 10),
    default=4,
    show_default=True,
    help="HLS segment and keyframe interval.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    metavar="SECONDS",
    help="Give up after this long (default: 120 s + 10 s per second of video).",
)
def transcode(
    source: Path,
    out_dir: Path,
    preset: str,
    crf: int,
    segment_seconds: int,
    timeout: float | None,
) -> None:
    """Transcode SOURCE into OUT_DIR: hls/master.m3u8, one folder per rendition, poster.jpg,
    thumbs/sprite.jpg and thumbs/thumbnails.vtt.

    \b
    OUT_DIR appears only when everything is written (an older OUT_DIR is replaced whole);
    Ctrl-C stops ffmpeg and leaves nothing behind.

    \b
    Example:
      openfront media transcode clip.mov out/clip --preset fast
    """
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TimeElapsedColumn

    from openfront.media import MediaError, MediaRejected, Settings
    from openfront.media import transcode as run_transcode

    settings = Settings(preset=preset, crf=crf, segment_seconds=segment_seconds)
    columns = (BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=err, transient=True) as bar:
            task = bar.add_task(source.name, total=1.0)

            def advance(fraction: float) -> None:
                bar.update(task, completed=fraction)

            result = asyncio.run(
                run_transcode(
                    source, out_dir, on_progress=advance, settings=settings, timeout=timeout
                )
            )
    except MediaRejected as exc:
        fail(f"rejected: {exc.reason}")
    except MediaError as exc:
        fail(exc.reason)
    _print_result(result)


def _print_result(result: TranscodeResult) -> None:
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for name in ("rendition", "size", "bandwidth", "average", "segments", "playlist"):
        table.add_column(name)
    for r in result.renditions:
        table.add_row(
            r.name,
            f"{r.width}x{r.height}",
            f"{r.bandwidth / 1000:.0f} kb/s",
            f"{r.average_bandwidth / 1000:.0f} kb/s",
            str(r.segments),
            r.playlist,
        )
    out.print(table)
    root = result.out_dir
    out.print(f"master:     {root / result.master_playlist}")
    out.print(f"poster:     {root / result.poster}")
    out.print(f"thumbnails: {root / result.thumbnails} ({root / result.sprite})")
