"""Typed keys for the upload services the aiohttp application carries."""

from __future__ import annotations

from aiohttp import web

from openfront.mediahub.tus import TusUploads
from openfront.mediahub.uploads import VideoService

VIDEOS = web.AppKey("videos", VideoService)
TUS = web.AppKey("tus", TusUploads)
