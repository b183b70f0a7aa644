"""One job per flow, each selecting its raw tables and everything downstream (build, checks, publish, push)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import dagster as dg

ALL_ASSETS_JOB = "full_pipeline_job"

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
        if starts:
            jobs[name] = dg.define_asset_job(
                name, selection=dg.AssetSelection.assets(*starts).downstream(), description=description
            )
    return jobs
