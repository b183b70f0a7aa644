"""Reverse-ETL assets: one per `reverse_etl.sync_*` model, all pushed by the engine in one step.

They depend on their sync model and on the published marts: in a run, a failing blocking check
upstream skips them. Run on their own, they refuse unless the last build of their sync models was
audited and published (`audit.builds`), so a push never follows a failing build.
"""

from collections.abc import Iterator, Sequence

import dagster as dg
import duckdb

from ingestion.config import warehouse_path
from orchestration import parts, publish
from orchestration.assets.publish import PUBLISHED_KEY
from orchestration.resources import DUCKDB_POOL, WRITER_TAGS


def target_key(sync_key: dg.AssetKey) -> dg.AssetKey:
    """`reverse_etl/sync_netsuite__journal_entries` -> `netsuite/journal_entries`."""
    destination, _, entities = sync_key.path[-1].removeprefix("sync_").partition("__")
    return dg.AssetKey([destination, entities or destination])


def _gate(context: dg.AssetExecutionContext, sync_keys: Sequence[dg.AssetKey]) -> None:
    """Refuse to push when the sync models were rebuilt after the last passing audit."""
    audit = publish.last_audit()
    if audit is None or not audit.passed:
        raise dg.Failure("push blocked: the last build did not pass its blocking checks (nothing published)")
    for key in sync_keys:
        event = context.instance.get_latest_materialization_event(key)
        if event is not None and event.timestamp > audit.audited_at.timestamp():
            raise dg.Failure(
                f"push blocked: {key.to_user_string()} was rebuilt after the last published build; "
                "materialise published/finance_marts first (its blocking checks must pass)"
            )


def reverse_etl_assets(sync_keys: Sequence[dg.AssetKey]) -> dg.AssetsDefinition | None:
    if not sync_keys:
        return None
    specs = [
        dg.AssetSpec(
            target_key(key),
            deps=[key, PUBLISHED_KEY],
            group_name="reverse_etl_push",
            kinds={"python", target_key(key).path[0]},
            description=f"Records of {key.to_user_string()} upserted by external id (only changed payloads).",
        )
        for key in sync_keys
    ]
    by_model = {key.path[-1]: spec.key for key, spec in zip(sync_keys, specs, strict=True)}

    @dg.multi_asset(name="reverse_etl_push", specs=specs, pool=DUCKDB_POOL, op_tags=WRITER_TAGS)
    def _push(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult]:
        _gate(context, sync_keys)
        parts.push(dry_run=False, progress=context.log.info)
        with duckdb.connect(str(warehouse_path()), read_only=True) as con:
            rows = con.execute(
                "select source_model, record_type, status, count(*) from reverse_etl.sync_records "
                "group by all order by all"
            ).fetchall()
        for model, key in by_model.items():
            mine = [(t, s, n) for m, t, s, n in rows if m and m.split(".")[-1] == model]
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={
                    "records": dg.MetadataValue.md(
                        "| record type | status | records |\n|---|---|---|\n"
                        + "\n".join(f"| {t} | {s} | {n} |" for t, s, n in mine)
                    ),
                    "pushed": sum(n for _t, s, n in mine if s == "pushed"),
                    "failed": sum(n for _t, s, n in mine if s == "failed"),
                },
            )

    return _push
