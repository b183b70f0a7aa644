"""Reverse ETL against the NetSuite sandbox over HTTP, with a real DuckDB warehouse.

What a finance user relies on: exactly the desired records end up in NetSuite with the payload's
amounts, nothing is sent twice, a killed or throttled push finishes cleanly on the next run, a
dry run sends nothing, and a settlement that does not reconcile is never journaled.
"""

from __future__ import annotations

import gc
import os
import random
import signal
import subprocess
import sys
import time
import traceback
from collections import Counter
from decimal import Decimal
from pathlib import Path

import duckdb
import requests
from sync_support import (
    BALANCED,
    VARIANCE,
    client_for,
    desired_rows,
    order_id,
    sync_records,
    write_models,
)

from reverse_etl.sync import fingerprint, push

ROOT = Path(__file__).resolve().parents[2]
RECORD_TYPES = ("customer", "salesOrder", "itemFulfillment", "journalEntry", "inventoryAdjustment")


def log(server) -> list[dict]:
    return requests.get(server.url + "/_sandbox/requests", timeout=5).json()["requests"]


def clear_log(server) -> None:
    requests.delete(server.url + "/_sandbox/requests", timeout=5)


def writes(entries: list[dict]) -> list[dict]:
    return [e for e in entries if e["method"] in {"POST", "PUT", "PATCH"} and "/record/" in e["path"]]


def records(server, record_type: str) -> list[dict]:
    return requests.get(f"{server.url}/_sandbox/records/{record_type}", timeout=5).json()["items"]


def expected_ids(models: dict[str, list[dict]], blocked=(f"amz-je-{VARIANCE}",)) -> dict[str, list[str]]:
    wanted: dict[str, list[str]] = {t: [] for t in RECORD_TYPES}
    for rows in models.values():
        for row in rows:
            if row["external_id"] not in blocked:
                wanted[row["record_type"]].append(row["external_id"])
    return wanted


def assert_exactly_desired(server, models) -> dict[str, dict[str, dict]]:
    """Every desired record exists once (no duplicates, nothing extra); returns type -> eid -> record."""
    found = {}
    for record_type, eids in expected_ids(models).items():
        items = records(server, record_type)
        counts = Counter(item.get("externalId") for item in items)
        assert counts == Counter(eids), f"{record_type}: {counts} != {sorted(eids)}"
        found[record_type] = {item["externalId"]: item for item in items}
    return found


def test_push_creates_exactly_the_desired_records_with_their_amounts(netsuite, warehouse, seller):
    models = desired_rows(seller)
    summary = push(warehouse, netsuite=client_for(netsuite), progress=lambda _: None)

    found = assert_exactly_desired(netsuite, models)
    for row in models["sync_netsuite__sales_orders"]:
        lines = found["salesOrder"][row["external_id"]]["item"]["items"]
        assert [Decimal(x["rate"]) for x in lines] == [x["rate"] for x in row["payload"]["item"]["items"]]
        assert [x["quantity"] for x in lines] == [x["quantity"] for x in row["payload"]["item"]["items"]]
        fulfillment = found["itemFulfillment"][row["external_id"].replace("amz-so-", "amz-if-")]
        assert fulfillment["createdFrom"]["id"] == found["salesOrder"][row["external_id"]]["id"]
        assert sum(x["quantity"] for x in fulfillment["item"]["items"]) == sum(x["quantity"] for x in lines)
    journal = found["journalEntry"][f"amz-je-{BALANCED}"]["line"]["items"]
    sent = models["sync_netsuite__journal_entries"][0]["payload"]["line"]["items"]
    assert [(Decimal(x.get("debit") or 0), Decimal(x.get("credit") or 0)) for x in journal] == [
        (x.get("debit", Decimal(0)), x.get("credit", Decimal(0))) for x in sent
    ]
    adjustment = found["inventoryAdjustment"]["amz-ia-US-2026-07-31"]["inventory"]["items"]
    assert [x["adjustQtyBy"] for x in adjustment] == [-2, 3]

    state = sync_records(warehouse)
    for record_type, eids in expected_ids(models).items():
        for eid in eids:
            row = state[(record_type, eid)]
            assert row["status"] == "pushed" and row["target_id"] == found[record_type][eid]["id"]
            assert row["pushed_at"] is not None and row["last_error"] is None
    blocked = state[("journalEntry", f"amz-je-{VARIANCE}")]
    assert blocked["status"] == "blocked" and "variance" in blocked["last_error"]
    assert not [e for e in log(netsuite) if VARIANCE in e["path"]], (
        "the unbalanced settlement reached NetSuite"
    )
    assert summary.counts["pushed"] == sum(len(v) for v in expected_ids(models).values())
    assert summary.counts["blocked"] == 1
    assert netsuite.app.counters()["concurrency_rejections"] == 0  # the pool never outran the cap


