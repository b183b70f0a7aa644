"""The one Dagster code location: wiring only; logic lives in ingestion/, dbt_project/, reverse_etl/.

Graph: raw_amazon / raw_netsuite (dlt, settlement import) -> dbt (staging -> marts, reverse_etl
sync models; tests as checks) -> Great Expectations checks -> published/finance_marts (write-audit-
publish) -> reverse-ETL push assets; plus reports/dbt_docs. Parts not installed yet are left out
(logged), so the location always loads.
"""

from __future__ import annotations

import dagster as dg

from orchestration.assets.dbt import ledgerbridge_dbt
from orchestration.assets.ingestion import dlt_ingestion_assets, settlement_import_asset
from orchestration.assets.publish import dbt_docs_asset, publish_asset
from orchestration.assets.reverse_etl import reverse_etl_assets
from orchestration.checks import gx_checks
from orchestration.jobs import build_jobs
from orchestration.resources import executor, resources
from orchestration.schedules import build_schedules
from orchestration.sensors import build_sensors


def build_definitions() -> dg.Definitions:
    ingestion = dlt_ingestion_assets()
    ingested = [key for assets in ingestion for key in assets.keys]
    settlements = settlement_import_asset(ingested)
    dbt_keys = sorted(ledgerbridge_dbt.keys, key=lambda k: k.to_user_string())
    published_models = [k for k in dbt_keys if k.path[0] in ("marts", "reverse_etl")]
    sync_models = [k for k in dbt_keys if k.path[0] == "reverse_etl" and k.path[-1].startswith("sync_")]
    assets = [
        *ingestion,
        *([settlements] if settlements else []),
        ledgerbridge_dbt,
        publish_asset(published_models),
        dbt_docs_asset(published_models),
    ]
    push = reverse_etl_assets(sync_models)
    if push is not None:
        assets.append(push)
    all_keys = [key for a in assets for key in a.keys]
    jobs = build_jobs(all_keys)
    return dg.Definitions(
        assets=assets,
        asset_checks=gx_checks(all_keys),
        jobs=list(jobs.values()),
        schedules=build_schedules(jobs),
        sensors=build_sensors(jobs),
        resources=resources(),
        executor=executor,
    )


defs = build_definitions()
