"""One job per flow, each selecting its raw tables and everything downstream (build, checks, publish, push).

The orders job runs on a short cadence (`LEDGERBRIDGE_ORDERS_CRON`), so it skips what does not bring
a new order to NetSuite sooner: it runs its steps in the run's own process (every step writes the
warehouse, so they run one at a time anyway; a process per step only adds a Python start and a
code-location load to each), and leaves the dbt docs, which change with the models and not with
new orders, to the other jobs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import dagster as dg

from orchestration.assets.publish import DBT_DOCS_KEY

ALL_ASSETS_JOB = "full_pipeline_job"
FAST_JOBS = ("orders_job",)

# flow -> the raw tables that start it
FLOWS: dict[str, tuple[str, list[dg.AssetKey]]] = {
    "orders_job": (
        "Amazon orders and order items -> marts -> checks -> publish -> push.",
        [dg.AssetKey(["raw_amazon", "orders"]), dg.AssetKey(["raw_amazon", "order_items"])],
    ),
    "inventory_job": (
        "FBA inventory and NetSuite items/locations/quantities -> inventory marts -> checks -> publish -> push.",
        [dg.AssetKey(["raw_amazon", "inventory_summaries"]), dg.AssetKey(["raw_amazon", "listings_items"])]
        + [
            dg.AssetKey(["raw_netsuite", t])
            for t in (
                "subsidiary",
                "currency",
                "account",
                "location",
                "item",
                "customer",
                "transaction",
                "transactionline",
                "aggregateitemlocation",
            )
        ],
    ),
    "settlements_job": (
        "Settlement reports (inbox files and Reports API) -> settlement journals -> checks -> publish -> push.",
        [
            dg.AssetKey(["raw_amazon", t])
            for t in ("settlements", "settlement_lines", "settlement_rejections")
        ],
    ),
}


def build_jobs(materializable: Iterable[dg.AssetKey]) -> dict[str, Any]:
    """The flow jobs whose raw tables exist in this code location, plus the whole graph."""
    present = set(materializable)
    jobs = {
        ALL_ASSETS_JOB: dg.define_asset_job(
            ALL_ASSETS_JOB,
            selection=dg.AssetSelection.all(),
            description="Everything: ingest -> dbt build + tests -> Great Expectations -> publish -> push.",
        )
    }
    for name, (description, keys) in FLOWS.items():
        starts = [k for k in keys if k in present]
        if not starts:
            continue
        selection = dg.AssetSelection.assets(*starts).downstream()
        if name in FAST_JOBS:
            jobs[name] = dg.define_asset_job(
                name,
                selection=selection - dg.AssetSelection.assets(DBT_DOCS_KEY),
                executor_def=dg.in_process_executor,
                description=description + " Steps in the run's process; dbt docs left to the other jobs.",
            )
        else:
            jobs[name] = dg.define_asset_job(name, selection=selection, description=description)
    return jobs
