"""`ledgerbridge demo` (= `make demo`): the whole pipeline on the sandbox, in one process.

Starts the SP-API and NetSuite sandboxes on ephemeral localhost ports (seller seed 7, scale
"small"), points the environment at them, materialises the full Dagster graph in process (ingest ->
dbt build + tests -> Great Expectations -> publish -> push) and prints a summary whose numbers are
read from the marts. Steps that could not run (a part missing, a check blocking) are reported as
such, never pretended.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ingestion.config import inbox_dir, published_path, reports_dir, warehouse_path
from orchestration import summary

Progress = Callable[[str], None]
DEMO_SEED = 7
DEMO_SCALE = "small"


@dataclass
class RunReport:
    """What the in-process run did, per asset and check."""

    success: bool
    materialized: list[str] = field(default_factory=list)
    not_materialized: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    passed_checks: int = 0
    errors: list[str] = field(default_factory=list)


def start_sandboxes(key_dir: Path) -> object:
    """Both sandboxes on ephemeral ports; the environment now points every client at them."""
    from sandbox.cli import Sandboxes

    sandboxes = Sandboxes(
        seed=DEMO_SEED, scale=DEMO_SCALE, amazon_port=0, netsuite_port=0, key_dir=key_dir
    ).start()
    os.environ.update(sandboxes.env())
    return sandboxes


def materialize_everything() -> RunReport:
    """Execute the full pipeline job in this process, on an ephemeral Dagster instance."""
    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.jobs import ALL_ASSETS_JOB

    job = defs.resolve_job_def(ALL_ASSETS_JOB)
    with dg.DagsterInstance.ephemeral() as instance:
        # dbt's own log goes to stderr with Dagster's, so stdout carries only the summary.
        with contextlib.redirect_stdout(sys.stderr):
            result = job.execute_in_process(
                instance=instance,
                raise_on_error=False,
                run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
            )
        report = RunReport(success=result.success)
        done = {e.asset_key for e in result.get_asset_materialization_events() if e.asset_key}
        planned = defs.resolve_asset_graph().materializable_asset_keys
        report.materialized = sorted(k.to_user_string() for k in done)
        report.not_materialized = sorted(k.to_user_string() for k in planned - done)
        for evaluation in result.get_asset_check_evaluations():
            if evaluation.passed:
                report.passed_checks += 1
            else:
                report.failed_checks.append(
                    f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
                    + (f" ({evaluation.description})" if evaluation.description else "")
                )
        for event in result.all_events:
            if event.is_step_failure and event.step_failure_data:
                error = event.step_failure_data.error
                while (
                    error is not None and error.cause is not None
                ):  # the user's error, not Dagster's wrapper
                    error = error.cause
                message = error.message.strip().splitlines()[0] if error else "failed"
                report.errors.append(f"{event.step_key}: {message}"[:300])
    return report


def summary_lines(report: RunReport, warehouse: Path) -> list[str]:
    """The demo's closing summary; every number comes from a query on the marts."""
    lines = ["", "LedgerBridge demo summary", "========================="]
    lines.append(
        f"pipeline run: {'succeeded' if report.success else 'did NOT fully succeed'}; "
        f"{len(report.materialized)} assets materialised, {report.passed_checks} checks passed, "
        f"{len(report.failed_checks)} failed"
    )
    if report.not_materialized:
        lines.append(
            f"not materialised ({len(report.not_materialized)}): {', '.join(report.not_materialized[:12])}"
        )
    for check in report.failed_checks[:10]:
        lines.append(f"  failed check: {check}")
    for error in report.errors[:10]:
        lines.append(f"  step failed: {error}")
    try:
        lines += _mart_lines(warehouse)
    except duckdb.Error as exc:
        lines.append(f"could not read the marts: {exc}")
    published = published_path()
    published_note = (
        "" if "published/finance_marts" in report.materialized else " (NOT published by this run)"
    )
    lines += [
        f"warehouse:       {warehouse}",
        f"published marts: {published}{published_note}",
        f"data docs:       {reports_dir() / 'data_docs' / 'index.html'}",
        f"dbt docs:        {reports_dir() / 'dbt_docs' / 'index.html'}",
    ]
    return lines


def _mart_lines(warehouse: Path) -> list[str]:
    """Settlements, exceptions and pushes, each counted with SQL on the marts and reverse-ETL state."""
    if not warehouse.exists():
        return [f"warehouse {warehouse} was not created"]
    lines = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        statuses = summary.settlements_by_status(con)
        lines.append("settlements: " + summary.format_counts(statuses, "marts.fct_settlements not built"))
        if statuses is not None:
            balanced = statuses.get("balanced", 0)
            lines.append(
                f"  balanced {balanced}, blocked or with a variance {sum(statuses.values()) - balanced}"
            )
        exceptions = summary.exceptions_by_type(con)
        lines.append(
            "exceptions by type: " + summary.format_counts(exceptions, "marts.rpt_exceptions not built")
        )
        outcomes = summary.push_outcomes(con)
    if outcomes is None:
        lines.append("records pushed: none (the push did not run)")
        return lines
    pushed = {record_type: statuses.get("pushed", 0) for record_type, statuses in outcomes.items()}
    lines.append("records pushed per type: " + summary.format_counts(pushed, "none"))
    others = {
        f"{t} {status}": n for t, per in outcomes.items() for status, n in per.items() if status != "pushed"
    }
    if others:
        lines.append("records not pushed: " + summary.format_counts(others, "none"))
    return lines


def run_demo(args: argparse.Namespace, progress: Progress) -> int:
    warehouse = warehouse_path()
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    inbox_dir().mkdir(parents=True, exist_ok=True)
    progress(f"starting the sandboxes (seller seed {DEMO_SEED}, scale {DEMO_SCALE})")
    sandboxes = start_sandboxes(warehouse.parent / "sandbox")
    try:
        progress(
            f"materialising the whole graph into {warehouse} (ingest -> build -> checks -> publish -> push)"
        )
        report = materialize_everything()
    finally:
        sandboxes.stop()
    for line in summary_lines(report, warehouse):
        print(line)
    return 0 if report.success else 1
