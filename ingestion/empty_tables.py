"""Empty Arrow tables from dlt column hints, so a resource with no rows still creates its table.

dlt creates a destination table only when rows arrive; dbt models select from every raw table,
so on a first run with, say, no NetSuite customers yet, the empty table must exist all the same.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

_ARROW = {
    "bigint": pa.int64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "text": pa.string(),
}


def _arrow_type(hint: dict[str, Any]) -> pa.DataType:
    kind = hint.get("data_type", "text")
    if kind == "decimal":
        return pa.decimal128(hint.get("precision", 18), hint.get("scale", 2))
    if kind == "timestamp":
        return pa.timestamp("us", tz="UTC" if hint.get("timezone", True) else None)
    return _ARROW.get(kind, pa.string())


def empty_table(columns: dict[str, dict[str, Any]]) -> pa.Table:
    """Zero rows with the contract columns, plus dlt's own, so later dict rows add no columns."""
    fields = [
        pa.field(name, _arrow_type(hint), nullable=hint.get("nullable", True))
        for name, hint in columns.items()
    ]
    fields += [
        pa.field("_dlt_load_id", pa.string(), nullable=False),
        pa.field("_dlt_id", pa.string(), nullable=False),
    ]
    return pa.schema(fields).empty_table()
