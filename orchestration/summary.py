"""Readable numbers about a warehouse (or the published copy): what the demo, `status` and Dagster show.

All numbers are read from the marts and reverse-ETL state with SQL, so what a person reads is
what a query on the marts returns. No Dagster imports.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    row = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(row and row[0])


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
            "order by ordinal_position",
            [schema, table],
        ).fetchall()
    ]


def _first_present(columns: Sequence[str], candidates: Sequence[str]) -> str | None:
    return next((c for c in candidates if c in columns), None)


def row_count(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> int | None:
    if not table_exists(con, schema, table):
        return None
    return con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]


def settlements_by_status(con: duckdb.DuckDBPyConnection) -> dict[str, int] | None:
    """marts.fct_settlements counted per status (balanced / variance / blocked); None if not built."""
    if not table_exists(con, "marts", "fct_settlements"):
        return None
    rows = con.execute("select status, count(*) from marts.fct_settlements group by 1 order by 1").fetchall()
    return {str(status): count for status, count in rows}


def exceptions_by_type(con: duckdb.DuckDBPyConnection) -> dict[str, int] | None:
    """Open exceptions in marts.rpt_exceptions counted per type; None if not built."""
    if not table_exists(con, "marts", "rpt_exceptions"):
        return None
    column = _first_present(_columns(con, "marts", "rpt_exceptions"), ["exception_type", "type"])
    if column is None:
        return None
    rows = con.execute(
        f'select "{column}", count(*) from marts.rpt_exceptions group by 1 order by 1'
    ).fetchall()
    return {str(kind): count for kind, count in rows}


def push_outcomes(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, int]] | None:
    """reverse_etl.sync_records counted per record type and status; None if nothing was ever pushed."""
    if not table_exists(con, "reverse_etl", "sync_records"):
        return None
    outcome: dict[str, dict[str, int]] = {}
    for record_type, status, count in con.execute(
        "select record_type, status, count(*) from reverse_etl.sync_records group by 1, 2 order by 1, 2"
    ).fetchall():
        outcome.setdefault(record_type, {})[status] = count
    return outcome


def last_push_at(con: duckdb.DuckDBPyConnection) -> Any:
    if not table_exists(con, "reverse_etl", "sync_records"):
        return None
    return con.execute(
        "select max(coalesce(updated_at, pushed_at)) from reverse_etl.sync_records"
    ).fetchone()[0]


def settlements_markdown(con: duckdb.DuckDBPyConnection, limit: int = 50) -> str | None:
    """The settlements with their status as a markdown table (the asset's metadata in the UI)."""
    if not table_exists(con, "marts", "fct_settlements"):
        return None
    wanted = [
        "settlement_id",
        "marketplace",
        "currency",
        "reported_total",
        "computed_total",
        "variance",
        "status",
    ]
    present = [c for c in wanted if c in _columns(con, "marts", "fct_settlements")]
    if not present:
        return None
    order = "status, settlement_id" if {"status", "settlement_id"} <= set(present) else present[0]
    select = ", ".join(f'"{c}"' for c in present)
    rows = con.execute(
        f"select {select} from marts.fct_settlements order by {order} limit {int(limit)}"
    ).fetchall()
    lines = ["| " + " | ".join(present) + " |", "|" + "---|" * len(present)]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def format_counts(counts: dict[str, int] | None, missing: str) -> str:
    if counts is None:
        return missing
    if not counts:
        return "none"
    return ", ".join(f"{key} {value}" for key, value in counts.items())
