"""Column types for the control plane's models and migrations (shared: openfront.sql.types)."""

from openfront.sql.types import BigId, Json, UtcDateTime

__all__ = ["BigId", "Json", "UtcDateTime"]