def test_second_push_writes_nothing_and_a_change_writes_once(netsuite, warehouse, seller):
    client = client_for(netsuite)
    push(warehouse, netsuite=client, progress=lambda _: None)
    clear_log(netsuite)
    summary = push(warehouse, netsuite=client, progress=lambda _: None)
    assert writes(log(netsuite)) == []
    assert summary.counts["pushed"] == 0 and summary.counts["unchanged"] == 15

    models = desired_rows(seller)
    changed = models["sync_netsuite__sales_orders"][2]
    changed["payload"]["item"]["items"][0]["rate"] = Decimal("99.95")
    write_models(warehouse, models)
    clear_log(netsuite)
    push(warehouse, netsuite=client, progress=lambda _: None)
    sent = writes(log(netsuite))
    assert [(e["method"], e["path"].rsplit("/", 1)[-1]) for e in sent] == [
        ("PUT", f"eid:{changed['external_id']}")
    ]
    order = next(r for r in records(netsuite, "salesOrder") if r["externalId"] == changed["external_id"])
    assert Decimal(order["item"]["items"][0]["rate"]) == Decimal("99.95")
    assert sync_records(warehouse)[("salesOrder", changed["external_id"])]["fingerprint"] == fingerprint(
        changed["payload"]
    )


def test_push_converges_under_injected_faults(netsuite, warehouse, seller):
    netsuite.app.faults.configure(rate_429=0.05, rate_5xx=0.05, rate_reset=0.05, seed=9)
    push(warehouse, netsuite=client_for(netsuite), progress=lambda _: None)
    netsuite.app.faults.configure(rate_429=0, rate_5xx=0, rate_reset=0)
    faults = {e["fault"] for e in log(netsuite) if e["fault"]}
    assert faults == {"429", "5xx", "reset"}, faults
    assert_exactly_desired(netsuite, desired_rows(seller))
    statuses = Counter(r["status"] for r in sync_records(warehouse).values())
    assert statuses == {"pushed": 15, "blocked": 1}


def _start_push(path: Path, server, real_subprocess: bool):
    """Start a push of `path` against `server` in another process; return a kill function."""
    env = {"NETSUITE_URL": server.url, "NETSUITE_CONCURRENCY": "3"}
    if real_subprocess:
        child = subprocess.Popen(
            [sys.executable, "-c", f"from reverse_etl.sync import push; push({str(path)!r}, progress=print)"],
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def kill() -> None:
            child.send_signal(signal.SIGKILL)
            child.wait(10)

        return kill, lambda: child.poll() is not None
    # A fork skips the interpreter start and imports (seconds on a busy machine); same process model.
    # Freezing the heap first keeps the child's GC away from the parent's DuckDB objects.
    gc.collect()
    gc.freeze()
    pid = os.fork()
    if pid:
        gc.unfreeze()
    else:  # pragma: no cover - the child
        gc.disable()
        code = 1
        try:
            os.environ.update(env)
            push(path, progress=lambda _: None)
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    done = []

    def finished() -> bool:
        if not done and os.waitpid(pid, os.WNOHANG) != (0, 0):
            done.append(True)
        return bool(done)

    def kill_fork() -> None:
        if not finished():
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)

    return kill_fork, finished


