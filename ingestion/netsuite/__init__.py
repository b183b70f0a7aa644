"""dlt source over NetSuite SuiteQL: one merge resource per table of docs/contracts.md.

Each table is read incrementally on `lastmodifieddate` (`WHERE lastmodifieddate >=
TO_TIMESTAMP(...)`, minus a lookback) and in keyset slices: SuiteQL over REST returns at most
100,000 results of a query, so a slice is `WHERE <key> > <last key> ORDER BY <key>`, paged with
limit/offset up to `slice_rows`, and the next slice starts after the last key seen. A table of
any size therefore loads completely. Timestamps are selected with `TO_CHAR` so the account's
date format preference cannot change what we parse. SuiteQL sends strings; each page is typed
(ids -> BIGINT, money -> DECIMAL(18,2), timestamps -> UTC) and handed to dlt as an Arrow table,
which keeps a 100,000-row table load to seconds. Lines of a reloaded transaction replace its old
lines (merge key `transaction`), so lines removed in NetSuite disappear here too; `pricing` works the
same way through its item (prices are part of the item record, so the item's date decides).

The HTTP side (auth, retries, Retry-After, concurrency cap) is `client.NetSuiteClient`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import dlt
import pyarrow as pa
from dlt.extract.resource import DltResource

from ingestion.arrow_tables import arrow_page, empty_table

from .settings import DATE, ID, INT, MONEY, TABLES, TIMESTAMP, NetSuiteSettings, Table

TS_FORMAT = "YYYY-MM-DD HH24:MI:SS"
DATE_FORMAT = "YYYY-MM-DD"
DLT_TYPES = {
    ID: {"data_type": "bigint"},
    INT: {"data_type": "bigint"},
    MONEY: {"data_type": "decimal", "precision": 18, "scale": 2},
    TIMESTAMP: {"data_type": "timestamp", "timezone": True},
    DATE: {"data_type": "date"},
}


@dlt.source(name="netsuite", max_table_nesting=0)
def netsuite_source(client: Any = None, settings: NetSuiteSettings | None = None) -> list[DltResource]:
    """NetSuite via SuiteQL.

    Args:
        client: a `NetSuiteClient`; `NetSuiteClient.from_env()` when omitted.
        settings: tables, page/slice sizes and lookback; `NetSuiteSettings.from_env()` when omitted.
    """
    if client is None:
        from .client import NetSuiteClient

        client = NetSuiteClient.from_env()
    settings = settings or NetSuiteSettings.from_env()
    return [table_resource(client, TABLES[name], settings) for name in settings.tables]


def table_resource(client: Any, table: Table, settings: NetSuiteSettings) -> DltResource:
    columns = {
        name: {**DLT_TYPES.get(kind, {"data_type": "text"}), "nullable": name not in table.key}
        for name, kind in table.columns.items()
    }

    cursor = dlt.sources.incremental(
        "lastmodifieddate", lag=settings.lookback.total_seconds(), on_cursor_value_missing="include"
    )

    @dlt.resource(
        name=table.name,
        primary_key=table.key,
        merge_key=table.merge_key,
        write_disposition="merge",
        columns=columns,
    )
    def rows(modified: dlt.sources.incremental[datetime] = cursor) -> Iterator[pa.Table]:
        since = modified.start_value
        last_key: tuple | None = None
        loaded = False
        while True:
            query = build_query(table, since, last_key)
            offset, page = 0, None
            while True:
                page = client.suiteql(query, limit=settings.page_size, offset=offset)
                items = [typed_row(table, item) for item in page.get("items") or []]
                if items:
                    loaded = True
                    yield arrow_page(items, columns)
                    last_key = tuple(items[-1][k] for k in table.key)
                offset += settings.page_size
                if not page.get("hasMore") or offset >= settings.slice_rows:
                    break
            if not page.get("hasMore"):
                break  # the slice ended before its size limit: the table is done
        if not loaded:
            yield empty_table(columns)  # no rows yet: still create the table for dbt

    return rows


def build_query(table: Table, since: datetime | None, after: tuple | None) -> str:
    """The SuiteQL of one keyset slice: modified since `since`, keys after `after`, ordered by key."""
    select = ", ".join(_select(table, column) for column in table.columns)
    where = []
    if since is not None:
        stamp = since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        where.append(f"{table.expr('lastmodifieddate')} >= TO_TIMESTAMP('{stamp}', '{TS_FORMAT}')")
    if after is not None:
        where.append(_after(table, after))
    sql = f"SELECT {select} FROM {table.source or table.name}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return sql + " ORDER BY " + ", ".join(table.expr(k) for k in table.key)


def _select(table: Table, column: str) -> str:
    kind, expr = table.columns[column], table.expr(column)
    if kind == TIMESTAMP:
        return f"TO_CHAR({expr}, '{TS_FORMAT}') AS {column}"
    if kind == DATE:
        return f"TO_CHAR({expr}, '{DATE_FORMAT}') AS {column}"
    return expr if expr == column else f"{expr} AS {column}"


def _after(table: Table, after: tuple) -> str:
    """`(k1 > v1) OR (k1 = v1 AND k2 > v2) ...`: keys are numeric ids, so the values are ints."""
    keys = [table.expr(k) for k in table.key]
    terms = []
    for n, key in enumerate(keys):
        equal = [f"{keys[i]} = {int(after[i])}" for i in range(n)]
        terms.append("(" + " AND ".join([*equal, f"{key} > {int(after[n])}"]) + ")")
    return "(" + " OR ".join(terms) + ")"


def typed_row(table: Table, item: dict[str, Any]) -> dict[str, Any]:
    """SuiteQL sends every value as a string and leaves nulls out; give each contract column its type."""
    row: dict[str, Any] = {}
    for column, kind in table.columns.items():
        value = item.get(column)
        try:
            row[column] = None if value is None or value == "" else _typed(kind, str(value))
        except (ArithmeticError, ValueError):
            key = ", ".join(f"{k}={item.get(k)}" for k in table.key)
            raise ValueError(
                f"NetSuite {table.name} row ({key}): field {column} = {value!r} is not a valid {kind}"
            ) from None
    return row


def _typed(kind: str, value: str) -> Any:
    if kind in (ID, INT):
        number = Decimal(value)
        if number != number.to_integral_value():
            raise ValueError(value)
        return int(number)
    if kind == MONEY:
        return Decimal(value)
    if kind == TIMESTAMP:
        if len(value) != 19:  # exactly TO_CHAR's 'YYYY-MM-DD HH24:MI:SS'
            raise ValueError(value)
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    if kind == DATE:
        return date.fromisoformat(value[:10])
    return value
