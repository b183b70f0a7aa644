"""Paths shared by every stage: one warehouse file for dlt, dbt and Dagster.

Everything reads environment variables (see `.env.example`); the CLI's global options only set
them, so dlt, dbt (`profiles.yml`) and Dagster resolve the same paths.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_WAREHOUSE = "data/warehouse.duckdb"
DEFAULT_MEMORY_LIMIT = "2GB"


def warehouse_path() -> Path:
    return Path(os.environ.get("LEDGERBRIDGE_WAREHOUSE", DEFAULT_WAREHOUSE)).resolve()


def pipelines_dir_for(warehouse: Path | None = None) -> Path:
    """dlt's working state of the pipelines loading `warehouse` (see `ingestion.pipelines`)."""
    return (warehouse or warehouse_path()).parent / ".dlt_pipelines"


def inbox_dir() -> Path:
    return Path(os.environ.get("LEDGERBRIDGE_INBOX", "data/inbox")).resolve()


def reports_dir() -> Path:
    return Path(os.environ.get("LEDGERBRIDGE_REPORTS", "reports")).resolve()


def published_path() -> Path:
    """The read-only copy of the marts finance queries (write-audit-publish)."""
    default = warehouse_path().with_name("published.duckdb")
    return Path(os.environ.get("LEDGERBRIDGE_PUBLISHED", default)).resolve()


def duckdb_memory_limit() -> str:
    """DuckDB's buffer-pool cap for every connection we open (dlt, dbt, the settlement parser).

    DuckDB's own default is 80 % of RAM, which a large seller's load fills with cache; DuckDB
    spills to disk beyond the cap. `profiles.yml` reads the same variable.
    """
    return os.environ.get("LEDGERBRIDGE_DUCKDB_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)
