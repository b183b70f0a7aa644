"""The NetSuite sandbox's SuiteQL tables: an in-memory DuckDB plus the SuiteQL dialect shim.

Why DuckDB: the ingestion side sends real SuiteQL (joins, `ORDER BY id`, keyset `WHERE id > n`,
`TO_TIMESTAMP(...)` windows), and an SQL engine answers that honestly where a hand-written
filter would not. Only the NetSuite-specific spellings DuckDB lacks are rewritten.

Columns follow docs/contracts.md (`raw_netsuite`); ids are BIGINT so `id > 99` compares as
numbers (as in NetSuite), money is DECIMAL(18,2), and every value goes out as a string.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import weakref
from decimal import Decimal
from typing import Any

import duckdb

ID = "BIGINT"
TS = "TIMESTAMP"
MONEY = "DECIMAL(18,2)"

SCHEMAS: dict[str, dict[str, str]] = {
    "subsidiary": {"id": ID, "name": "VARCHAR", "currency": ID, "country": "VARCHAR", "lastmodifieddate": TS},
    "currency": {"id": ID, "symbol": "VARCHAR", "name": "VARCHAR", "lastmodifieddate": TS},
    "account": {
        "id": ID,
        "acctnumber": "VARCHAR",
        "fullname": "VARCHAR",
        "accttype": "VARCHAR",
        "externalid": "VARCHAR",
        "lastmodifieddate": TS,
    },
    "location": {
        "id": ID,
        "name": "VARCHAR",
        "externalid": "VARCHAR",
        "subsidiary": ID,
        "isinactive": "VARCHAR",
        "lastmodifieddate": TS,
    },
    "item": {
        "id": ID,
        "itemid": "VARCHAR",
        "displayname": "VARCHAR",
        "itemtype": "VARCHAR",
        "externalid": "VARCHAR",
        "isinactive": "VARCHAR",
        "lastmodifieddate": TS,
    },
    "customer": {
        "id": ID,
        "entityid": "VARCHAR",
        "companyname": "VARCHAR",
        "externalid": "VARCHAR",
        "subsidiary": ID,
        "currency": ID,
        "lastmodifieddate": TS,
    },
    "transaction": {
        "id": ID,
        "tranid": "VARCHAR",
        "type": "VARCHAR",
        "externalid": "VARCHAR",
        "entity": ID,
        "trandate": "DATE",
        "currency": ID,
        "memo": "VARCHAR",
        "foreigntotal": MONEY,
        "lastmodifieddate": TS,
    },
    "transactionline": {
        "transaction": ID,
        "id": ID,
        "linesequencenumber": ID,
        "item": ID,
        "quantity": ID,
        "location": ID,
        "foreignamount": MONEY,
        "lastmodifieddate": TS,
    },
    "aggregateitemlocation": {
        "item": ID,
        "location": ID,
        "quantityonhand": ID,
        "quantityavailable": ID,
        "lastmodifieddate": TS,
    },
    # Item prices per price level and currency; `pricelevelname` feeds the `pricelevel` view below.
    "pricing": {
        "item": ID,
        "pricelevel": ID,
        "pricelevelname": "VARCHAR",
        "currency": ID,
        "unitprice": MONEY,
    },
}

MAX_RESULTS = 100_000  # SuiteQL over REST returns at most the first 100,000 results of a query


class SuiteQLError(ValueError):
    """The query could not be run; the message is what NetSuite-style clients get back."""


def _cell(value: Any) -> str | None:
    """Seed/bulk values arrive as strings, numbers or bools; DuckDB casts strings on insert."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, dt.datetime):
        return (
            value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
            if value.tzinfo
            else value.isoformat()
        )
    return str(value)


