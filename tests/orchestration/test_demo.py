"""The demo's closing summary states what queries on the marts return, and what did not run."""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.demo import RunReport, summary_lines


def _warehouse(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts; create schema reverse_etl")
        con.execute(
            "create table marts.fct_settlements as select 'S' || i as settlement_id, "
            "case when i < 30 then 'balanced' when i < 33 then 'variance' else 'blocked' end as status from range(35) t(i)"
        )
        con.execute(
            "create table marts.rpt_exceptions as select * from (values "
            "('unmapped_sku', 'SKU-1'), ('unmapped_sku', 'SKU-2'), ('unmapped_fee_type', 'Fee X')) t(exception_type, key)"
        )
        con.execute(
            "create table reverse_etl.sync_records as select * from (values "
            "('journalEntry', 'amz-je-1', 'pushed'), ('journalEntry', 'amz-je-2', 'pushed'), "
            "('salesOrder', 'amz-so-1', 'pushed'), ('itemFulfillment', 'amz-if-1', 'failed')) "
            "t(record_type, external_id, status)"
        )


def test_summary_numbers_match_queries_on_the_marts(lb_paths: dict[str, Path]) -> None:
    _warehouse(lb_paths["warehouse"])
    report = RunReport(
        success=True, materialized=["marts/fct_settlements", "published/finance_marts"], passed_checks=3
    )
    text = "\n".join(summary_lines(report, lb_paths["warehouse"]))
    with duckdb.connect(str(lb_paths["warehouse"]), read_only=True) as con:
        balanced = con.execute(
            "select count(*) from marts.fct_settlements where status = 'balanced'"
        ).fetchone()[0]
        other = con.execute(
            "select count(*) from marts.fct_settlements where status <> 'balanced'"
        ).fetchone()[0]
    assert f"balanced {balanced}, blocked or with a variance {other}" in text  # 30 and 5
    assert "settlements: balanced 30, blocked 2, variance 3" in text
    assert "exceptions by type: unmapped_fee_type 1, unmapped_sku 2" in text
    assert "records pushed per type: itemFulfillment 0, journalEntry 2, salesOrder 1" in text
    assert "records not pushed: itemFulfillment failed 1" in text
    assert f"published marts: {lb_paths['published']}\n" in text + "\n"
    assert str(lb_paths["reports"] / "data_docs" / "index.html") in text


def test_summary_is_honest_about_what_did_not_run(lb_paths: dict[str, Path]) -> None:
    report = RunReport(
        success=False,
        materialized=["raw_amazon/orders"],
        not_materialized=["marts/fct_settlements", "published/finance_marts"],
        failed_checks=["marts/fct_settlements:assert_settlements_balance"],
        errors=["ledgerbridge_dbt: dbt could not build 1 node(s)"],
    )
    text = "\n".join(summary_lines(report, lb_paths["warehouse"]))
    assert "did NOT fully succeed" in text
    assert "failed check: marts/fct_settlements:assert_settlements_balance" in text
    assert "step failed: ledgerbridge_dbt" in text
    assert "NOT published by this run" in text
    assert "was not created" in text  # no warehouse: no invented numbers
