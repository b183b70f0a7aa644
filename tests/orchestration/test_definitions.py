"""The code location a data engineer opens: it loads, validates, and wires the whole pipeline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from orchestration.assets.publish import DBT_DOCS_KEY, PUBLISHED_KEY
from orchestration.definitions import defs
from orchestration.resources import DUCKDB_POOL

ROOT = Path(__file__).resolve().parents[2]
SETTLEMENTS = dg.AssetKey(["marts", "fct_settlements"])


def _ancestors(graph, key: dg.AssetKey) -> set[dg.AssetKey]:  # noqa: ANN001
    seen: set[dg.AssetKey] = set()
    todo = [key]
    while todo:
        for parent in graph.get(todo.pop()).parent_keys:
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


def test_graph_runs_from_raw_tables_through_dbt_to_publish_and_push() -> None:
    graph = defs.resolve_asset_graph()
    keys = graph.materializable_asset_keys
    assert {SETTLEMENTS, PUBLISHED_KEY, DBT_DOCS_KEY} <= keys
    # dlt assets carry the same keys as the dbt sources, so lineage is continuous.
    assert dg.AssetKey(["raw_amazon", "orders"]) in keys
    assert dg.AssetKey(["raw_amazon", "settlements"]) in keys
    assert dg.AssetKey(["raw_amazon", "settlements"]) in _ancestors(graph, SETTLEMENTS)
    upstream_of_publish = graph.get(PUBLISHED_KEY).parent_keys
    assert SETTLEMENTS in upstream_of_publish
    push_keys = [k for k in keys if graph.get(k).group_name == "reverse_etl_push"]
    for key in push_keys:  # every push depends on its sync model and on the published build
        parents = graph.get(key).parent_keys
        assert PUBLISHED_KEY in parents
        assert any(p.path[0] == "reverse_etl" and p.path[-1].startswith("sync_") for p in parents)
    # Every asset that opens the warehouse is in the DuckDB pool.
    for assets_def in defs.assets:
        for spec in assets_def.specs:
            if spec.key in keys and spec.key.path[0] in ("raw_amazon", "marts", "published"):
                assert assets_def.op.pool == DUCKDB_POOL, spec.key


def test_checks_block_publish_on_failure() -> None:
    graph = defs.resolve_asset_graph()
    checks = {key: graph.get_check_spec(key) for key in graph.asset_check_keys}
    gx = dg.AssetCheckKey(SETTLEMENTS, "great_expectations")
    assert checks[gx].blocking
    dbt_checks = [k for k in checks if k.name != "great_expectations"]
    assert dbt_checks, "dbt tests are surfaced as asset checks"
    assert any(checks[k].blocking for k in dbt_checks)
    # a model's one null test (all its required columns) blocks like the per-column tests did
    assert checks[dg.AssetCheckKey(SETTLEMENTS, "not_null_fct_settlements")].blocking


def test_reconciliation_tests_are_blocking_checks_on_the_marts() -> None:
    graph = defs.resolve_asset_graph()
    reconciliation = {
        key: graph.get_check_spec(key) for key in graph.asset_check_keys if key.name.startswith("assert_")
    }
    names = {key.name for key in reconciliation}
    assert {"assert_journal_entries_balance", "assert_settlement_rows_sum_to_total"} <= names
    assert all(spec.blocking and key.asset_key.path[0] == "marts" for key, spec in reconciliation.items())
    assert dg.AssetCheckKey(SETTLEMENTS, "assert_unbalanced_settlements_not_journaled") in reconciliation


def test_dbt_failures_that_no_check_reports_fail_the_step() -> None:
    from orchestration.assets.dbt import unreported_failures
    from orchestration.dbt_cli import NodeResult

    def node(uid: str, status: str) -> NodeResult:
        return NodeResult(uid, uid.split(".")[2], uid.split(".")[0], status, "", None)

    results = [
        node("model.ledgerbridge.fct_orders.x", "success"),
        node("model.ledgerbridge.fct_settlements.x", "error"),  # failed to build
        node("test.ledgerbridge.unique_fct_orders_order_id.1", "fail"),  # reported as a check
        node("test.ledgerbridge.assert_other.2", "fail"),  # no check reported it
        node("test.ledgerbridge.accepted_values_x.3", "warn"),  # a warning blocks nothing
    ]
    reported = [
        dg.AssetCheckResult(asset_key=SETTLEMENTS, check_name="unique_fct_orders_order_id", passed=False)
    ]
    assert [r.name for r in unreported_failures(results, reported)] == ["fct_settlements", "assert_other"]


def test_jobs_schedules_and_sensors_per_flow() -> None:
    assert {j.name for j in defs.jobs} >= {
        "full_pipeline_job",
        "orders_job",
        "inventory_job",
        "settlements_job",
    }
    crons = {s.name: s.cron_schedule for s in defs.schedules}
    assert crons == {
        "orders_schedule": "*/15 * * * *",
        "inventory_schedule": "0 * * * *",
        "settlements_schedule": "30 6 * * *",
    }
    sensors = {s.name: s for s in defs.sensors}
    assert set(sensors) == {"settlement_inbox_sensor", "settlement_report_sensor"}
    assert all(s.job_name == "settlements_job" for s in sensors.values())
    settlements_job = defs.resolve_job_def("settlements_job")
    selected = settlements_job.asset_layer.selected_asset_keys
    assert dg.AssetKey(["raw_amazon", "settlements"]) in selected and SETTLEMENTS in selected


def test_dagster_definitions_validate_passes() -> None:
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        [str(bin_dir / "dagster"), "definitions", "validate", "-m", "orchestration.definitions"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Validation successful" in done.stdout + done.stderr
