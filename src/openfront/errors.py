"""The exception tree, drawn once.

* OpenFrontError
  + ConfigError            bad configuration; message names the key path
  + ProtocolError          a viewer sent bad HTTP; carries the status to answer with
  + OriginError            the origin could not give a usable response
    - OriginConnectError   (also ConnectionError)
    - OriginTimeout        (also TimeoutError)
    - OriginInvalidResponse
  + StorageError           a cache tier could not read or write
"""

from __future__ import annotations


class OpenFrontError(Exception):
    pass


class ConfigError(OpenFrontError, ValueError):
    pass


class ProtocolError(OpenFrontError):
    def __init__(self, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.status = status


class OriginError(OpenFrontError):
    detail = "OriginError"


class OriginConnectError(OriginError, ConnectionError):
    detail = "OriginConnectError"


class OriginTimeout(OriginError, TimeoutError):
    detail = "OriginReadError"


class OriginInvalidResponse(OriginError):
    detail = "OriginInvalidResponseError"


class StorageError(OpenFrontError, OSError):
    pass
