"""Views are re-created only when their SQL changed (macros/view_materialization.sql).

A build that would write the same view again keeps it (the same catalog object, reported
"unchanged"); a changed model, or `--full-refresh`, re-creates it with the new definition.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
from conftest import PROJECT_DIR, run_dbt

VIEW = "stg_amazon__settlement_rejections"


def _columns(warehouse: Path) -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [c[0] for c in con.execute(f"describe staging.{VIEW}").fetchall()]


def _created(run, work: Path) -> bool:
    """Whether the run created the view (dbt's log of the SQL it sent), after checking it passed."""
    [result] = [r for r in run.results if r["unique_id"].endswith(f".{VIEW}")]
    assert result["status"] == "success", run.output[-3000:]
    created = (
        f'create view "warehouse"."staging"."{VIEW}__dbt_tmp"' in (work / "logs" / "dbt.log").read_text()
    )
    assert (result["message"] == "unchanged") != created, result["message"]
    return created


def test_unchanged_views_are_kept_and_changed_ones_recreated(built_warehouse, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_warehouse("summary").path, warehouse)
    before = _columns(warehouse)

    again = run_dbt(["run", "--select", VIEW], warehouse, tmp_path / "again")
    assert not _created(again, tmp_path / "again")
    assert _columns(warehouse) == before

    # an upgrade changes the model: the next build creates the new definition
    project = tmp_path / "project"
    shutil.copytree(PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    model = project / "models" / "staging" / "amazon" / f"{VIEW}.sql"
    model.write_text(model.read_text().replace("rejected_at\n", "rejected_at,\n        1 as probe\n", 1))
    changed = run_dbt(["run", "--select", VIEW], warehouse, tmp_path / "changed", project)
    assert _created(changed, tmp_path / "changed")
    assert _columns(warehouse) == [*before, "probe"]
    kept = run_dbt(["run", "--select", VIEW], warehouse, tmp_path / "kept", project)
    assert not _created(kept, tmp_path / "kept")

    # --full-refresh re-creates every view
    refreshed = run_dbt(["run", "--select", VIEW, "--full-refresh"], warehouse, tmp_path / "refresh", project)
    assert _created(refreshed, tmp_path / "refresh")
    assert _columns(warehouse) == [*before, "probe"]
