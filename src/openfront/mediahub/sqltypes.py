"""Column types for MediaHub's models and migrations (shared: openfront.sql.types)."""

from openfront.sql.types import BigId, Json, UtcDateTime, exact_string

__all__ = ["BigId", "Json", "UtcDateTime", "exact_string"]
