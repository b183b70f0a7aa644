"""Dagster resources: dbt (the venv's own dbt binary) and dlt. Assets receive them by name."""

from __future__ import annotations

import os

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject
from dagster_dlt import DagsterDltResource

from ingestion.config import warehouse_path
from orchestration import dbt_cli

# One warehouse path for dlt, dbt and Dagster: dbt runs in its project directory, so a relative
# default would point elsewhere; pin the absolute path for every process this one starts.
os.environ.setdefault("LEDGERBRIDGE_WAREHOUSE", str(warehouse_path()))

# DuckDB has one writer at a time, and a reader of the file waits for its writer: every step that
# opens the warehouse is in this pool (limit it to 1 with `dagster instance concurrency set
# duckdb_writer 1`, or `concurrency: pools: default_limit: 1` in dagster.yaml) and carries this tag,
# which the executor below limits to one step at a time within a run.
DUCKDB_POOL = "duckdb_writer"
WRITER_TAGS = {"ledgerbridge/duckdb": "warehouse"}

dbt_project = DbtProject(project_dir=dbt_cli.PROJECT_DIR, profiles_dir=dbt_cli.PROJECT_DIR)


def resources() -> dict[str, dg.ConfigurableResource]:
    return {
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_cli.dbt_executable()),
        "dlt": DagsterDltResource(),
    }


# Runs of the UI use processes; writers still go one at a time.
executor = dg.multiprocess_executor.configured(
    {
        "max_concurrent": 4,
        "tag_concurrency_limits": [{"key": "ledgerbridge/duckdb", "value": "warehouse", "limit": 1}],
    }
)
