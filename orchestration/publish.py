"""Write-audit-publish: finance reads a copy of the marts that only ever changes all at once.

The pipeline writes the warehouse (`LEDGERBRIDGE_WAREHOUSE`); after a build whose blocking checks
pass, `publish` brings the `marts` and `reverse_etl` schemas into the copy finance reads
(`LEDGERBRIDGE_PUBLISHED`): read-only (mode 0444), opened with `read_only=True`, so finance queries
never hold the warehouse lock the pipeline needs.

Two generation files sit next to it (`.published.duckdb.gen-a`, `.gen-b`) and the published path is
a hard link to one of them. A publish updates the other one in place, in one DuckDB transaction,
then links it onto the published path with `os.replace` (atomic on POSIX): a reader that already
has the old file open keeps reading the old snapshot, a new reader gets the new one, and nobody sees
a half-built or failing build. Updating in place makes the cost follow what changed, not history:
- a table an incremental dbt model builds gets only the units (orders, settlements) the builds
  since that generation's last publish replaced, as dbt logged them in `audit.replaced_units`
  (dbt_project/macros/publish_log.sql);
- `reverse_etl.sync_records` (the push's state: rows are upserted, never deleted, and stamped
  `updated_at`) gets the rows updated since;
- a table dbt rebuilt whole since (a `table` model: small; a first build; `--full-refresh`) or that
  no dbt model logs is copied whole.
A table whose row count then differs from the warehouse's is copied whole. When the generation file
is missing, holds no usable record of what it covers, or cannot be opened for writing (a reader
still has it open: DuckDB's file lock), a new file replaces it (the reader keeps its snapshot): a
byte copy of the other generation brought up to date the same way, or, when that one is no good
start either, every table copied from the warehouse (what every publish did before).

Each build's audit outcome is recorded in the warehouse (`audit.builds`) so the push can refuse to
run after a failing build, and `ledgerbridge status` can say what happened.
No Dagster here: the publish asset and `ledgerbridge build` both call this module.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import stat
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from ingestion.config import published_path, warehouse_path

PUBLISHED_SCHEMAS = ("marts", "reverse_etl")
PUBLISH_LOG = "ledgerbridge_publish"  # a table in the published file's main schema
PUBLISH_STATE = "ledgerbridge_publish_state"  # what a generation file covers (main schema)
STATE_VERSION = 1
GENERATIONS = ("gen-a", "gen-b")
REPLACED_UNITS = "audit.replaced_units"  # written by dbt (dbt_project/macros/publish_log.sql)
TEST_WATERMARKS = "audit.dbt_test_watermarks"  # where dbt's scoped tests last passed in that log
# Tables the push writes, updated in place by key: (key columns, the column each write stamps).
KEYED_BY_UPDATE = {("reverse_etl", "sync_records"): (("record_type", "external_id"), "updated_at")}
# updated_at is the pushing process's wall clock: rows stamped up to this long before the newest
# one the generation holds are applied again (harmless), in case the clock stepped back.
CLOCK_MARGIN = timedelta(days=1)
# Above this share of a table's rows (and this many units), copying the table whole beats
# replacing units.
MAX_UNIT_SHARE, MAX_UNITS = 0.25, 1000
READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH

log = logging.getLogger(__name__)


class PublishError(Exception):
    """The build was not published (audit failed or nothing to publish)."""


@dataclass(frozen=True)
class Published:
    path: Path
    published_at: datetime
    tables: dict[str, int]  # schema.table -> rows
    build_id: str
    # schema.table -> "updated" (units or rows replaced in place), "unchanged" or "copied" (whole);
    # empty for last_publish().
    how: dict[str, str] = field(default_factory=dict)
    fallback: str | None = None  # why the generation was not updated in place, and what was done


@dataclass(frozen=True)
class _State:
    """What a generation file covers: the change log up to `log_id` (that row's `logged_at` proves
    the warehouse's log is still the same one: not a rebuilt or another warehouse; its path is not
    compared, so a warehouse and its published copy can move together) and each KEYED_BY_UPDATE
    table's newest stamp."""

    source_warehouse: str
    log_id: int | None
    log_logged_at: datetime | None
    stamps: dict[str, str | None]


@dataclass(frozen=True)
class _Job:
    build_id: str
    published_at: datetime
    warehouse: Path
    other_log_id: int | None  # the change log the other generation covers (None: unknown)


@dataclass
class _Filled:
    tables: dict[str, int] = field(default_factory=dict)
    how: dict[str, str] = field(default_factory=dict)
    log_id: int | None = None
    prune_below: int | None = None  # change-log rows both generations cover are below this id
    prunable: int = 0


