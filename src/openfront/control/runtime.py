"""Opening the control plane's state: database (migrated), key file, root credentials."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from openfront.control.audit import AuditEntry, record
from openfront.control.db import Database, database_url
from openfront.control.keys import Credentials, SecretBox, ensure_root
from openfront.control.settings import ApiSettings


@dataclass(slots=True)
class ControlState:
    db: Database
    box: SecretBox


def open_state(settings: ApiSettings) -> ControlState:
    """Connect, run the migrations, open the key file; raises ConfigError for a bad --db."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(database_url(settings.db_url, settings.data_dir))
    try:
        db.migrate()
        box = SecretBox.open(settings.data_dir)
    except BaseException:
        db.close()
        raise
    return ControlState(db, box)


def bootstrap_root(state: ControlState, env: Mapping[str, str]) -> Credentials | None:
    """Ensure a root key exists; generated credentials are returned for the caller to show once."""
    now = datetime.now(UTC)
    with state.db.write() as session:
        creds = ensure_root(session, state.box, env, now)
        if creds is not None:
            entry = local_entry(now, "CreateAccessKey", creds.access_key_id)
            record(session, entry, "Success", 200)
    return creds


def local_entry(now: datetime, action: str, resource: str) -> AuditEntry:
    """An audit entry for a change made on this machine, not through the API."""
    return AuditEntry(
        time=now,
        request_id="local",
        principal="local",
        source_ip="",
        user_agent="openfront cli",
        action=action,
        resource=resource,
    )