def format_value(value: Any) -> str:
    """SuiteQL returns every value as a string; timestamps as ISO `YYYY-MM-DD HH:MM:SS` (UTC)."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


# -- SuiteQL dialect -> DuckDB ------------------------------------------------------------------
_STRING = re.compile(r"'(?:[^']|'')*'")
_TOP = re.compile(r"^SELECT\s+TOP\s+(\d+)\s+", re.IGNORECASE)
_ROWNUM = re.compile(r"\bROWNUM\s*(<=|<)\s*(\d+)", re.IGNORECASE)
_REWRITES = [
    (
        re.compile(r"\bBUILTIN\s*\.\s*DF\s*\(", re.IGNORECASE),
        "(",
    ),  # display value: the sandbox returns the raw value
    (re.compile(r"\bNVL\s*\(", re.IGNORECASE), "coalesce("),
    (re.compile(r"\bSYSDATE\b", re.IGNORECASE), "current_timestamp"),
]
# TO_DATE / TO_TIMESTAMP / TO_CHAR with an Oracle format literal (DuckDB's strptime and strftime
# need the format as a constant, so the format is converted here rather than in SQL).
_CONVERT = re.compile(
    r"\bTO_(DATE|TIMESTAMP|CHAR)\s*\(\s*((?:'(?:[^']|'')*'|[^'(),])+?)\s*(?:,\s*'([^']*)'\s*)?\)",
    re.IGNORECASE,
)
_FORMAT_TOKENS = [
    ("YYYY", "%Y"),
    ("HH24", "%H"),
    ("HH", "%I"),
    ("MI", "%M"),
    ("MM", "%m"),
    ("DD", "%d"),
    ("SS", "%S"),
    ("AM", "%p"),
    ("PM", "%p"),
]
_DEFAULT_FORMATS = {
    "DATE": "YYYY-MM-DD",
    "TIMESTAMP": "YYYY-MM-DD HH24:MI:SS",
    "CHAR": "YYYY-MM-DD HH24:MI:SS",
}


def _strftime_format(oracle: str) -> str:
    out, i = "", 0
    while i < len(oracle):
        for token, code in _FORMAT_TOKENS:
            if oracle.upper().startswith(token, i):
                out, i = out + code, i + len(token)
                break
        else:
            out, i = out + oracle[i], i + 1
    return out


def _convert(match: re.Match[str]) -> str:
    kind, arg = match.group(1).upper(), match.group(2)
    fmt = _strftime_format(match.group(3) or _DEFAULT_FORMATS[kind])
    if kind == "CHAR":
        return f"strftime(CAST({arg} AS TIMESTAMP), '{fmt}')"
    parsed = f"strptime(CAST({arg} AS VARCHAR), '{fmt}')"
    return f"CAST({parsed} AS DATE)" if kind == "DATE" else parsed


def translate(query: str) -> str:
    """Rewrite the SuiteQL spellings DuckDB does not know, outside string literals.

    `ROWNUM <= n` (Oracle's row cap) becomes `TRUE ... LIMIT n`, right for the usual
    `WHERE ... AND ROWNUM <= n` form; `FETCH FIRST n ROWS ONLY` is native DuckDB.
    """
    query = _CONVERT.sub(_convert, query)
    parts, last, limit = [], 0, None
    for match in list(_STRING.finditer(query)) + [None]:
        end = match.start() if match else len(query)
        code = query[last:end]
        for pattern, replacement in _REWRITES:
            code = pattern.sub(replacement, code)
        rownum = _ROWNUM.search(code)
        if rownum:
            cap = int(rownum.group(2)) - (1 if rownum.group(1) == "<" else 0)
            limit = cap if limit is None else min(limit, cap)
            code = _ROWNUM.sub("TRUE", code)
        parts.append(code)
        if match:
            parts.append(match.group(0))
            last = match.end()
    sql = "".join(parts).strip().rstrip(";")
    top = _TOP.match(sql)  # SuiteQL's `SELECT TOP n ...`
    if top:
        sql = f"SELECT {sql[top.end() :]}"
        limit = int(top.group(1)) if limit is None else min(limit, int(top.group(1)))
    if limit is not None:
        sql = f"SELECT * FROM ({sql}) AS _rownum LIMIT {limit}"
    return sql


class Tables:
    """The SuiteQL tables. One DuckDB connection, used under one lock (DuckDB connections are not
    meant to be shared across threads without one).

    Writes of REST records (`replace_rows`) are queued and applied in one batch per table before
    anything else touches the table (a query, a count, a direct write), so a burst of upserts
    costs one DELETE + one INSERT instead of two statements a record, and SuiteQL still sees
    every record written before the query.
    """

    def __init__(self) -> None:
        self.db = duckdb.connect(":memory:")
        # Close at the latest when the interpreter exits (DuckDB complains about leaks otherwise).
        self.close = weakref.finalize(self, self.db.close)
        self.lock = threading.RLock()
        self.schemas = {name: dict(cols) for name, cols in SCHEMAS.items()}
        # table -> {(where column, value): rows}: replace_rows not yet applied, latest per key.
        self._queued: dict[str, dict[tuple[str, str | None], list[dict[str, Any]]]] = {}
        # (table, column) -> {value: rows}: see lookup().
        self._indexes: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {}
        with self.lock:
            for name, cols in self.schemas.items():
                self._create(name, cols)
            # NetSuite's price level list (id, name), as SuiteQL joins it to `pricing`.
            self._run(
                "CREATE VIEW pricelevel AS SELECT DISTINCT pricelevel AS id, pricelevelname AS name FROM pricing"
            )

    def _run(self, sql: str, params: list[Any] | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Execute and drain the result (DuckDB 2 refuses new work while a result is unread)."""
        cursor = self.db.execute(sql, params or [])
        names = [d[0].lower() for d in cursor.description or []]
        return names, cursor.fetchall() if cursor.description else []

    def _create(self, name: str, cols: dict[str, str]) -> None:
        spec = ", ".join(f'"{col}" {kind}' for col, kind in cols.items())
        self._run(f'CREATE TABLE "{name}" ({spec})')

    def _changed(self, table: str) -> None:
        """A direct write (not through replace_rows): forget the table's lookup indexes."""
        for key in [k for k in self._indexes if k[0] == table]:
            del self._indexes[key]

    def bulk_insert(self, table: str, rows: list[dict[str, Any]]) -> int:
        """Append rows fast (~100k rows a second).

        Unknown tables and unknown columns are created as VARCHAR, so seed data richer than the
        contract still lands.
        """
        if not rows:
            return 0
        with self.lock:
            self._sync(table)
            self._changed(table)
            self._insert(table, rows)
        return len(rows)

    def _insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        columns: dict[str, None] = {}
        for row in rows:
            columns.update(dict.fromkeys(k.lower() for k in row))
        schema = self.schemas.get(table)
        if schema is None:
            schema = self.schemas[table] = dict.fromkeys(columns, "VARCHAR")
            self._create(table, schema)
        for col in columns:
            if col not in schema:
                schema[col] = "VARCHAR"
                self._run(f'ALTER TABLE "{table}" ADD COLUMN "{col}" VARCHAR')
        lowered = [{k.lower(): v for k, v in row.items()} for row in rows]
        # One text list per column, cast on insert: ~100k rows/s, where a VALUES row per record
        # binds thousands of parameters and takes ~0.25 ms a row.
        names = ", ".join(f'"{c}"' for c in columns)
        lists = ", ".join("unnest(?::VARCHAR[])" for _ in columns)
        values = [[_cell(r.get(c)) for r in lowered] for c in columns]
        self._run(f'INSERT INTO "{table}" ({names}) SELECT {lists}', values)

    def replace_rows(self, table: str, where: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        """Delete the rows matching `where` and insert `rows` (the projection of one record).

        Queued: applied, in order, before the table is next read or written directly.
        """
        with self.lock:
            if len(where) != 1:
                self._sync(table)
                self._delete(table, where)
                self._insert(table, rows)
                return
            ((column, value),) = where.items()
            # The latest write of a key replaces an earlier queued one (each row matches its key,
            # so applying all deletes, then all inserts, equals applying them one by one).
            self._queued.setdefault(table, {})[(column, _cell(value))] = rows

    def _sync(self, *tables: str) -> None:
        """Apply the queued replace_rows of `tables` (of every table when none is named)."""
        for table in tables or list(self._queued):
            queue = self._queued.pop(table, None)
            if not queue:
                continue
            by_column: dict[str, list[str | None]] = {}
            for column, value in queue:
                by_column.setdefault(column, []).append(value)
            for column, values in by_column.items():
                kind = self.schemas[table].get(column, "VARCHAR")
                self._run(
                    f'DELETE FROM "{table}" WHERE "{column}" IN (SELECT unnest(CAST(? AS {kind}[])))',
                    [values],
                )
            self._insert(table, [row for rows in queue.values() for row in rows])

    def _delete(self, table: str, where: dict[str, Any]) -> None:
        clause = " AND ".join(f'"{k}" = ?' for k in where)
        self._run(f'DELETE FROM "{table}" WHERE {clause}', [_cell(v) for v in where.values()])

    def delete(self, table: str, where: dict[str, Any]) -> None:
        with self.lock:
            self._sync(table)
            self._changed(table)
            self._delete(table, where)

    def lookup(self, table: str, column: str, value: Any) -> list[dict[str, Any]]:
        """Rows of `table` whose `column` equals `value` (compared as text), from an index built on
        first use and dropped on every direct write (bulk_insert, delete, adjust_inventory).

        Rows written through replace_rows may be missing or stale here: this answers for rows
        the REST store does not own (seeded ones); the store is asked first and its ids win.
        """
        with self.lock:
            index = self._indexes.get((table, column))
            if index is None:
                names, rows = self._run(f'SELECT * FROM "{table}"')
                index = {}
                for values in rows:
                    row = dict(zip(names, values, strict=True))
                    key = row.get(column)
                    if key is not None:
                        index.setdefault(str(key), []).append(row)
                self._indexes[(table, column)] = index
            return list(index.get(str(value), ()))

    def adjust_inventory(self, item: str, location: str, delta: int, now: dt.datetime) -> None:
        with self.lock:
            self._sync("aggregateitemlocation")
            self._changed("aggregateitemlocation")
            _, found = self._run(
                "UPDATE aggregateitemlocation SET quantityonhand = coalesce(quantityonhand, 0) + ?, "
                "quantityavailable = coalesce(quantityavailable, 0) + ?, lastmodifieddate = ? "
                "WHERE item = ? AND location = ? RETURNING item",
                [delta, delta, now, int(item), int(location)],
            )
            if not found:
                self._run(
                    "INSERT INTO aggregateitemlocation (item, location, quantityonhand, quantityavailable, "
                    "lastmodifieddate) VALUES (?, ?, ?, ?, ?)",
                    [int(item), int(location), delta, delta, now],
                )

    def fetch(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        with self.lock:
            self._sync()
            names, rows = self._run(sql, params)
        return [dict(zip(names, row, strict=True)) for row in rows]

    def max_id(self, table: str) -> int:
        with self.lock:
            self._sync(table)
            value = self._run(f'SELECT max(TRY_CAST("id" AS BIGINT)) FROM "{table}"')[1][0][0]
        return int(value or 0)

    def counts(self) -> dict[str, int]:
        with self.lock:
            self._sync()
            return {t: self._run(f'SELECT count(*) FROM "{t}"')[1][0][0] for t in self.schemas}

    def suiteql(self, query: str, limit: int, offset: int) -> tuple[list[dict[str, str]], int]:
        """Run one page of a query; return (rows as NetSuite renders them, total results capped at 100k)."""
        if not isinstance(query, str) or not query.strip():
            raise SuiteQLError("Invalid search query. Provide a valid query in the 'q' property.")
        if not re.match(r"^\s*(SELECT|WITH)\b", query, re.IGNORECASE):
            raise SuiteQLError("Invalid search query. Only SELECT statements are supported.")
        sql = translate(query)
        with self.lock:
            self._sync()
            try:
                total = self._run(f"SELECT count(*) FROM ({sql}) AS _q")[1][0][0]
                total = min(total, MAX_RESULTS)
                take = max(0, min(limit, total - offset))
                names, raw = self._run(f"SELECT * FROM ({sql}) AS _q LIMIT {take} OFFSET {offset}")
            except duckdb.Error as exc:
                first = str(exc).splitlines()[0]
                raise SuiteQLError(
                    f"Invalid search query. Detailed unprocessed description follows. {first}"
                ) from exc
        items = []
        for row in raw:
            # NetSuite leaves null columns out of a result row entirely.
            item = {n: format_value(v) for n, v in zip(names, row, strict=True) if v is not None}
            item["links"] = []
            items.append(item)
        return items, total