def generation_paths(target: Path) -> tuple[Path, Path]:
    """The two generation files behind `target` (hidden names in the same folder)."""
    a, b = (target.with_name(f".{target.name}.{name}") for name in GENERATIONS)
    return a, b


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


def _columns(
    con: duckdb.DuckDBPyConnection, catalog: str, schemas: Sequence[str]
) -> dict[tuple[str, str], list[tuple[str, str]]]:
    placeholders = ", ".join("?" for _ in schemas)
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, data_type in con.execute(
        f"select table_schema, table_name, column_name, data_type from information_schema.columns "
        f"where table_catalog = ? and table_schema in ({placeholders}) "
        f"order by table_schema, table_name, ordinal_position",
        [catalog, *schemas],
    ).fetchall():
        found.setdefault((schema, table), []).append((column, data_type))
    return found


def publish(
    warehouse: Path | None = None,
    target: Path | None = None,
    schemas: Sequence[str] = PUBLISHED_SCHEMAS,
    build_id: str | None = None,
) -> Published:
    """Bring `schemas` from the warehouse into the inactive generation and atomically make it `target`.

    Call only after the audit passed. Raises PublishError when the warehouse has no marts yet.
    """
    warehouse = warehouse or warehouse_path()
    target = target or published_path()
    build_id = build_id or uuid.uuid4().hex
    target.parent.mkdir(parents=True, exist_ok=True)
    generations = generation_paths(target)
    live = _same_file_index(target, generations)
    generation, other = (generations[1], generations[0]) if live == 0 else generations
    other_state = _state_of(other) if other.exists() else None
    job = _Job(
        build_id,
        datetime.now(UTC).replace(microsecond=0),
        warehouse,
        other_state.log_id if other_state else None,
    )
    fallback: str | None = None
    try:
        filled = _update_in_place(generation, target, schemas, job)
    except _Unusable as exc:
        fallback, filled = str(exc), None
        if job.other_log_id is not None:  # the other generation is a good start: copy its file
            try:
                filled = _update_copy(other, generation, schemas, job)
                fallback += f"; updated a copy of {other.name}"
            except _Unusable as again:
                fallback += f"; {again}"
        if filled is None:
            filled = _copy_whole(generation, schemas, job)
            fallback += "; copied every table"
    _link(generation, target)
    if filled.prunable:
        _prune_log(warehouse, filled.prune_below)
    return Published(target, job.published_at, filled.tables, build_id, filled.how, fallback)


class _Unusable(Exception):
    """The file cannot be updated in place (the message says why)."""


def _same_file_index(target: Path, generations: Sequence[Path]) -> int | None:
    """Which generation `target` is a hard link to (None: neither, or nothing published yet)."""
    try:
        published = os.stat(target)
    except FileNotFoundError:
        return None
    for index, path in enumerate(generations):
        try:
            found = os.stat(path)
        except FileNotFoundError:
            continue
        if (found.st_dev, found.st_ino) == (published.st_dev, published.st_ino):
            return index
    return None


def _open_in_this_process(path: Path) -> bool:
    """True when this process has `path` open (Linux /proc): DuckDB's file lock only keeps out
    other processes, and a connection of our own would read blocks rewritten under it."""
    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        return False
    wanted = os.stat(path)
    for fd in os.listdir(fds):
        try:
            found = os.stat(fds / fd)
        except OSError:
            continue
        if (found.st_dev, found.st_ino) == (wanted.st_dev, wanted.st_ino):
            return True
    return False


def _update_in_place(generation: Path, target: Path, schemas: Sequence[str], job: _Job) -> _Filled:
    """Bring the inactive `generation` up to date; raises _Unusable when it cannot be."""
    if not generation.exists():
        raise _Unusable(f"{generation.name} does not exist yet")
    if target.exists() and os.path.samefile(generation, target):
        raise _Unusable(f"{generation.name} is the published file")
    if _open_in_this_process(generation):
        raise _Unusable(f"{generation.name} is open in this process")
    os.chmod(generation, READ_ONLY | stat.S_IWUSR)
    try:
        return _update(generation, generation.name, schemas, job)
    finally:
        os.chmod(generation, READ_ONLY)


