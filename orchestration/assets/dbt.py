"""dbt assets: every model and seed of dbt_project/, its tests as asset checks.

dbt tests at severity `error` (the project default; the reconciliation tests) are blocking checks:
when one fails, nothing downstream of that model (publish, push) runs. Models that fail to build
fail the step. Row counts and the settlements table are added to the materialisations after dbt
finishes, read from the warehouse, so a person sees them in the UI.
"""

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from ingestion.config import warehouse_path
from orchestration import dbt_cli, summary
from orchestration.resources import DUCKDB_POOL, WRITER_TAGS, dbt_project

dbt_cli.ensure_manifest()  # with the venv's dbt, also outside `dagster dev`, when stale or missing
dbt_project.prepare_if_dev()


class LedgerBridgeDbtTranslator(DagsterDbtTranslator):
    """Keys are warehouse identities: `raw_amazon/orders` for sources, `marts/fct_settlements` for models."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: Any) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        schema = props.get("schema") or "main"
        name = props.get("alias") or props.get("identifier") or props["name"]
        if props["resource_type"] == "source":
            return spec.replace_attributes(
                key=dg.AssetKey([schema, props.get("identifier") or props["name"]])
            )
        kinds = set(spec.kinds)
        if schema == "reverse_etl":
            kinds.add("netsuite" if "netsuite" in props["name"] else "amazon")
        return spec.replace_attributes(key=dg.AssetKey([schema, name]), group_name=schema, kinds=kinds)


def manifest_with_reconciliation_checks(manifest_path: Path) -> dict[str, Any]:
    """The manifest, with every singular test over several models attached to its first mart.

    dagster-dbt turns a singular test into an asset check only when it reads one model or names its
    model in `meta: dagster: ref`. The reconciliation tests read several marts; attached to the
    first mart they read (dbt authors can still choose with `meta`), they become blocking checks
    that a person sees in the UI and that stop publish and push.
    """
    manifest = json.loads(manifest_path.read_text())
    nodes = manifest["nodes"]
    for node in nodes.values():
        if node["resource_type"] != "test" or node.get("attached_node"):
            continue
        meta = node.setdefault("config", {}).setdefault("meta", {})
        parents = [nodes[p] for p in node["depends_on"]["nodes"] if p in nodes]
        if len(parents) < 2 or meta.get("dagster", {}).get("ref"):
            continue
        marts = [p for p in parents if p.get("schema") == "marts"] or parents
        meta.setdefault("dagster", {})["ref"] = {"name": marts[0]["name"]}
    return manifest


MANIFEST = manifest_with_reconciliation_checks(dbt_project.manifest_path)
TRANSLATOR = LedgerBridgeDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


class DbtBuildConfig(dg.Config):
    """Run configuration: the accounting mode (`summary` or `order`; empty = the settings seed), and
    `full_refresh` to rebuild the incremental models from scratch (dbt_project/README.md)."""

    accounting_mode: str = ""
    full_refresh: bool = False


def _readable_metadata(key: dg.AssetKey, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    schema, table = key.path[0], key.path[-1]
    metadata: dict[str, Any] = {}
    count = summary.row_count(con, schema, table)
    if count is not None:
        metadata["dagster/row_count"] = count
    if (schema, table) == ("marts", "fct_settlements"):
        by_status = summary.settlements_by_status(con) or {}
        metadata["settlements by status"] = dg.MetadataValue.json(by_status)
        table_md = summary.settlements_markdown(con)
        if table_md:
            metadata["settlements"] = dg.MetadataValue.md(table_md)
    if (schema, table) == ("marts", "rpt_exceptions"):
        metadata["open exceptions by type"] = dg.MetadataValue.json(summary.exceptions_by_type(con) or {})
    return metadata


@dbt_assets(
    manifest=MANIFEST,
    project=dbt_project,
    dagster_dbt_translator=TRANSLATOR,
    pool=DUCKDB_POOL,
    op_tags=WRITER_TAGS,
)
def ledgerbridge_dbt(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig
) -> Iterator[Any]:
    invocation = dbt.cli(
        dbt_cli.build_args(config.accounting_mode or None, full_refresh=config.full_refresh),
        context=context,
        raise_on_error=False,
    )
    try:
        events = list(invocation.stream())  # dbt holds the DuckDB write lock until it exits
    finally:
        if invocation.process.poll() is None:  # the stream failed: never leave dbt holding the lock
            invocation.process.terminate()
            invocation.process.wait(timeout=60)
    yield from _with_readable_metadata(context, events)
    failed = unreported_failures(dbt_cli.read_run_results(invocation.target_path), events)
    if failed:
        names = ", ".join(dbt_cli.describe_failure(r) for r in failed[:10])
        raise dg.Failure(f"dbt build failed on {len(failed)} node(s): {names}")


def _with_readable_metadata(context: dg.AssetExecutionContext, events: list[Any]) -> Iterator[Any]:
    if not warehouse_path().exists():
        yield from events
        return
    with duckdb.connect(str(warehouse_path()), read_only=True) as con:
        for event in events:
            if isinstance(event, dg.Output):
                key = context.asset_key_for_output(event.output_name)
                event = event.with_metadata({**(event.metadata or {}), **_readable_metadata(key, con)})
            yield event


def unreported_failures(results: list[dbt_cli.NodeResult], events: list[Any]) -> list[dbt_cli.NodeResult]:
    """What failed in dbt and is not an asset check result Dagster already blocks on.

    A model, seed or unit test that failed, or a failing test that is no asset check, fails the
    step, so nothing downstream (publish, push) runs on a broken build.
    """
    reported = {e.check_name for e in events if isinstance(e, dg.AssetCheckResult | dg.AssetCheckEvaluation)}
    return [r for r in results if r.blocks and not (r.resource_type == "test" and r.name in reported)]
