"""Typed keys for what the aiohttp application carries (route modules read them)."""

from __future__ import annotations

from aiohttp import web

from openfront.config.mediahub import MediaHubConfig
from openfront.mediahub.auth import AuthService
from openfront.mediahub.database import Database

CONFIG = web.AppKey("config", MediaHubConfig)
AUTH = web.AppKey("auth", AuthService)
DATABASE = web.AppKey("database", Database)
