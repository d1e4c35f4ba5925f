"""What `transcode` raises; every message is one line meant for the uploader.

* MediaError (OpenFrontError)
  + MediaRejected        the file is not a video we take: do not retry
  + TranscodeFailed      ffmpeg failed on a file that probed fine: retry, then give up
    - TranscodeTimeout   (also TimeoutError)
"""

from __future__ import annotations

from openfront.errors import OpenFrontError


class MediaError(OpenFrontError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MediaRejected(MediaError, ValueError):
    pass


class TranscodeFailed(MediaError):
    pass


class TranscodeTimeout(TranscodeFailed, TimeoutError):
    pass
