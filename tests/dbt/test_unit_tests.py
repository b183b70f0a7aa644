"""The dbt unit tests (`unit_tests:` in the model YAML) run here, in CI, and not in production.

They test the models' SQL on fixed rows (classification, routing, refund links, month-end split,
the negative-settlement deposit), not the seller's data, so `ledgerbridge build` and the Dagster
dbt assets leave them out (orchestration.dbt_cli.build_args) and this test runs every one of them.
"""

from __future__ import annotations

import shutil

import yaml
from conftest import PROJECT_DIR, run_dbt

from orchestration import dbt_cli


def _declared_unit_tests() -> set[str]:
    names: set[str] = set()
    for path in (PROJECT_DIR / "models").rglob("*.yml"):
        for unit_test in (yaml.safe_load(path.read_text()) or {}).get("unit_tests", []):
            names.add(unit_test["name"])
    return names


def test_every_unit_test_passes(built_warehouse, tmp_path):
    declared = _declared_unit_tests()
    assert len(declared) >= 4
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_warehouse("summary").path, warehouse)

    run = run_dbt(["test", "--resource-type", "unit_test"], warehouse, tmp_path / "dbt")

    statuses = {
        r["unique_id"].split(".")[-1]: r["status"]
        for r in run.results
        if r["unique_id"].startswith("unit_test.")
    }
    assert set(statuses) == declared, run.output[-3000:]
    failed = {name: status for name, status in statuses.items() if status != "pass"}
    assert not failed, f"unit tests failed: {failed}\n{run.output[-3000:]}"
    assert run.returncode == 0, run.output[-3000:]


def test_production_builds_leave_the_unit_tests_out():
    for args in (dbt_cli.build_args(None), dbt_cli.build_args("order", full_refresh=True)):
        assert args[0] == "build"
        at = args.index("--exclude-resource-type")
        assert args[at + 1] == "unit_test"