def test_push_killed_at_random_points_converges_without_duplicates(tmp_path, seller):
    """SIGKILL a push process mid-flight, rerun, and still hold exactly one record per desired one."""
    from sandbox.http import RunningServer
    from sandbox.netsuite import NetSuiteSandbox

    rng = random.Random(5)
    seen: list[int] = []  # records NetSuite held when each push was killed
    models = desired_rows(seller, orders=10)
    wanted = sum(len(v) for v in expected_ids(models).values())
    for trial in range(5):
        server = RunningServer(NetSuiteSandbox(seller=seller, concurrency_limit=5)).start()
        try:
            server.app.faults.configure(latency_ms=30)
            path = tmp_path / f"trial{trial}.duckdb"
            write_models(path, models)
            kill, finished = _start_push(path, server, real_subprocess=trial == 0)
            deadline = time.monotonic() + 30
            while not server.app.requests and not finished() and time.monotonic() < deadline:
                time.sleep(0.005)  # kill only once it is talking to NetSuite ...
            time.sleep(rng.uniform(0.05, 0.4))  # ... at a random moment
            kill()
            sent_before = sum(len(records(server, t)) for t in RECORD_TYPES)
            seen.append(sent_before)
            server.app.faults.configure(latency_ms=0)
            push(path, netsuite=client_for(server), progress=lambda _: None)
            assert_exactly_desired(server, models)
            assert {r["status"] for r in sync_records(path).values()} == {"pushed", "blocked"}
        finally:
            server.stop()
    interrupted = [n for n in seen if 0 < n < wanted]
    assert len(interrupted) >= 2, f"kills did not land mid-push ({seen} of {wanted}); the test proved nothing"


def test_dry_run_sends_nothing_and_fills_previews(netsuite, warehouse, seller):
    push(warehouse, dry_run=True, netsuite=client_for(netsuite), progress=lambda _: None)
    assert log(netsuite) == []
    con = duckdb.connect(str(warehouse))
    try:
        previews = con.execute(
            "select record_type, external_id, method, path, body from reverse_etl.sync_previews"
        ).fetchall()
        assert con.execute("select count(*) from reverse_etl.sync_records").fetchone()[0] == 0
    finally:
        con.close()
    by_id = {p[1]: p for p in previews}
    assert len(previews) == 15 and f"amz-je-{VARIANCE}" not in by_id
    so = desired_rows(seller)["sync_netsuite__sales_orders"][0]
    _, _, method, path, body = by_id[so["external_id"]]
    assert (method, path) == ("PUT", f"/services/rest/record/v1/salesOrder/eid:{so['external_id']}")
    assert fingerprint(
        __import__("ingestion.netsuite.client", fromlist=["x"]).loads_json(body)
    ) == fingerprint(so["payload"])
    method, path = by_id[f"amz-if-{order_id(1)}"][2:4]
    assert method == "POST" and path.endswith(
        f"/salesOrder/eid:amz-so-{order_id(1)}/!transform/itemFulfillment"
    )
    # a second dry run replaces, not appends
    push(warehouse, dry_run=True, netsuite=client_for(netsuite), progress=lambda _: None)
    con = duckdb.connect(str(warehouse))
    try:
        assert con.execute("select count(*) from reverse_etl.sync_previews").fetchone()[0] == 15
    finally:
        con.close()


def test_journal_entries_wait_for_a_balanced_settlement(netsuite, tmp_path, seller):
    path = tmp_path / "w.duckdb"
    models = {"sync_netsuite__journal_entries": desired_rows(seller)["sync_netsuite__journal_entries"]}
    write_models(path, models, settlements={BALANCED: "blocked", VARIANCE: "variance"})
    push(path, netsuite=client_for(netsuite), progress=lambda _: None)
    assert writes(log(netsuite)) == []
    assert {r["status"] for r in sync_records(path).values()} == {"blocked"}
    write_models(path, models, settlements={BALANCED: "balanced", VARIANCE: "variance"})  # finance fixed it
    push(path, netsuite=client_for(netsuite), progress=lambda _: None)
    assert [r["externalId"] for r in records(netsuite, "journalEntry")] == [f"amz-je-{BALANCED}"]


