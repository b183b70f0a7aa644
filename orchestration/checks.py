"""Great Expectations asset checks: the suites of `orchestration.quality`, run on the real tables.

One multi-asset check for the raw tables (warnings: a bad raw row already surfaces downstream as an
exception) and one for the marts (blocking: a failure stops publish and push). Each run rebuilds
the Data Docs under `<reports>/data_docs/`, where auditors see the same failures.
"""

from collections.abc import Iterable, Iterator

import dagster as dg

from orchestration import quality
from orchestration.resources import DUCKDB_POOL, WRITER_TAGS

CHECK_NAME = "great_expectations"


def _key(table: str) -> dg.AssetKey:
    return dg.AssetKey(table.split("."))


def _result(result: quality.TableResult, blocking: bool) -> dg.AssetCheckResult:
    metadata: dict[str, object] = {
        "rows validated": result.rows,
        "expectations": result.evaluated,
        "data docs": dg.MetadataValue.path(str(quality.data_docs_dir() / "index.html")),
    }
    if result.failed_expectations:
        metadata["failed expectations"] = dg.MetadataValue.md(
            "\n".join(
                f"- `{name}` e.g. {result.unexpected_examples.get(name, [])}"
                for name in result.failed_expectations
            )
        )
    if result.error:
        metadata["error"] = result.error
    return dg.AssetCheckResult(
        asset_key=_key(result.table),
        check_name=CHECK_NAME,
        passed=result.success,
        severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
        description=result.summary(),
        metadata=metadata,
    )


def _multi_check(name: str, suites: list[quality.Suite], blocking: bool) -> dg.AssetChecksDefinition:
    specs = [
        dg.AssetCheckSpec(CHECK_NAME, asset=_key(s.table), blocking=blocking, description=s.description)
        for s in suites
    ]

    @dg.multi_asset_check(specs=specs, name=name, can_subset=True, pool=DUCKDB_POOL, op_tags=WRITER_TAGS)
    def _check(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
        selected = {key.asset_key for key in context.selected_asset_check_keys}
        tables = [s.table for s in suites if _key(s.table) in selected]
        for result in quality.validate_tables(tables):
            yield _result(result, blocking)

    return _check


def gx_checks(asset_keys: Iterable[dg.AssetKey]) -> list[dg.AssetChecksDefinition]:
    """Checks for the suites whose table is an asset of this code location."""
    known = set(asset_keys)
    raw = [s for s in quality.SUITES if not s.blocking and _key(s.table) in known]
    marts = [s for s in quality.SUITES if s.blocking and _key(s.table) in known]
    checks = []
    if raw:
        checks.append(_multi_check("gx_raw_tables", raw, blocking=False))
    if marts:
        checks.append(_multi_check("gx_marts", marts, blocking=True))
    return checks
