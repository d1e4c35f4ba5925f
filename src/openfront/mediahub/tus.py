"""tus uploads streamed into an S3 multipart upload, resumable across drops and restarts.

Bytes of a PATCH go to a staging file ``TUS_DIR/<video id>.<part number>``; once it holds
``part_size`` bytes it becomes that part of the multipart upload, the part is recorded in the
video's row, and the file is removed. The offset is the recorded parts' bytes plus the staging
file's size, fsynced before it is acknowledged, so an acknowledged offset survives a crash. A
staging file whose part is already recorded (a crash between recording and removing) is stale
and removed when the upload is next touched. The last PATCH uploads the last part, completes
the multipart upload, checks the object's size and queues the video.

One PATCH at a time per upload: a new PATCH or HEAD stops the one still running (a client that
lost its connection often resumes before the server notices), as tusd does.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from openfront.mediahub import errors
from openfront.mediahub.keys_layout import S3_MAX_PART
from openfront.mediahub.models import Video
from openfront.mediahub.tus_protocol import CHECKSUM_MISMATCH, Checksum
from openfront.mediahub.uploads import VideoService, _s3_failed, not_found
from openfront.mediahub.videos import Owned, tus_parts
from openfront.storage.client import error_code

_log = logging.getLogger("openfront.mediahub.tus")
LOCK_WAIT = 10.0  # seconds a request waits for a stopped PATCH to save what it received
Part = tuple[int, str, int]


@dataclass
class Staged:
    """Where a tus upload stands: its recorded parts and its staging file."""

    parts: list[Part]
    path: Path
    staged: int

    @property
    def recorded(self) -> int:
        return sum(p[2] for p in self.parts)

    @property
    def offset(self) -> int:
        return self.recorded + self.staged

    @property
    def next_part(self) -> int:
        return len(self.parts) + 1


class _Holder:
    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.task: asyncio.Task[object] | None = None
        self.users = 0  # holding or waiting: the entry is dropped only when none are left


class TusUploads:
    def __init__(self, service: VideoService, staging_dir: Path) -> None:
        self.service = service
        self.dir = staging_dir
        self._holders: dict[uuid.UUID, _Holder] = {}
        service.on_deleted.append(self.remove_files)

    def start(self) -> None:
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)

    # -- files ---------------------------------------------------------------------------

    def staging_path(self, video_id: uuid.UUID, part_number: int) -> Path:
        return self.dir / f"{video_id}.{part_number:05d}"

    def files_of(self, video_id: uuid.UUID) -> list[Path]:
        return sorted(self.dir.glob(f"{video_id}.*"))

    def remove_files(self, video_id: uuid.UUID) -> None:
        for path in self.files_of(video_id):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def staged(self, video: Video) -> Staged:
        """The upload's state, stale staging files removed (blocking)."""
        parts = tus_parts(video)
        path = self.staging_path(video.id, len(parts) + 1)
        for other in self.files_of(video.id):
            if other != path:
                other.unlink(missing_ok=True)
        try:
            # Bytes a stopped PATCH wrote may still be only in the page cache: make them
            # durable before they count towards an acknowledged offset.
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return Staged(parts, path, 0)
        try:
            os.fsync(fd)
            size = os.fstat(fd).st_size
        finally:
            os.close(fd)
        return Staged(parts, path, size)

    # -- one PATCH at a time -------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def exclusive(
        self, video_id: uuid.UUID, *, stoppable: bool = False
    ) -> AsyncIterator[None]:
        """Hold the upload; a ``stoppable`` holder (a PATCH reading a body) is stopped by the
        next request instead of making it wait."""
        holder = self._holders.setdefault(video_id, _Holder())
        holder.users += 1
        try:
            if holder.lock.locked() and holder.task is not None:
                holder.task.cancel()  # it saves what it has received, then lets go
            try:
                await asyncio.wait_for(holder.lock.acquire(), LOCK_WAIT)
            except TimeoutError:
                raise errors.ApiError(
                    423, "upload_locked", "another request is still writing to this upload"
                ) from None
            holder.task = asyncio.current_task() if stoppable else None
            try:
                yield
            finally:
                holder.task = None
                holder.lock.release()
        finally:
            holder.users -= 1
            if holder.users == 0:
                del self._holders[video_id]

    def settle(self, video_id: uuid.UUID) -> None:
        """The body is read: from here on the holder finishes its work uninterrupted."""
        holder = self._holders.get(video_id)
        if holder is not None and holder.task is asyncio.current_task():
            holder.task = None

    # -- writing -------------------------------------------------------------------------

    async def write(
        self,
        owned: Owned,
        state: Staged,
        chunks: AsyncIterator[bytes],
        checksum: Checksum | None,
    ) -> Staged:
        """Append a PATCH body at ``state.offset``; parts go to S3 as they fill (or, with a
        checksum, once the whole body is verified). Returns the new state, fsynced."""
        v = owned.video
        part_size = v.part_size
        start_staged = state.staged
        hasher = checksum.hasher() if checksum else None
        handle = await asyncio.to_thread(open, state.path, "ab")
        try:
            try:
                async for chunk in chunks:
                    if state.offset + len(chunk) > v.size:
                        raise errors.ApiError(
                            413,
                            "payload_too_large",
                            f"the body runs past Upload-Length ({v.size} bytes)",
                        )
                    if hasher is not None and state.staged + len(chunk) > S3_MAX_PART:
                        raise errors.ApiError(
                            413, "payload_too_large", "send checksummed chunks under 5 GiB"
                        )
                    handle.write(chunk)
                    state.staged += len(chunk)
                    if hasher is not None:
                        hasher.update(chunk)
                    elif state.staged >= part_size and state.offset < v.size:
                        handle = await self._flush(owned, state, handle)
            except errors.ApiError:
                if hasher is not None:
                    _truncate(handle, start_staged)
                    state.staged = start_staged
                await _sync(handle)
                raise
            except asyncio.CancelledError:
                # Stopped by a newer request: keep every byte received (tus "SHOULD"),
                # except a checksummed chunk, which counts only whole.
                if hasher is not None:
                    _truncate(handle, start_staged)
                handle.flush()
                os.fsync(handle.fileno())  # not awaited: a cancelled task may not await again
                raise
            except Exception as exc:  # the connection dropped mid-body: keep what came
                if hasher is not None:
                    _truncate(handle, start_staged)
                    state.staged = start_staged
                _log.info("upload %s: body ended early (%s)", v.id, type(exc).__name__)
            if hasher is not None and checksum is not None and hasher.digest() != checksum.digest:
                _truncate(handle, start_staged)
                state.staged = start_staged
                raise errors.ApiError(
                    CHECKSUM_MISMATCH,
                    "checksum_mismatch",
                    f"the chunk's {checksum.algorithm} does not match Upload-Checksum: "
                    "it was discarded, send it again",
                )
            await _sync(handle)
            if state.staged >= part_size and state.offset < v.size:
                handle = await self._flush(owned, state, handle)
        finally:
            handle.close()
        return state

    async def _flush(
        self, owned: Owned, state: Staged, handle: io.BufferedWriter
    ) -> io.BufferedWriter:
        """The staging file becomes the next part; returns the next staging file's handle."""
        await _sync(handle)
        upload = asyncio.ensure_future(self.service.run(self._upload_part, owned, state))
        try:
            await asyncio.shield(upload)
        except asyncio.CancelledError:
            # The part is being recorded: let it finish before the lock goes to the next request.
            with contextlib.suppress(Exception):
                await upload
            raise
        handle.close()
        return await asyncio.to_thread(open, state.path, "ab")

    def _upload_part(self, owned: Owned, state: Staged) -> None:
        v = owned.video
        number = state.next_part
        try:
            with state.path.open("rb") as body:
                answer = self.service.s3.upload_part(
                    Bucket=v.bucket,
                    Key=v.key,
                    UploadId=v.upload_id,
                    PartNumber=number,
                    Body=body,
                    ContentLength=state.staged,
                )
        except Exception as exc:
            raise _s3_failed(exc) from None
        state.parts.append((number, str(answer["ETag"]), state.staged))
        self.service.store.save_tus_parts(v.id, state.parts, state.recorded / v.size)
        state.path.unlink()
        state.path = self.staging_path(v.id, state.next_part)
        state.staged = 0

    # -- finishing -----------------------------------------------------------------------

    def finish(self, owned: Owned, state: Staged) -> None:
        """All bytes are here: last part, CompleteMultipartUpload, size check, queued (blocking;
        safe to repeat after a crash part-way)."""
        v = owned.video
        if state.staged or not state.parts:
            self._upload_part(owned, state)
        try:
            self.service.s3.complete_multipart_upload(
                Bucket=v.bucket,
                Key=v.key,
                UploadId=v.upload_id,
                MultipartUpload={
                    "Parts": [{"PartNumber": n, "ETag": e} for n, e, _ in state.parts]
                },
            )
        except Exception as exc:
            if error_code(exc) != "NoSuchUpload":  # completed before a crash: HEAD decides
                raise _s3_failed(exc) from None
        self.service.verify_and_queue(owned)
        self.remove_files(v.id)

    def load(self, owner_id: uuid.UUID, video_id: uuid.UUID) -> tuple[Owned, Staged]:
        owned = self.service.owned_by(owner_id, video_id)
        if owned.video.upload_kind != "tus":
            raise not_found()
        return owned, self.staged(owned.video)


def _truncate(handle: io.BufferedWriter, size: int) -> None:
    handle.flush()
    handle.truncate(size)
    handle.seek(size)


async def _sync(handle: io.BufferedWriter) -> None:
    handle.flush()
    await asyncio.to_thread(os.fsync, handle.fileno())
