"""`ledgerbridge build`: `--full-refresh` reaches dbt, and the dbt docs are regenerated only when
what they show changed (the project's models or the warehouse's columns), not on every build."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from orchestration import dbt_cli
from orchestration.cli import build_parser


def test_full_refresh_flag_reaches_dbt_build() -> None:
    args = build_parser().parse_args(["build", "--full-refresh", "--mode", "order"])
    assert args.full_refresh and args.mode == "order"
    assert build_parser().parse_args(["build"]).full_refresh is False
    assert dbt_cli.build_args("order", full_refresh=True)[-1] == "--full-refresh"
    assert "--full-refresh" not in dbt_cli.build_args(None)


def _manifest(path: Path, sql: str, generated_at: str) -> None:
    node = {"raw_code": sql, "compiled_code": f"{sql} -- compiled at {generated_at}", "created_at": 1.5}
    path.write_text(
        json.dumps({"metadata": {"generated_at": generated_at}, "nodes": {"model.lb.fct_orders": node}})
    )


def test_docs_are_regenerated_only_when_models_or_columns_change(
    lb_paths: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest, docs = tmp_path / "manifest.json", lb_paths["reports"] / "dbt_docs"
    with duckdb.connect(str(lb_paths["warehouse"])) as con:
        con.execute("create table orders (order_id varchar)")
    _manifest(manifest, "select 1", "2026-01-01")
    first = dbt_cli.docs_fingerprint(manifest)
    assert first is not None
    # A new build rewrites the manifest's run metadata and compiled SQL: the docs would not change.
    _manifest(manifest, "select 1", "2026-01-02")
    assert dbt_cli.docs_fingerprint(manifest) == first
    # A changed model, or a new warehouse column, changes what the docs show.
    _manifest(manifest, "select 2", "2026-01-02")
    assert dbt_cli.docs_fingerprint(manifest) != first
    _manifest(manifest, "select 1", "2026-01-03")
    with duckdb.connect(str(lb_paths["warehouse"])) as con:
        con.execute("alter table orders add column status varchar")
    second = dbt_cli.docs_fingerprint(manifest)
    assert second not in (None, first)

    # docs_current: the page exists and was generated from the same fingerprint.
    monkeypatch.setattr(dbt_cli, "MANIFEST", manifest)
    assert not dbt_cli.docs_current(docs)
    docs.mkdir(parents=True)
    (docs / "index.html").write_text("<html></html>")
    (docs / dbt_cli.DOCS_FINGERPRINT).write_text(second)
    assert dbt_cli.docs_current(docs)
    _manifest(manifest, "select 3", "2026-01-04")
    assert not dbt_cli.docs_current(docs)
