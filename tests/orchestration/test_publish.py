"""Write-audit-publish: finance reads a copy that changes all at once, and only after a passing audit."""

from __future__ import annotations

import argparse
import os
import stat
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration import build, publish
from orchestration.cli import CommandError


def _write_marts(warehouse: Path, statuses: list[str]) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists marts")
        con.execute("create schema if not exists reverse_etl")
        con.execute(
            "create or replace table marts.fct_settlements (settlement_id varchar, currency varchar, "
            "reported_total decimal(18,2), computed_total decimal(18,2), variance decimal(18,2), status varchar)"
        )
        for i, status in enumerate(statuses):
            con.execute(
                "insert into marts.fct_settlements values (?, 'USD', 100.10, 100.10, 0.00, ?)",
                [f"S{i}", status],
            )
        con.execute("create or replace table marts.rpt_exceptions (exception_type varchar, detail varchar)")
        con.execute(
            "insert into marts.rpt_exceptions values ('unmapped_sku', 'SKU-9'), ('unmapped_sku', 'SKU-8')"
        )
        con.execute(
            "create or replace table reverse_etl.sync_records (record_type varchar, external_id varchar, "
            "status varchar, pushed_at timestamptz, updated_at timestamptz)"
        )
        con.execute(
            "insert into reverse_etl.sync_records values ('journalEntry', 'amz-je-S0', 'pushed', now(), now())"
        )


def test_publish_copies_marts_read_only_and_swaps_atomically(lb_paths: dict[str, Path]) -> None:
    _write_marts(lb_paths["warehouse"], ["balanced", "blocked"])
    first = publish.publish()
    assert first.path == lb_paths["published"]
    assert first.tables["marts.fct_settlements"] == 2
    assert not os.stat(first.path).st_mode & stat.S_IWUSR  # the finance copy is read-only

    # A reader holding the old copy keeps a consistent snapshot while a new build is published.
    reader = duckdb.connect(str(first.path), read_only=True)
    _write_marts(lb_paths["warehouse"], ["balanced", "balanced", "balanced"])
    second = publish.publish()
    assert reader.execute("select count(*) from marts.fct_settlements").fetchone()[0] == 2
    reader.close()
    with duckdb.connect(str(second.path), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_settlements").fetchone()[0] == 3
        total = con.execute("select sum(reported_total) from marts.fct_settlements").fetchone()[0]
        assert total == Decimal("300.30")  # money stays DECIMAL in the copy
        assert con.execute("select count(*) from reverse_etl.sync_records").fetchone()[0] == 1
    # No temporary file is left behind next to the published copy.
    assert sorted(p.name for p in lb_paths["published"].parent.iterdir() if "published" in p.name) == [
        "published.duckdb"
    ]
    assert publish.last_publish().build_id == second.build_id


def test_publish_refuses_a_warehouse_without_marts(lb_paths: dict[str, Path]) -> None:
    duckdb.connect(str(lb_paths["warehouse"])).close()
    with pytest.raises(publish.PublishError, match="no marts"):
        publish.publish()
    assert not lb_paths["published"].exists()


def test_failing_build_does_not_publish_and_status_says_so(
    lb_paths: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A good build was published earlier.
    _write_marts(lb_paths["warehouse"], ["balanced"])
    before = publish.publish()
    publish.record_audit(passed=True, failures=[], published=True, build_id=before.build_id)

    # Now dbt reports a failing reconciliation test: the build must stop before publishing.
    _write_marts(lb_paths["warehouse"], ["balanced", "variance"])
    target = lb_paths["warehouse"].parent / "dbt_target"
    target.mkdir()
    (target / "run_results.json").write_text(
        '{"results": [{"unique_id": "test.ledgerbridge.assert_settlements_balance.abc", "status": "fail",'
        ' "message": "Got 1 result", "failures": 1},'
        ' {"unique_id": "model.ledgerbridge.fct_settlements", "status": "success", "message": "OK"}]}'
    )
    monkeypatch.setattr(build.dbt_cli, "ensure_manifest", lambda: None)
    monkeypatch.setattr(build.dbt_cli, "run_dbt", lambda args: _Done(1))
    read_results = build.dbt_cli.read_run_results
    monkeypatch.setattr(build.dbt_cli, "read_run_results", lambda: read_results(target))
    monkeypatch.setattr(build.quality, "validate_tables", lambda: [])
    with pytest.raises(CommandError, match="assert_settlements_balance") as failure:
        build.build_command(argparse.Namespace(mode="summary"), lambda _m: None)
    assert "\n" not in str(failure.value)
    assert publish.last_publish().build_id == before.build_id  # finance still sees the good build
    audit = publish.last_audit()
    assert audit is not None and not audit.passed and not audit.published

    assert build.status_command(argparse.Namespace(), lambda _m: None) == 0
    out = capsys.readouterr().out
    assert "FAILED" in out and "assert_settlements_balance" in out
    assert "settlements: balanced 1" in out  # read from the published (old) copy
    assert "open exceptions: unmapped_sku 2" in out
    assert "journalEntry: pushed 1" in out


class _Done:
    def __init__(self, returncode: int) -> None:
        self.returncode, self.stdout, self.stderr = returncode, "", ""


def test_dbt_build_args_pass_the_accounting_mode() -> None:
    assert build.dbt_cli.build_args(None) == ["build"]
    args = build.dbt_cli.build_args("order")
    assert args[:2] == ["build", "--vars"] and '"accounting_mode": "order"' in args[2]
