"""Write-audit-publish: finance reads a copy of the marts that only ever changes all at once.

The pipeline writes the warehouse (`LEDGERBRIDGE_WAREHOUSE`); after a build whose blocking checks
pass, `publish` copies the `marts` and `reverse_etl` schemas into a temporary DuckDB file next to
the published one and swaps it in with `os.replace` (atomic on POSIX). A reader that already has the
old file open keeps reading the old snapshot; a new reader gets the new one; nobody sees a half-built
or failing build, and finance queries never hold the warehouse lock the pipeline needs. The file is
made read-only (mode 0444) and readers open it with `read_only=True`.

Each build's audit outcome is recorded in the warehouse (`audit.builds`) so the push can refuse to
run after a failing build, and `ledgerbridge status` can say what happened.
No Dagster here: the publish asset and `ledgerbridge build` both call this module.
"""

from __future__ import annotations

import json
import os
import stat
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingestion.config import published_path, warehouse_path

PUBLISHED_SCHEMAS = ("marts", "reverse_etl")
PUBLISH_LOG = "ledgerbridge_publish"  # a table in the published file's main schema


class PublishError(Exception):
    """The build was not published (audit failed or nothing to publish)."""


@dataclass(frozen=True)
class Published:
    path: Path
    published_at: datetime
    tables: dict[str, int]  # schema.table -> rows
    build_id: str


def _tables(con: duckdb.DuckDBPyConnection, catalog: str, schemas: Sequence[str]) -> list[tuple[str, str]]:
    placeholders = ", ".join("?" for _ in schemas)
    return [
        (row[0], row[1])
        for row in con.execute(
            f"select table_schema, table_name from information_schema.tables "
            f"where table_catalog = ? and table_schema in ({placeholders}) order by 1, 2",
            [catalog, *schemas],
        ).fetchall()
    ]


def publish(
    warehouse: Path | None = None,
    target: Path | None = None,
    schemas: Sequence[str] = PUBLISHED_SCHEMAS,
    build_id: str | None = None,
) -> Published:
    """Copy `schemas` from the warehouse into a new file and atomically swap it in as `target`.

    Call only after the audit passed. Raises PublishError when the warehouse has no marts yet.
    """
    warehouse = warehouse or warehouse_path()
    target = target or published_path()
    build_id = build_id or uuid.uuid4().hex
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    published_at = datetime.now(UTC).replace(microsecond=0)
    counts: dict[str, int] = {}
    try:
        with duckdb.connect(str(tmp)) as con:
            con.execute(f"attach '{warehouse}' as wh (read_only)")
            tables = _tables(con, "wh", schemas)
            if not any(schema == "marts" for schema, _ in tables):
                raise PublishError(f"no marts in {warehouse}: run dbt build first")
            for schema, table in tables:
                con.execute(f'create schema if not exists "{schema}"')
                con.execute(f'create table "{schema}"."{table}" as select * from wh."{schema}"."{table}"')
                counts[f"{schema}.{table}"] = con.execute(
                    f'select count(*) from "{schema}"."{table}"'
                ).fetchone()[0]
            con.execute("detach wh")
            con.execute(
                f"create table {PUBLISH_LOG} (build_id varchar, published_at timestamptz, "
                f"source_warehouse varchar, tables json)"
            )
            con.execute(
                f"insert into {PUBLISH_LOG} values (?, ?, ?, ?)",
                [build_id, published_at, str(warehouse), json.dumps(counts)],
            )
            con.execute("checkpoint")
        os.chmod(tmp, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        os.replace(tmp, target)  # the atomic swap
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            if leftover.exists():
                leftover.unlink()
    return Published(target, published_at, counts, build_id)


def last_publish(target: Path | None = None) -> Published | None:
    """What finance currently reads, or None when nothing was ever published."""
    target = target or published_path()
    if not target.exists():
        return None
    with duckdb.connect(str(target), read_only=True) as con:
        row = con.execute(
            f"select build_id, published_at, tables from {PUBLISH_LOG} order by published_at desc limit 1"
        ).fetchone()
    if row is None:
        return None
    published_at = row[1].astimezone(UTC) if row[1].tzinfo else row[1].replace(tzinfo=UTC)
    return Published(target, published_at, json.loads(row[2]), row[0])


# -- the audit record --------------------------------------------------------------------------


@dataclass(frozen=True)
class Audit:
    build_id: str
    audited_at: datetime
    passed: bool
    failures: list[str]
    published: bool


def record_audit(
    passed: bool,
    failures: Sequence[str],
    published: bool,
    build_id: str,
    warehouse: Path | None = None,
) -> None:
    """Append this build's audit outcome to `audit.builds` in the warehouse (a writer: serialise it)."""
    with duckdb.connect(str(warehouse or warehouse_path())) as con:
        con.execute("create schema if not exists audit")
        con.execute(
            "create table if not exists audit.builds (build_id varchar, audited_at timestamptz, "
            "passed boolean, failures json, published boolean)"
        )
        con.execute(
            "insert into audit.builds values (?, ?, ?, ?, ?)",
            [build_id, datetime.now(UTC), passed, json.dumps(list(failures)), published],
        )


def last_audit(warehouse: Path | None = None) -> Audit | None:
    """The most recent build audit, or None when no build was ever audited."""
    path = warehouse or warehouse_path()
    if not path.exists():
        return None
    with duckdb.connect(str(path), read_only=True) as con:
        exists = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'audit' and table_name = 'builds'"
        ).fetchone()[0]
        if not exists:
            return None
        row = con.execute(
            "select build_id, audited_at, passed, failures, published from audit.builds "
            "order by audited_at desc limit 1"
        ).fetchone()
    if row is None:
        return None
    return Audit(row[0], row[1], bool(row[2]), json.loads(row[3]), bool(row[4]))
