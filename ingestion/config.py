"""Paths shared by every stage: one warehouse file for dlt, dbt and Dagster.

Everything reads environment variables (see `.env.example`); the CLI's global options only set
them, so dlt, dbt (`profiles.yml`) and Dagster resolve the same paths.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_WAREHOUSE = "data/warehouse.duckdb"


def warehouse_path() -> Path:
    return Path(os.environ.get("LEDGERBRIDGE_WAREHOUSE", DEFAULT_WAREHOUSE)).resolve()


def inbox_dir() -> Path:
    return Path(os.environ.get("LEDGERBRIDGE_INBOX", "data/inbox")).resolve()


def reports_dir() -> Path:
    return Path(os.environ.get("LEDGERBRIDGE_REPORTS", "reports")).resolve()


def published_path() -> Path:
    """The read-only copy of the marts finance queries (write-audit-publish)."""
    default = warehouse_path().with_name("published.duckdb")
    return Path(os.environ.get("LEDGERBRIDGE_PUBLISHED", default)).resolve()