def _update_copy(source: Path, generation: Path, schemas: Sequence[str], job: _Job) -> _Filled:
    """Copy the file of the other generation (nobody writes it: it is 0444 and publish only ever
    writes the inactive one), bring the copy up to date and swap it in as `generation`: a file
    copy costs a fraction of copying every table through DuckDB."""
    tmp = _temporary(generation)
    try:
        shutil.copyfile(source, tmp)
        filled = _update(tmp, f"a copy of {source.name}", schemas, job)
        _swap_in(tmp, generation)
    finally:
        _remove(tmp)
    return filled


def _update(path: Path, label: str, schemas: Sequence[str], job: _Job) -> _Filled:
    """Bring the generation file `path` up to date from what its record says it covers, in one
    transaction; raises _Unusable (nothing changed) when it cannot be."""
    try:
        con = duckdb.connect(str(path))
    except duckdb.Error as exc:  # a reader holds it (file lock), or it is no DuckDB file
        raise _Unusable(f"{label} cannot be opened for writing: {_first_line(exc)}") from exc
    with con:
        state = _read_state(con)
        if state is None:
            raise _Unusable(f"{label} holds no record of what it covers")
        con.execute(f"attach '{job.warehouse}' as wh (read_only)")
        if not _log_continues(con, state):
            raise _Unusable(f"the change log no longer holds what {label} covers")
        try:
            con.execute("begin")
            filled = _fill(con, schemas, state, job)
            con.execute("commit")
        except duckdb.Error as exc:
            log.warning("publish: updating %s in place failed: %s", label, exc)
            raise _Unusable(f"updating {label} failed: {_first_line(exc)}") from exc
        con.execute("detach wh")
        con.execute("checkpoint")
    return filled


def _copy_whole(generation: Path, schemas: Sequence[str], job: _Job) -> _Filled:
    """Copy every table into a new file and swap it in as `generation` (a reader keeps the old inode)."""
    tmp = _temporary(generation)
    try:
        with duckdb.connect(str(tmp)) as con:
            con.execute(f"attach '{job.warehouse}' as wh (read_only)")
            filled = _fill(con, schemas, None, job)
            con.execute("detach wh")
            con.execute("checkpoint")
        _swap_in(tmp, generation)
    finally:
        _remove(tmp)
    return filled


def _temporary(generation: Path) -> Path:
    return generation.with_name(f"{generation.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")


def _swap_in(tmp: Path, generation: Path) -> None:
    os.chmod(tmp, READ_ONLY)
    generation.with_name(generation.name + ".wal").unlink(missing_ok=True)  # never replay a stale WAL
    os.replace(tmp, generation)


def _remove(tmp: Path) -> None:
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)


def _link(generation: Path, target: Path) -> None:
    """Make `target` a hard link to `generation`, atomically (a regular file, never missing)."""
    link = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.link")
    os.link(generation, link)
    try:
        os.replace(link, target)  # the atomic swap
    finally:
        link.unlink(missing_ok=True)  # rename(2) leaves it when both already name the same file


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]


def _read_state(con: duckdb.DuckDBPyConnection) -> _State | None:
    try:
        row = con.execute(
            f"select version, source_warehouse, log_id, log_logged_at, stamps from main.{PUBLISH_STATE}"
        ).fetchone()
    except duckdb.Error:
        return None
    if row is None or row[0] != STATE_VERSION:
        return None
    return _State(row[1], row[2], row[3], json.loads(row[4]) if row[4] else {})


def _state_of(path: Path) -> _State | None:
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            return _read_state(con)
    except duckdb.Error:
        return None


def _has_table(con: duckdb.DuckDBPyConnection, relation: str, catalog: str | None = "wh") -> bool:
    """`relation` (schema.table) exists in `catalog` (the attached warehouse by default; None: the
    connection's own database)."""
    schema, table = relation.split(".")
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_catalog = coalesce(?, current_database()) "
            "and table_schema = ? and table_name = ?",
            [catalog, schema, table],
        ).fetchone()[0]
    )


