"""The seed's ``video-upload`` function: presigned uploads to the region's media bucket, their
completion, and the videos API behind them (listing, detail, edit, delete).

Every object an upload writes carries a version stamp (``x-amz-meta-openfront-version``, see
``storage.versioning``): the stamp in the upload's key, taken when the upload was created. A
presigned PUT signs it (the client must send the header, or the store refuses the signature);
a multipart or tus upload gives it to CreateMultipartUpload, and the completed object keeps it.

Blocking work (boto3, SQLAlchemy) runs on the service's own thread pool; each public method of
:class:`VideoService` is a coroutine. A completed upload becomes ``queued`` and is handed to
:attr:`VideoService.on_queued`, the hook the processing step plugs its job queue into.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import mimetypes
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

from openfront.config.mediahub import MediaHubConfig, MediaStorageConfig
from openfront.mediahub import errors
from openfront.mediahub.database import Database
from openfront.mediahub.keys_layout import (
    PartPlan,
    derived_prefix,
    extension,
    plan_parts,
    safe_filename,
)
from openfront.mediahub.paging import decode_cursor
from openfront.mediahub.videos import NewVideo, Owned, VideoStore, video_json
from openfront.storage.client import describe_error, error_code, s3_client
from openfront.storage.credentials import read_credentials_file
from openfront.storage.versioning import (
    VERSION_HEADER,
    StampClock,
    VersionStamp,
    key_stamp,
    parse_stamp,
    stamp_metadata,
)

P = ParamSpec("P")
T = TypeVar("T")
_log = logging.getLogger("openfront.mediahub.uploads")
THREADS = 8
MAX_TITLE = 200
MAX_FILENAME_CHARS = 255
DELETE_BATCH = 1000  # DeleteObjects' limit


def _s3_failed(exc: BaseException) -> errors.ApiError:
    return errors.ApiError(
        502, "storage_unavailable", f"the media store failed: {describe_error(exc)}"
    )


def not_found() -> errors.ApiError:
    return errors.ApiError(404, "not_found", "no such video")


@dataclass(frozen=True, slots=True)
class UploadRequest:
    filename: str
    size: int
    content_type: str
    title: str


def check_upload(
    cfg: MediaHubConfig, req: UploadRequest, used: tuple[int, int] | None = None
) -> str:
    """The key-safe file name, or the refusal: size, type, extension, then (given ``used``,
    the videos and bytes the user keeps) the quotas."""
    up = cfg.uploads
    if not req.filename.strip():
        raise errors.missing("filename")
    if len(req.filename) > MAX_FILENAME_CHARS:
        raise errors.invalid("filename", f"filename is longer than {MAX_FILENAME_CHARS} characters")
    if len(req.title) > MAX_TITLE:
        raise errors.invalid("title", f"title is longer than {MAX_TITLE} characters")
    if req.size <= 0:
        raise errors.invalid("size", "size must be a positive number of bytes")
    if req.size > up.max_file_size:
        raise errors.ApiError(
            413,
            "file_too_large",
            f"the file is larger than the {up.max_file_size}-byte limit",
            field="size",
            extra={"limit": up.max_file_size},
        )
    major, _, minor = req.content_type.partition("/")
    if major.strip().lower() != "video" or not minor.strip():
        raise errors.ApiError(
            415,
            "unsupported_type",
            f"only videos can be uploaded (content type video/…, not {req.content_type[:80]!r})",
            field="content_type",
        )
    safe = safe_filename(req.filename)
    if extension(safe) not in up.allowed_extensions:
        raise errors.ApiError(
            415,
            "unsupported_type",
            "the file name must end in one of: "
            + ", ".join(f".{e}" for e in up.allowed_extensions),
            field="filename",
        )
    if used is not None:
        check_quota(cfg, req.size, used)
    return safe


def check_quota(cfg: MediaHubConfig, size: int, used: tuple[int, int]) -> None:
    """Refuse an upload of ``size`` bytes that would take the user past a quota."""
    up = cfg.uploads
    count, total = used
    if up.quota_videos and count >= up.quota_videos:
        raise errors.ApiError(
            403,
            "quota_exceeded",
            f"you already keep {count} videos, the most allowed: delete some first",
            extra={"limit": "videos", "quota": up.quota_videos, "used": count},
        )
    if up.quota_bytes and total + size > up.quota_bytes:
        raise errors.ApiError(
            413,
            "quota_exceeded",
            f"this upload would take your videos past the {up.quota_bytes}-byte quota "
            f"({total} bytes used)",
            extra={"limit": "bytes", "quota": up.quota_bytes, "used": total},
        )


def guess_video_type(filename: str) -> str:
    guessed, _ = mimetypes.guess_type("x." + extension(safe_filename(filename)))
    return guessed or "application/octet-stream"


class VideoService:
    def __init__(
        self, cfg: MediaHubConfig, db: Database, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.cfg = cfg
        self.store = VideoStore(db)
        self.clock = clock
        self.on_queued: Callable[[uuid.UUID], None] = lambda _video_id: None
        self.on_deleted: list[Callable[[uuid.UUID], None]] = []
        self._pool = ThreadPoolExecutor(THREADS, thread_name_prefix="mediahub-videos")
        self._clients: tuple[Any, Any] | None = None
        self.stamps = StampClock(cfg.region)
        if parse_stamp(str(VersionStamp(0, cfg.region))) is None:
            _log.warning(
                "region %r is not an AWS-style name (ap-northeast-2): the replication auditor "
                "cannot read this region's version stamps and ranks its objects by LastModified",
                cfg.region,
            )

    async def close(self) -> None:
        await asyncio.to_thread(self._pool.shutdown, True)

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    # -- the store ---------------------------------------------------------------------------

    def storage(self) -> MediaStorageConfig:
        if self.cfg.storage is None:
            raise errors.ApiError(
                503, "storage_not_configured", "uploads are off: this server has no media bucket"
            )
        return self.cfg.storage

    @property
    def bucket(self) -> str:
        return self.storage().bucket

    def clients(self) -> tuple[Any, Any]:
        """(client for the server's own calls, client that presigns for browsers)."""
        storage = self.storage()
        if self._clients is None:
            try:
                creds = read_credentials_file(storage.credentials_file)
            except Exception as exc:
                _log.error("media store credentials: %s", exc)
                raise errors.ApiError(
                    503, "storage_unavailable", "the media store's credentials cannot be read"
                ) from None
            region = storage.signing_region or self.cfg.region
            inner = s3_client(storage.endpoint, creds, region)
            public = storage.public_endpoint
            outer = s3_client(public, creds, region) if public else inner
            self._clients = (inner, outer)
        return self._clients

    @property
    def s3(self) -> Any:
        return self.clients()[0]

    # -- version stamps ----------------------------------------------------------------------

    def new_stamp(self) -> VersionStamp:
        return self.stamps.stamp(time.time_ns())

    def upload_stamp(self, key: str) -> VersionStamp:
        """The stamp an upload's object is written with: the one in its key, so every URL of
        the upload (and a resumed one) signs the same stamp; a new one for a key made before
        keys carried stamps."""
        return key_stamp(key) or self.new_stamp()

    # -- presigned uploads -------------------------------------------------------------------

    def _new_video(self, owner_id: uuid.UUID, req: UploadRequest, kind: str) -> NewVideo:
        safe = check_upload(self.cfg, req)  # the quotas: in the transaction that inserts
        plan = plan_parts(req.size, self.cfg.uploads.part_size)
        return NewVideo(
            owner_id=owner_id,
            region=self.cfg.region,
            bucket=self.bucket,
            title=req.title.strip() or req.filename.strip()[:MAX_TITLE],
            filename=req.filename,
            safe_name=safe,
            content_type=req.content_type,
            size=req.size,
            upload_kind=kind,
            part_size=plan.part_size,
        )

    def create_row(self, owner_id: uuid.UUID, req: UploadRequest, kind: str) -> Owned:
        """A checked, inserted ``uploading`` row; multipart kinds get their S3 upload too."""
        new = self._new_video(owner_id, req, kind)
        s3 = self.s3
        cfg = self.cfg

        def admit(used: tuple[int, int]) -> None:
            check_quota(cfg, new.size, used)

        video = self.store.create(new, self.new_stamp().ns, self.now(), None, admit)
        if kind != "single":
            try:
                created = s3.create_multipart_upload(
                    Bucket=new.bucket,
                    Key=video.key,
                    ContentType=new.content_type,
                    Metadata=stamp_metadata(self.upload_stamp(video.key)),
                )
            except Exception as exc:
                self.store.remove(video.id)
                raise _s3_failed(exc) from None
            self.store.set_upload_id(video.id, created["UploadId"])
        owned = self.store.get(video.id)
        assert owned is not None
        return owned

    def _upload_url(self, owner_id: uuid.UUID, req: UploadRequest) -> dict[str, Any]:
        kind = "single" if req.size <= self.cfg.uploads.single_put_max else "multipart"
        return self._presigned(self.create_row(owner_id, req, kind), {})

    def _presigned(self, owned: Owned, uploaded: dict[int, str]) -> dict[str, Any]:
        """The upload-url answer: URLs for what is still to send (``uploaded`` = parts the
        store already has, by number, with their ETags)."""
        v = owned.video
        ttl = self.cfg.uploads.url_ttl
        presigner = self.clients()[1]
        upload: dict[str, Any]
        if v.upload_kind == "single":
            stamp = self.upload_stamp(v.key)
            # Metadata makes x-amz-meta-openfront-version a signed header: a PUT without it
            # (or with another value) is refused, so no unstamped object can be stored.
            url = presigner.generate_presigned_url(
                "put_object",
                Params={
                    "Bucket": v.bucket,
                    "Key": v.key,
                    "ContentType": v.content_type,
                    "Metadata": stamp_metadata(stamp),
                },
                ExpiresIn=ttl,
            )
            upload = {
                "kind": "single",
                "method": "PUT",
                "url": url,
                "headers": {"Content-Type": v.content_type, VERSION_HEADER: str(stamp)},
            }
        else:
            plan = PartPlan(v.part_size, -(-v.size // v.part_size))
            parts = [
                {
                    "part_number": n,
                    "url": presigner.generate_presigned_url(
                        "upload_part",
                        Params={
                            "Bucket": v.bucket,
                            "Key": v.key,
                            "UploadId": v.upload_id,
                            "PartNumber": n,
                        },
                        ExpiresIn=ttl,
                    ),
                }
                for n in range(1, plan.count + 1)
                if n not in uploaded
            ]
            upload = {
                "kind": "multipart",
                "upload_id": v.upload_id,
                "part_size": plan.part_size,
                "parts": parts,
                "uploaded": [{"part_number": n, "etag": e} for n, e in sorted(uploaded.items())],
            }
        expires = datetime.fromtimestamp(self.clock() + ttl, UTC)
        return {
            "video_id": str(v.id),
            "key": v.key,
            "upload": upload,
            "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "video": video_json(owned),
        }

    def _resume(self, owner_id: uuid.UUID, video_id: uuid.UUID) -> dict[str, Any]:
        owned = self.owned_by(owner_id, video_id)
        v = owned.video
        if v.status != "uploading":
            raise errors.ApiError(409, "upload_finished", f"this upload is already {v.status}")
        if v.upload_kind == "tus":
            raise errors.ApiError(409, "tus_upload", "a tus upload resumes with HEAD and PATCH")
        uploaded: dict[int, str] = {}
        if v.upload_kind == "multipart":
            listed = self._list_parts(v.bucket, v.key, str(v.upload_id))
            if listed is None:
                raise errors.ApiError(
                    409, "upload_finished", "the multipart upload is completed or aborted"
                )
            uploaded = listed
        self.store.touch(v.id, self.now())  # in use: not abandoned
        return self._presigned(owned, uploaded)

    async def resume(self, owner_id: uuid.UUID, video_id: uuid.UUID) -> dict[str, Any]:
        return await self.run(self._resume, owner_id, video_id)

    async def upload_url(self, owner_id: uuid.UUID, req: UploadRequest) -> dict[str, Any]:
        return await self.run(self._upload_url, owner_id, req)

    # -- completion ----------------------------------------------------------------------------

    def owned_by(self, owner_id: uuid.UUID, video_id: uuid.UUID) -> Owned:
        owned = self.store.get(video_id)
        if owned is None or owned.video.owner_id != owner_id:
            raise not_found()  # someone else's video is as good as none
        return owned

    def _complete(
        self, owner_id: uuid.UUID, video_id: uuid.UUID, parts: list[tuple[int, str]] | None
    ) -> Owned:
        owned = self.owned_by(owner_id, video_id)
        v = owned.video
        if v.status != "uploading":
            return owned  # done before: the same answer again
        if v.upload_kind == "tus":
            raise errors.ApiError(
                409, "tus_upload", "a tus upload completes with its last PATCH, not here"
            )
        if v.upload_kind == "multipart":
            self._complete_multipart(owned, parts)
        self.verify_and_queue(owned)
        done = self.store.get(video_id)
        assert done is not None
        return done

    async def complete(
        self, owner_id: uuid.UUID, video_id: uuid.UUID, parts: list[tuple[int, str]] | None
    ) -> Owned:
        return await self.run(self._complete, owner_id, video_id, parts)

    def _complete_multipart(self, owned: Owned, given: list[tuple[int, str]] | None) -> None:
        v = owned.video
        count = -(-v.size // v.part_size)
        listed = self._list_parts(v.bucket, v.key, str(v.upload_id))
        if listed is None:
            return  # completed meanwhile (another tab or region): the HEAD below decides
        if given is None:
            given = sorted(listed.items())
        numbers = {n for n, _ in given}
        if len(numbers) != len(given) or any(not 1 <= n <= count for n in numbers):
            raise errors.invalid(
                "parts", f"parts must name each part number from 1 to {count} once"
            )
        missing = [n for n in range(1, count + 1) if n not in numbers]
        if missing:
            raise errors.ApiError(
                400,
                "missing_parts",
                f"{len(missing)} of {count} parts are not uploaded yet",
                field="parts",
                extra={"missing": missing[:100]},
            )
        try:
            self.s3.complete_multipart_upload(
                Bucket=v.bucket,
                Key=v.key,
                UploadId=v.upload_id,
                MultipartUpload={
                    "Parts": [{"PartNumber": n, "ETag": etag} for n, etag in sorted(given)]
                },
            )
        except Exception as exc:
            code = error_code(exc)
            if code == "NoSuchUpload":
                return
            if code in ("InvalidPart", "InvalidPartOrder", "EntityTooSmall"):
                raise errors.ApiError(
                    400, "invalid_parts", f"the store refused the parts: {describe_error(exc)}"
                ) from None
            raise _s3_failed(exc) from None

    def _list_parts(self, bucket: str, key: str, upload_id: str) -> dict[int, str] | None:
        found: dict[int, str] = {}
        marker = 0
        while True:
            try:
                page = self.s3.list_parts(
                    Bucket=bucket, Key=key, UploadId=upload_id, PartNumberMarker=marker
                )
            except Exception as exc:
                if error_code(exc) == "NoSuchUpload":
                    return None
                raise _s3_failed(exc) from None
            for part in page.get("Parts", []):
                found[int(part["PartNumber"])] = str(part["ETag"])
            if not page.get("IsTruncated"):
                return found
            marker = int(page["NextPartNumberMarker"])

    def head_size(self, bucket: str, key: str) -> int | None:
        try:
            return int(self.s3.head_object(Bucket=bucket, Key=key)["ContentLength"])
        except Exception as exc:
            if error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise _s3_failed(exc) from None

    def verify_and_queue(self, owned: Owned) -> None:
        """The object must be there with the announced size; then uploading → queued."""
        v = owned.video
        size = self.head_size(v.bucket, v.key)
        if size is None:
            raise errors.ApiError(
                409, "upload_incomplete", "the file has not been uploaded yet: PUT it first"
            )
        if size != v.size:
            message = f"the uploaded file has {size} bytes, not the {v.size} announced"
            if v.upload_kind != "single":  # the multipart upload is spent: start again
                self._delete_objects(v.bucket, v.key)
                self.store.mark_failed(v.id, message, self.now())
            raise errors.ApiError(
                400, "size_mismatch", message, extra={"expected": v.size, "actual": size}
            )
        if self.store.mark_queued(v.id, self.now()):
            _log.info("video %s queued (%s, %d bytes)", v.id, v.upload_kind, v.size)
            self.on_queued(v.id)

    # -- the videos API ----------------------------------------------------------------------

    def _page(self, owner_id: uuid.UUID | None, limit: int, cursor: str | None) -> dict[str, Any]:
        after = decode_cursor(cursor) if cursor else None
        rows, next_cursor = self.store.page(owner_id=owner_id, limit=limit, after=after)
        return {"items": [video_json(r) for r in rows], "next_cursor": next_cursor}

    async def page(
        self, owner_id: uuid.UUID | None, limit: int, cursor: str | None
    ) -> dict[str, Any]:
        return await self.run(self._page, owner_id, limit, cursor)

    def _visible(self, viewer: uuid.UUID | None, video_id: uuid.UUID) -> Owned:
        owned = self.store.get(video_id)
        if owned is None:
            raise not_found()
        v = owned.video
        if v.owner_id != viewer and not (v.status == "ready" and v.visibility == "public"):
            raise not_found()
        return owned

    async def visible(self, viewer: uuid.UUID | None, video_id: uuid.UUID) -> Owned:
        return await self.run(self._visible, viewer, video_id)

    def _edit(self, owner_id: uuid.UUID, video_id: uuid.UUID, values: dict[str, str]) -> Owned:
        self.owned_by(owner_id, video_id)
        if values:
            self.store.edit(video_id, self.now(), **values)
        owned = self.store.get(video_id)
        if owned is None:
            raise not_found()
        return owned

    async def edit(self, owner_id: uuid.UUID, video_id: uuid.UUID, values: dict[str, str]) -> Owned:
        return await self.run(self._edit, owner_id, video_id, values)

    def _delete(self, owner_id: uuid.UUID, video_id: uuid.UUID) -> None:
        self.discard(self.owned_by(owner_id, video_id).video.id)

    async def delete(self, owner_id: uuid.UUID, video_id: uuid.UUID) -> None:
        await self.run(self._delete, owner_id, video_id)

    def discard(self, video_id: uuid.UUID) -> None:
        """Abort its multipart uploads, delete its objects and staging files, drop the row."""
        owned = self.store.get(video_id)
        if owned is None:
            return
        v = owned.video
        self._abort_uploads(v.bucket, v.key)
        self._delete_objects(v.bucket, v.key)
        for hook in self.on_deleted:
            hook(v.id)
        self.store.remove(v.id)

    def _abort_uploads(self, bucket: str, key: str) -> None:
        """Every open multipart upload of ``key`` (also one whose id never reached the row)."""
        try:
            page = self.s3.list_multipart_uploads(Bucket=bucket, Prefix=key)
            for upload in page.get("Uploads", []):
                if upload["Key"] == key:
                    self.s3.abort_multipart_upload(
                        Bucket=bucket, Key=key, UploadId=upload["UploadId"]
                    )
        except Exception as exc:
            if error_code(exc) != "NoSuchUpload":
                raise _s3_failed(exc) from None

    def _delete_objects(self, bucket: str, key: str) -> None:
        """The upload and everything made from it (under ``key/``)."""
        try:
            self.s3.delete_object(Bucket=bucket, Key=key)
            paginator = self.s3.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=bucket, Prefix=derived_prefix(key)):
                keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                for i in range(0, len(keys), DELETE_BATCH):
                    self.s3.delete_objects(
                        Bucket=bucket, Delete={"Objects": keys[i : i + DELETE_BATCH], "Quiet": True}
                    )
        except Exception as exc:
            raise _s3_failed(exc) from None


def parse_parts(value: object) -> list[tuple[int, str]] | None:
    """``parts`` of ``POST /videos/complete``: ``[{part_number, etag}, …]`` or absent."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise errors.wrong_type("parts", "a list of {part_number, etag}")
    out: list[tuple[int, str]] = []
    for item in value:
        if not isinstance(item, dict):
            raise errors.wrong_type("parts", "a list of {part_number, etag}")
        number, etag = item.get("part_number"), item.get("etag")
        if not isinstance(number, int) or isinstance(number, bool) or not isinstance(etag, str):
            raise errors.invalid("parts", "each part needs part_number (integer) and etag (string)")
        out.append((number, etag))
    return out
