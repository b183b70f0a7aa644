"""Arrow tables typed from dlt column hints (the raw contract's columns).

`arrow_page`: a page of rows as one Arrow table, so dlt writes parquet without per-row Python
(bulk sources: NetSuite SuiteQL pages, SP-API orders). `empty_table`: zero rows, so a resource with
no rows still creates its table — dlt creates a destination table only when rows arrive, and dbt
models select from every raw table.
"""

from __future__ import annotations

import sys
from typing import Any

import dlt
import pyarrow as pa
from dlt.common.normalizers.utils import generate_dlt_ids

_ARROW = {
    "bigint": pa.int64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "text": pa.string(),
}


def skip_pandas_lookup() -> None:
    """Settle, without importing pandas, pyarrow's one look for it (call before starting threads).

    The first time pyarrow converts Python values (`pa.array`, `pa.scalar`: ours, and dlt's
    incremental cursors), it imports pandas (~0.5 s) only to check whether the values are pandas
    objects; ingestion never hands it any. Worse, with sources loading in threads, dlt's
    `is_pandas_frame` in one thread can meet the half-imported pandas of another and fail. So
    `run_ingest` has pyarrow look once, with pandas hidden: pyarrow then takes pandas for absent
    until something asks it for pandas itself (`to_pandas`, `from_pandas`), which imports it then.
    """
    if "pandas" in sys.modules:
        return
    hidden = _HidePandas()
    sys.meta_path.insert(0, hidden)
    try:
        pa.array([], pa.int64())
    finally:
        sys.meta_path.remove(hidden)


class _HidePandas:
    """An import finder under which `import pandas` fails (while `skip_pandas_lookup` runs)."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "pandas":
            raise ImportError("pandas is hidden from pyarrow's lookup", name=name)


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


def arrow_page(items: list[dict[str, Any]], columns: dict[str, dict[str, Any]]) -> pa.Table:
    """One page as Arrow: dlt then filters the cursor and writes parquet without per-row Python.

    Arrow rows get no `_dlt_load_id`/`_dlt_id` from dlt, so they are added here, as dict rows get them.
    Decimals go through their text: pyarrow converts `Decimal` objects ~50x slower (13 us each).
    """
    schema = empty_table(columns).schema
    data: dict[str, list] = {name: [item[name] for item in items] for name in columns}
    data["_dlt_load_id"] = [dlt.current.load_package_state()["load_id"]] * len(items)
    data["_dlt_id"] = generate_dlt_ids(len(items))
    arrays = []
    for field in schema:
        values = data[field.name]
        if pa.types.is_decimal(field.type):
            text = pa.array([None if v is None else str(v) for v in values], pa.string())
            arrays.append(text.cast(field.type))  # raises, as Decimal objects do, if cents would be lost
        else:
            arrays.append(pa.array(values, field.type))
    return pa.Table.from_arrays(arrays, schema=schema)
