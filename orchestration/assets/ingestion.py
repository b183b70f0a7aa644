"""Ingestion assets: one dlt asset per resource of each source, and the settlement import.

Asset keys are warehouse identities (`raw_amazon/orders`), the same keys the dbt translator gives
the dbt sources, so the graph runs from the API through staging to the marts.
"""

import logging
from collections.abc import Iterator, Sequence

import dagster as dg
import duckdb
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from ingestion.config import inbox_dir, warehouse_path
from orchestration import parts, summary
from orchestration.resources import DUCKDB_POOL, WRITER_TAGS

log = logging.getLogger(__name__)

SETTLEMENT_TABLES = ("settlements", "settlement_lines", "settlement_rejections")
SETTLEMENT_IMPORT_OP = "amazon_settlement_import"


class SettlementImportConfig(dg.Config):
    """Where to look for settlements; the inbox sensor turns the Reports API off, and vice versa."""

    from_inbox: bool = True
    from_reports_api: bool = True


def settlement_import_run_config(from_inbox: bool, from_reports_api: bool) -> dict:
    config = {"from_inbox": from_inbox, "from_reports_api": from_reports_api}
    return {"ops": {SETTLEMENT_IMPORT_OP: {"config": config}}}


class LedgerBridgeDltTranslator(DagsterDltTranslator):
    """Key = [dataset, table]; group = the source; no stub upstream assets."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        dataset = data.pipeline.dataset_name if data.pipeline else f"raw_{data.resource.source_name}"
        table = data.resource.table_name if isinstance(data.resource.table_name, str) else data.resource.name
        deps = []
        if data.resource.is_transformer:  # a transformer's parent resource is its upstream asset
            pipe = data.resource._pipe  # noqa: SLF001 - dlt exposes no public parent accessor
            while pipe.has_parent:
                pipe = pipe.parent
            deps = [dg.AssetKey([dataset, pipe.name])]
        return spec.replace_attributes(
            key=dg.AssetKey([dataset, table]),
            deps=deps,
            group_name=dataset,
            kinds={"dlt", "duckdb"},
        )


TRANSLATOR = LedgerBridgeDltTranslator()


def _dlt_asset(source_name: str, source_fn, pipeline_fn) -> dg.AssetsDefinition | None:  # noqa: ANN001
    """The @dlt_assets of one source, or None (logged) while that source is not available yet."""
    try:
        source, pipeline = source_fn(), pipeline_fn()
    except parts.PartUnavailable as exc:
        log.warning("ingestion assets for %s skipped: %s", source_name, exc)
        return None

    @dlt_assets(
        dlt_source=source,
        dlt_pipeline=pipeline,
        name=f"{source_name}_dlt",
        dagster_dlt_translator=TRANSLATOR,
        pool=DUCKDB_POOL,
        op_tags=WRITER_TAGS,
    )
    def _assets(context: dg.AssetExecutionContext, dlt: DagsterDltResource) -> Iterator[dg.MaterializeResult]:
        # A fresh source and pipeline per run: the source's clock and the warehouse path are the run's.
        yield from dlt.run(
            context=context,
            dlt_source=source_fn(),
            dlt_pipeline=pipeline_fn(),
            dagster_dlt_translator=TRANSLATOR,
        )

    return _assets


def dlt_ingestion_assets() -> list[dg.AssetsDefinition]:
    candidates = [
        _dlt_asset("amazon", parts.amazon_source, parts.amazon_pipeline),
        _dlt_asset("netsuite", parts.netsuite_source, parts.netsuite_pipeline),
    ]
    return [a for a in candidates if a is not None]


def settlement_import_asset(produced_elsewhere: Sequence[dg.AssetKey]) -> dg.AssetsDefinition | None:
    """raw_amazon settlement tables loaded from the inbox folder and the Reports API."""
    keys = [dg.AssetKey(["raw_amazon", t]) for t in SETTLEMENT_TABLES]
    keys = [k for k in keys if k not in set(produced_elsewhere)]
    if not keys:
        return None
    specs = [
        dg.AssetSpec(
            key,
            group_name="raw_amazon",
            kinds={"python", "duckdb"},
            description="Settlement reports: files finance drops in the inbox, and reports listed by the "
            "SP-API Reports API. Rejected files become rows in settlement_rejections.",
        )
        for key in keys
    ]

    @dg.multi_asset(name=SETTLEMENT_IMPORT_OP, specs=specs, pool=DUCKDB_POOL, op_tags=WRITER_TAGS)
    def _settlements(
        context: dg.AssetExecutionContext, config: SettlementImportConfig
    ) -> Iterator[dg.MaterializeResult]:
        loaded = []
        sources = [("inbox files", parts.import_inbox, config.from_inbox)]
        sources.append(("Reports API", parts.load_settlements_from_api, config.from_reports_api))
        for label, load, wanted in sources:
            if not wanted:
                continue
            try:
                outcome = load(progress=context.log.info)
            except parts.PartUnavailable as exc:
                context.log.warning(f"settlements from {label} skipped: {exc}")
                continue
            described = outcome.summary() if hasattr(outcome, "summary") else repr(outcome)
            loaded.append(f"{label}: {described}"[:500])
        if not loaded:
            raise dg.Failure("no settlement importer is available (ingestion.amazon.settlements)")
        counts = {key: 0 for key in keys}
        if warehouse_path().exists():  # an empty inbox on a fresh warehouse loads nothing
            with duckdb.connect(str(warehouse_path()), read_only=True) as con:
                counts = {key: summary.row_count(con, *key.path) or 0 for key in keys}
        for key in keys:
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={
                    "dagster/row_count": counts[key],
                    "inbox": dg.MetadataValue.path(str(inbox_dir())),
                    "loaded": dg.MetadataValue.md("\n".join(f"- {line}" for line in loaded)),
                },
            )

    return _settlements
