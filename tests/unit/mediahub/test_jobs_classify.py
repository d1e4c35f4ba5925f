"""What the worker makes of a pipeline failure: the rules' kind and the line recorded."""

from __future__ import annotations

import errno

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from openfront.media import MediaRejected, TranscodeFailed, TranscodeTimeout
from openfront.mediahub.jobs.pipeline import SourceGone
from openfront.mediahub.jobs.rules import ErrorKind
from openfront.mediahub.jobs.worker import classify


@pytest.mark.parametrize(
    ("exc", "kind", "message"),
    [
        (MediaRejected("a still image (PNG), not a video"), ErrorKind.REJECTED,
         "a still image (PNG), not a video"),
        (SourceGone("videos/u/1_a.mp4"), ErrorKind.GONE, "the uploaded file is not in the bucket"),
        (TranscodeFailed("ffmpeg ran out of memory"), ErrorKind.TRANSIENT,
         "ffmpeg ran out of memory"),
        (TranscodeTimeout("the transcode took longer than 170 s"), ErrorKind.TRANSIENT,
         "the transcode took longer than 170 s"),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), ErrorKind.TRANSIENT,
         "media store: cannot connect to the S3 endpoint (connection refused or no route)"),
        (ClientError({"Error": {"Code": "SlowDown", "Message": "Please reduce your request rate"},
                      "ResponseMetadata": {"HTTPStatusCode": 503}}, "PutObject"),
         ErrorKind.TRANSIENT, "media store: Please reduce your request rate (SlowDown, 503)"),
        (OSError(errno.ENOSPC, "No space left on device"), ErrorKind.TRANSIENT,
         "No space left on device"),
        (KeyError("x"), ErrorKind.TRANSIENT, "internal error (KeyError)"),
    ],
)  # fmt: skip
def test_classify(exc: BaseException, kind: ErrorKind, message: str) -> None:
    assert classify(exc) == (kind, message)
