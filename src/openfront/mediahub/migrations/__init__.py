"""Alembic migrations of MediaHub's tables, run by Database.migrate() on start."""