def test_fulfillment_waits_for_its_sales_order(netsuite, tmp_path, seller):
    path = tmp_path / "w.duckdb"
    rows = desired_rows(seller, orders=1)
    only_if = {"sync_netsuite__item_fulfillments": rows["sync_netsuite__item_fulfillments"]}
    write_models(path, only_if)
    push(path, netsuite=client_for(netsuite), progress=lambda _: None)
    state = sync_records(path)[("itemFulfillment", f"amz-if-{order_id(1)}")]
    assert state["status"] == "pending" and f"amz-so-{order_id(1)}" in state["last_error"]
    assert writes(log(netsuite)) == [] and records(netsuite, "itemFulfillment") == []
    write_models(path, rows)
    push(path, netsuite=client_for(netsuite), progress=lambda _: None)
    assert_exactly_desired(netsuite, rows)


def test_refused_and_malformed_records_fail_with_the_reason(netsuite, tmp_path, seller):
    path = tmp_path / "w.duckdb"
    models = {
        "sync_netsuite__customers": [
            {
                "external_id": "amz-cust-CA",
                "record_type": "customer",
                "payload": {"subsidiary": {"id": "2"}},
                "depends_on": None,
            },
            {
                "external_id": "amz-cust-UK",
                "record_type": "customer",
                "payload": "{not json",
                "depends_on": None,
            },
            {"external_id": "amz-cust-a/b", "record_type": "customer", "payload": "{}", "depends_on": None},
        ]
    }
    write_models(path, models)
    summary = push(path, netsuite=client_for(netsuite), progress=lambda _: None)
    state = sync_records(path)
    assert state[("customer", "amz-cust-CA")]["status"] == "failed"
    assert "FIELD_PARAM_REQD" in state[("customer", "amz-cust-CA")]["last_error"]
    assert state[("customer", "amz-cust-UK")]["status"] == "failed"
    assert "sync_netsuite__customers row 2" in state[("customer", "amz-cust-UK")]["last_error"]
    assert "NetSuite does not accept" in state[("customer", "amz-cust-a/b")]["last_error"]
    assert summary.counts["failed"] == 3
    assert [e["path"].rsplit("/", 1)[-1] for e in writes(log(netsuite))] == ["eid:amz-cust-CA"]


def test_push_command_reports_and_dry_run_flag_is_honoured(netsuite, warehouse, monkeypatch, tmp_path):
    import argparse

    import pytest

    from orchestration.cli import CommandError
    from reverse_etl.sync import push_command

    monkeypatch.setenv("NETSUITE_URL", netsuite.url)
    monkeypatch.setenv("LEDGERBRIDGE_WAREHOUSE", str(warehouse))
    lines: list[str] = []
    assert push_command(argparse.Namespace(dry_run=True), lines.append) == 0
    assert log(netsuite) == [] and "15 previewed" in lines[-1]
    assert push_command(argparse.Namespace(dry_run=False), lines.append) == 0
    assert "15 pushed" in lines[-1] and "1 blocked" in lines[-1]
    monkeypatch.setenv("LEDGERBRIDGE_WAREHOUSE", str(tmp_path / "missing.duckdb"))
    with pytest.raises(CommandError, match="does not exist"):
        push_command(argparse.Namespace(dry_run=False), lines.append)


def test_push_upgrades_a_minimal_sync_records_table_created_by_dbt(netsuite, warehouse, seller):
    con = duckdb.connect(str(warehouse))
    try:  # what dbt's create_raw_contract macro makes on a fresh warehouse
        con.execute(
            "create table reverse_etl.sync_records (record_type varchar, external_id varchar, fingerprint varchar, "
            "target_id varchar, status varchar, attempts integer, last_error varchar, pushed_at timestamptz)"
        )
    finally:
        con.close()
    client = client_for(netsuite)
    push(warehouse, netsuite=client, progress=lambda _: None)
    push(warehouse, netsuite=client, progress=lambda _: None)
    assert_exactly_desired(netsuite, desired_rows(seller))
    state = sync_records(warehouse)
    assert (
        len(state) == 16 and state[("customer", "amz-cust-US")]["source_model"] == "sync_netsuite__customers"
    )
