"""DuckDB connections to the warehouse file, set up as dlt's duckdb destination sets up its own.

For loaders that write without dlt (the settlement lines) and for the one connection an ingest
run shares between its dlt steps (`ingestion.pipelines.warehouse_connection`). Importing dlt costs
~0.5 s, more than a day's settlement import itself; this module does not.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingestion.config import duckdb_memory_limit, warehouse_path


def connect_warehouse(path: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A read-write connection with dlt's settings: UTC session clock, checkpoints at 1 GB of WAL
    (not DuckDB's 16 MB: a large import is not checkpointed mid-way) and on close, and
    DuckDB's memory capped at `duckdb_memory_limit()`."""
    path = path or warehouse_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(str(path), config={"memory_limit": duckdb_memory_limit()})
    try:
        connection.execute("SET GLOBAL TimeZone = 'UTC'")
        connection.execute("SET GLOBAL checkpoint_threshold = '1gb'")
        connection.execute("PRAGMA enable_checkpoint_on_shutdown")
    except BaseException:
        connection.close()
        raise
    return connection
