"""The entry points orchestration calls in the other folders, resolved in one place.

Dagster assets, the demo and `ledgerbridge build` reach ingestion, the settlement importer and the
reverse-ETL engine only through these functions. Each one imports its target lazily and raises
`PartUnavailable` (naming the missing module or function) when that part is not installed yet,
so the code location still loads and the demo can say honestly what it skipped.
No Dagster imports.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingestion.config import inbox_dir, warehouse_path


class PartUnavailable(RuntimeError):
    """A module or function another part of LedgerBridge provides is missing."""


def resolve(target: str) -> Callable[..., Any]:
    """Import `module:function`, or raise PartUnavailable naming what is missing."""
    module_name, func_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise PartUnavailable(f"{module_name} is not available") from exc
        raise
    func = getattr(module, func_name, None)
    if func is None:
        raise PartUnavailable(f"{target} is not available")
    return func


def _quiet(_message: str) -> None:
    pass


# -- ingestion ---------------------------------------------------------------------------------


def amazon_source() -> Any:
    """The `@dlt.source` over SP-API (a fresh instance: its clock is the run's)."""
    return resolve("ingestion.amazon:amazon_source")()


def netsuite_source() -> Any:
    return resolve("ingestion.netsuite:netsuite_source")()


def amazon_pipeline() -> Any:
    return resolve("ingestion.pipelines:amazon_pipeline")()


def netsuite_pipeline() -> Any:
    return resolve("ingestion.pipelines:netsuite_pipeline")()


def import_inbox(inbox: Path | None = None, progress: Callable[[str], None] = _quiet) -> Any:
    """Load every settlement file in the inbox into raw_amazon (files then move to processed/ or rejected/)."""
    func = resolve("ingestion.amazon.settlements:import_inbox")
    return func(inbox_dir=inbox or inbox_dir(), progress=progress)


def load_settlements_from_api(progress: Callable[[str], None] = _quiet) -> Any:
    """Download the settlement reports the Reports API lists and that are not loaded yet."""
    sync = resolve("ingestion.amazon.settlement_reports:sync_settlement_reports")
    pipeline = resolve("ingestion.amazon.settlements:settlement_pipeline")
    outcome = sync(pipeline(), progress=progress)
    if getattr(outcome, "error", None):
        raise RuntimeError(f"settlement reports: {outcome.error}")
    return outcome


def list_settlement_report_ids() -> list[str]:
    """Ids of the settlement reports the Reports API lists now (for the new-settlement sensor)."""
    list_reports = resolve("ingestion.amazon.settlement_reports:list_settlement_reports")
    settings = resolve("ingestion.amazon.settings:AmazonSettings").from_env()
    api = resolve("ingestion.amazon.client:SpApi")(settings)
    listable = resolve("ingestion.amazon.settings:REPORTS_LISTABLE")  # a constant, resolved the same way
    try:
        return [str(r["reportId"]) for r in list_reports(api, datetime.now(UTC) - listable)]
    finally:
        api.close()


# -- reverse ETL -------------------------------------------------------------------------------


def push(dry_run: bool = False, progress: Callable[[str], None] = _quiet) -> Any:
    """Push every `reverse_etl.sync_*` model (the engine diffs, upserts and records outcomes)."""
    return resolve("reverse_etl.sync:push")(warehouse_path(), dry_run=dry_run, progress=progress)
