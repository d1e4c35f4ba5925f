"""Video processing for MediaHub: probe a source, reject what is not a video, transcode it to an
HLS ladder with a poster and seek-bar thumbnails (docs/media-processing.md).

The planning is pure (`openfront.media.plan`); `transcode` is the asyncio shell around ffmpeg.
"""

from openfront.media.errors import MediaError, MediaRejected, TranscodeFailed, TranscodeTimeout
from openfront.media.plan import Limits, ProbeResult, Settings, reject_reason
from openfront.media.transcode import RenditionOutput, TranscodeResult, probe, transcode

__all__ = [
    "Limits",
    "MediaError",
    "MediaRejected",
    "ProbeResult",
    "RenditionOutput",
    "Settings",
    "TranscodeFailed",
    "TranscodeResult",
    "TranscodeTimeout",
    "probe",
    "reject_reason",
    "transcode",
]
