"""`openfront audit`: read the control plane's audit trail from its database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from openfront.cli._console import EXIT_CONFIG, fail
from openfront.cli.api_cmd import DATA_HELP, DB_HELP, make_settings, opened


def _when(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        fail(f"{option}: expected an ISO 8601 time like 2026-05-01T12:00:00Z", EXIT_CONFIG)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@click.command()
@click.option("--data", type=click.Path(path_type=Path, file_okay=False), help=DATA_HELP)
@click.option("--db", "db_url", metavar="URL", help=DB_HELP)
@click.option("--since", metavar="TIME", help="Only records at or after this ISO 8601 time.")
@click.option("--until", metavar="TIME", help="Only records before this ISO 8601 time.")
@click.option("--action", metavar="NAME", help="Only this operation, e.g. UpdateDistribution.")
@click.option("--principal", metavar="KEY_ID", help="Only calls signed with this access key.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (JSON Lines).")
def audit(
    data: Path | None,
    db_url: str | None,
    since: str | None,
    until: str | None,
    action: str | None,
    principal: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Show who changed what through the API, oldest first.

    \b
    Examples:
      openfront audit --data data --since 2026-05-01T00:00:00Z
      openfront audit --data data --action DeleteDistribution --json > deletions.jsonl
    """
    from openfront.control.audit import query

    settings = make_settings(data_dir=data, db_url=db_url)
    start, end = _when(since, "--since"), _when(until, "--until")
    with opened(settings) as state, state.db.read() as session:
        records = query(
            session, since=start, until=end, action=action, principal=principal, limit=limit
        )
    for r in records:
        if as_json:
            click.echo(json.dumps(r, separators=(",", ":")))
        else:
            where = f" {r['resource']}" if r["resource"] else ""
            who = f"{r['principal']}@{r['sourceIp']}" if r["sourceIp"] else r["principal"]
            click.echo(f"{r['time']}  {r['action']}{where}  {r['result']}  {who}")
