"""Publish and reports assets: the finance copy of the marts, and the dbt docs for auditors.

`published_marts` depends on every mart and reverse-ETL model, so the blocking checks on them (dbt
reconciliation tests, GX mart suites) must pass in the same run before it publishes.
"""

from collections.abc import Sequence

import dagster as dg

from ingestion.config import reports_dir
from orchestration import dbt_cli, publish
from orchestration.resources import DUCKDB_POOL, WRITER_TAGS

PUBLISHED_KEY = dg.AssetKey(["published", "finance_marts"])
DBT_DOCS_KEY = dg.AssetKey(["reports", "dbt_docs"])


def publish_asset(model_keys: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=PUBLISHED_KEY,
        deps=list(model_keys),
        group_name="publish",
        kinds={"duckdb"},
        pool=DUCKDB_POOL,
        op_tags=WRITER_TAGS,
        description="Read-only copy of the marts and reverse-ETL status for finance, swapped in atomically "
        "after the blocking checks passed (write-audit-publish).",
    )
    def published_marts(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        done = publish.publish(build_id=context.run.run_id)
        publish.record_audit(passed=True, failures=[], published=True, build_id=context.run.run_id)
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(done.path)),
                "published_at": dg.MetadataValue.timestamp(done.published_at),
                "tables": dg.MetadataValue.md(
                    "| table | rows | published |\n|---|---|---|\n"
                    + "\n".join(f"| {t} | {n} | {done.how.get(t, '')} |" for t, n in done.tables.items())
                ),
                "fallback": dg.MetadataValue.text(done.fallback or "none: updated in place"),
                "dagster/row_count": sum(done.tables.values()),
            }
        )

    return published_marts


def dbt_docs_asset(model_keys: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=DBT_DOCS_KEY,
        deps=list(model_keys),
        group_name="reports",
        kinds={"dbt", "html"},
        pool=DUCKDB_POOL,
        op_tags=WRITER_TAGS,
        description="dbt docs (models, columns, tests, lineage) as one static page under <reports>/dbt_docs/.",
    )
    def dbt_docs() -> dg.MaterializeResult:
        index = dbt_cli.generate_docs(reports_dir() / "dbt_docs")
        return dg.MaterializeResult(metadata={"index": dg.MetadataValue.path(str(index))})

    return dbt_docs