def _log_continues(con: duckdb.DuckDBPyConnection, state: _State) -> bool:
    """The row the generation last applied is still in the warehouse's log: not a rebuilt or
    restored warehouse whose log numbers its rows afresh."""
    if state.log_id is None or not _has_table(con, REPLACED_UNITS):
        return False
    return bool(
        con.execute(
            f"select count(*) from wh.{REPLACED_UNITS} where log_id = ? and logged_at = ?",
            [state.log_id, state.log_logged_at],
        ).fetchone()[0]
    )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _fill(
    con: duckdb.DuckDBPyConnection,
    schemas: Sequence[str],
    state: _State | None,
    job: _Job,
) -> _Filled:
    """Bring the connection's database (a generation) to the warehouse attached as `wh`.

    `state` None: copy every table. Otherwise replace what changed since `state` (module docstring).
    """
    here = con.execute("select current_database()").fetchone()[0]
    tables = _tables(con, "wh", schemas)
    if not any(schema == "marts" for schema, _ in tables):
        raise PublishError(f"no marts in {job.warehouse}: run dbt build first")
    wanted = set(tables)
    held = set(_tables(con, here, schemas))
    for schema, table in sorted(held - wanted):  # gone from the warehouse
        con.execute(f"drop table {_quote(schema)}.{_quote(table)}")
    source_columns = _columns(con, "wh", schemas)
    held_columns = _columns(con, here, schemas) if state else {}

    filled = _Filled()
    position = None
    if _has_table(con, REPLACED_UNITS):
        position = con.execute(
            f"select log_id, logged_at from wh.{REPLACED_UNITS} order by log_id desc limit 1"
        ).fetchone()
    filled.log_id = position[0] if position else None
    if filled.log_id is not None and job.other_log_id is not None:
        filled.prune_below = min(filled.log_id, job.other_log_id)
        (filled.prunable,) = con.execute(
            f"select count(*) {_prunable('wh.' + REPLACED_UNITS)}", [filled.prune_below]
        ).fetchone()
    changes: dict[tuple[str, str], tuple[bool, int, str | None, int]] = {}
    tracked: set[tuple[str, str]] = set()
    if state is not None and filled.log_id is not None:
        since, until = state.log_id, filled.log_id
        for schema, table, whole, keys, key, units in con.execute(
            f"select lower(relation_schema), lower(relation_name), "
            f"bool_or(coalesce(kind not in ('unit', 'build'), true) or (kind = 'unit' and unit_key is null)), "
            f"count(distinct unique_key) filter (where kind = 'unit'), "
            f"min(unique_key) filter (where kind = 'unit'), count(distinct unit_key) filter (where kind = 'unit') "
            f"from wh.{REPLACED_UNITS} where log_id > ? and log_id <= ? group by 1, 2",
            [since, until],
        ).fetchall():
            changes[(schema, table)] = (whole, keys, key, units)
        tracked = {
            (r[0], r[1])
            for r in con.execute(
                f"select distinct lower(relation_schema), lower(relation_name) from wh.{REPLACED_UNITS} "
                f"where log_id <= ?",
                [until],
            ).fetchall()
        }

    stamps: dict[str, str | None] = {}
    for schema, table in tables:
        name = f"{schema}.{table}"
        relation = f"{_quote(schema)}.{_quote(table)}"
        columns = source_columns.get((schema, table), [])
        keyed = KEYED_BY_UPDATE.get((schema, table))
        if keyed is not None and all(c in {n for n, _ in columns} for c in (*keyed[0], keyed[1])):
            (stamp,) = con.execute(
                f"select cast(max({_quote(keyed[1])}) as varchar) from wh.{relation}"
            ).fetchone()
            stamps[name] = stamp
        how = "copied"
        if state is not None and (schema, table) in held and held_columns.get((schema, table)) == columns:
            logged = (schema.lower(), table.lower())
            if keyed is not None and name in stamps:
                if name in state.stamps:  # else the table had no stamps when the generation was filled
                    how = _replace_updated_rows(con, relation, columns, keyed, state.stamps[name])
            elif logged in changes and logged in tracked:
                how = _replace_units(
                    con, schema, table, columns, changes[logged], state.log_id, filled.log_id
                )
            elif logged in tracked:  # every build of it is logged, and none since
                how = "unchanged"
        if how != "copied":
            (differs,) = con.execute(
                f"select (select count(*) from {relation}) <> (select count(*) from wh.{relation})"
            ).fetchone()
            if differs:
                log.warning(
                    "publish: %s has another row count than the warehouse after the update: copying it", name
                )
                how = "copied"
        if how == "copied":
            con.execute(f"create schema if not exists {_quote(schema)}")
            con.execute(f"create or replace table {relation} as select * from wh.{relation}")
        filled.how[name] = how
        filled.tables[name] = con.execute(f"select count(*) from {relation}").fetchone()[0]

    con.execute(
        f"create or replace table main.{PUBLISH_STATE} (version integer, build_id varchar, "
        f"published_at timestamptz, source_warehouse varchar, log_id bigint, log_logged_at timestamptz, "
        f"stamps json)"
    )
    con.execute(
        f"insert into main.{PUBLISH_STATE} values (?, ?, ?, ?, ?, ?, ?)",
        [
            STATE_VERSION,
            job.build_id,
            job.published_at,
            str(job.warehouse),
            filled.log_id,
            position[1] if position else None,
            json.dumps(stamps),
        ],
    )
    con.execute(
        f"create or replace table main.{PUBLISH_LOG} (build_id varchar, published_at timestamptz, "
        f"source_warehouse varchar, tables json)"
    )
    con.execute(
        f"insert into main.{PUBLISH_LOG} values (?, ?, ?, ?)",
        [job.build_id, job.published_at, str(job.warehouse), json.dumps(filled.tables)],
    )
    return filled


def _replace_units(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    table: str,
    columns: list[tuple[str, str]],
    change: tuple[bool, int, str | None, int],
    since: int | None,
    until: int | None,
) -> str:
    """Delete the logged units from the generation's table and insert them from the warehouse."""
    whole, keys, key, units = change
    if not whole and not units:  # built, and nothing replaced
        return "unchanged"
    if whole or keys != 1 or key is None:  # a full rebuild, or the model's unique_key changed
        return "copied"
    match = [(column, data_type) for column, data_type in columns if column.lower() == key.lower()]
    if not match:
        return "copied"
    column, data_type = match[0]
    relation = f"{_quote(schema)}.{_quote(table)}"
    (rows,) = con.execute(f"select count(*) from {relation}").fetchone()
    if units > MAX_UNITS and units > MAX_UNIT_SHARE * rows:
        return "copied"
    column_list = ", ".join(_quote(c) for c, _ in columns)
    logged = (
        f"select cast(unit_key as {data_type}) from wh.{REPLACED_UNITS} where log_id > ? and log_id <= ? "
        f"and lower(relation_schema) = ? and lower(relation_name) = ? and kind = 'unit'"
    )
    params = [since, until, schema.lower(), table.lower()]
    con.execute(f"delete from {relation} where {_quote(column)} in ({logged})", params)
    # The units' rows are where the builds appended them, at the end of the warehouse's table:
    # finding them by the key column alone first lets the copy skip reading every other column of
    # the rows before (rowids are stable while we read: the warehouse has no writer).
    (first,) = con.execute(
        f"select min(rowid) from wh.{relation} where {_quote(column)} in ({logged})", params
    ).fetchone()
    if first is not None:  # else the units have no rows any more
        con.execute(
            f"insert into {relation} ({column_list}) select {column_list} from wh.{relation} "
            f"where rowid >= ? and {_quote(column)} in ({logged})",
            [first, *params],
        )
    return "updated"


def _replace_updated_rows(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    columns: list[tuple[str, str]],
    keyed: tuple[tuple[str, ...], str],
    since: str | None,
) -> str:
    """Replace, by key, the rows stamped since the generation's newest stamp (less CLOCK_MARGIN)."""
    keys, stamp = keyed
    if since is None:  # the generation held no stamped row
        where, params = f"{_quote(stamp)} is not null", []
    else:
        where, params = f"{_quote(stamp)} >= cast(? as timestamptz) - ?", [since, CLOCK_MARGIN]
    key_list = ", ".join(_quote(k) for k in keys)
    column_list = ", ".join(_quote(c) for c, _ in columns)
    con.execute(
        f"delete from {relation} where ({key_list}) in (select {key_list} from wh.{relation} where {where})",
        params,
    )
    con.execute(
        f"insert into {relation} ({column_list}) select {column_list} from wh.{relation} where {where}",
        params,
    )
    return "updated"


def _prunable(log_table: str) -> str:
    """The change-log rows below an id (?) that are not their table's newest (which says the table
    is logged): the rows both generations cover, as the generations' own rows are not below."""
    return (
        f"from {log_table} as old where log_id < ? and log_id < (select max(log_id) from {log_table} "
        f"as newer where newer.relation_schema = old.relation_schema and newer.relation_name = old.relation_name)"
    )


def _prune_log(warehouse: Path, below: int | None) -> None:
    """Delete the change-log rows both generations already cover. Best effort, like
    quality.save_watermarks: skipped when the warehouse is busy (the next publish prunes)."""
    try:
        with duckdb.connect(str(warehouse)) as con:
            # dbt's scoped tests read the log past their own watermarks (macros/scoped_tests.sql)
            if _has_table(con, TEST_WATERMARKS, catalog=None):
                (lowest,) = con.execute(f"select min(log_id) from {TEST_WATERMARKS}").fetchone()
                if lowest is not None and below is not None:
                    below = min(below, lowest + 1)
            con.execute(f"delete {_prunable(REPLACED_UNITS)}", [below])
    except duckdb.Error:
        return


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
