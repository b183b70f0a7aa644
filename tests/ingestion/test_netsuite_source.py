"""The NetSuite dlt source against the NetSuite sandbox over real HTTP, into a real DuckDB file.

Shows: a full load matches the sandbox's SuiteQL tables; a rerun fetches only rows modified since
the last cursor (minus the lookback) and adds no duplicates; TBA and OAuth 2.0 both load; keyset
slices load a table larger than SuiteQL's 100,000-result cap; a bad token fails with a clear line.
"""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import duckdb
import pytest

from ingestion.netsuite import TABLES
from ingestion.netsuite.client import NetSuiteClient
from ingestion.netsuite.settings import NetSuiteSettings
from ingestion.pipelines import netsuite_pipeline, run_netsuite
from sandbox.generator import generate_seller
from sandbox.netsuite import NetSuiteSandbox, generate_oauth2_keypair

FAST = {"backoff_base": 0.01, "backoff_cap": 0.05}


@pytest.fixture(scope="module")
def seller():
    return generate_seller(7, scale="tiny")


def tba_client(url: str, **env: str) -> NetSuiteClient:
    return NetSuiteClient.from_env(env={"NETSUITE_URL": url, "NETSUITE_AUTH": "tba", **env}, **FAST)


def warehouse_counts(path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as db:
        return {t: db.execute(f'SELECT count(*) FROM raw_netsuite."{t}"').fetchone()[0] for t in TABLES}


def sandbox_counts(app: NetSuiteSandbox) -> dict[str, int]:
    return {t: app.query(f'SELECT count(*) AS n FROM "{t}"')[0]["n"] for t in TABLES}


def test_full_load_then_incremental_load_fetches_only_changes(netsuite, warehouse):
    app, server = netsuite
    client = tba_client(server.url)
    settings = NetSuiteSettings(lookback=timedelta(minutes=10))

    first = run_netsuite(client=client, settings=settings, pipeline=netsuite_pipeline())
    assert first.ok, first.errors
    expected = sandbox_counts(app)
    assert warehouse_counts(warehouse) == expected
    assert sum(first.rows.values()) == sum(expected.values())

    with duckdb.connect(str(warehouse), read_only=True) as db:
        row = db.execute(
            "SELECT foreigntotal, lastmodifieddate, trandate FROM raw_netsuite.transaction ORDER BY id LIMIT 1"
        ).fetchone()
        kinds = dict(
            db.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'raw_netsuite' AND table_name = 'transaction'"
            ).fetchall()
        )
    assert kinds["foreigntotal"] == "DECIMAL(18,2)"
    assert kinds["lastmodifieddate"] == "TIMESTAMP WITH TIME ZONE"
    assert kinds["trandate"] == "DATE"
    first_total = app.query("SELECT foreigntotal FROM transaction ORDER BY id LIMIT 1")[0]["foreigntotal"]
    assert row[0] == first_total

    # The second run re-reads rows modified since each table's cursor minus the lookback.
    def cursor_start(table: str):
        source, expr = TABLES[table].source or table, TABLES[table].expr("lastmodifieddate")
        cursor = app.query(f"SELECT max({expr}) AS m FROM {source}")[0]["m"]
        return None if cursor is None else cursor - settings.lookback

    def rows_since(table: str, since) -> int:
        source, expr = TABLES[table].source or table, TABLES[table].expr("lastmodifieddate")
        where = "" if since is None else f" WHERE {expr} >= TIMESTAMP '{since}'"
        return app.query(f"SELECT count(*) AS n FROM {source}{where}")[0]["n"]

    starts = {t: cursor_start(t) for t in TABLES}
    before = {t: rows_since(t, starts[t]) for t in TABLES}
    # Change one item and add one customer through the REST API, as reverse ETL or a user would.
    client.request("PATCH", "/record/v1/inventoryItem/1001", json={"displayName": "Renamed mug"})
    client.upsert(
        "customer", "amz-cust-US", {"companyName": "Amazon.com customers", "subsidiary": {"id": "1"}}
    )
    # A journal loses its second line (as an edit in NetSuite would do); its header is modified.
    journal = app.query("SELECT transaction AS t FROM transactionline WHERE id = 1 ORDER BY 1 LIMIT 1")[0][
        "t"
    ]
    app.tables.delete("transactionline", {"transaction": journal, "id": 1})
    app.tables.fetch(
        f"UPDATE transaction SET lastmodifieddate = now()::TIMESTAMP WHERE id = {journal} RETURNING id"
    )
    expected_refetch = {t: rows_since(t, starts[t]) for t in TABLES}
    assert expected_refetch["item"] == before["item"] + 1  # the renamed item joined the window
    assert expected_refetch["customer"] == 1

    second = run_netsuite(client=client, settings=settings, pipeline=netsuite_pipeline())
    assert second.ok, second.errors
    assert second.rows["item"] == expected_refetch["item"] and second.rows["customer"] == 1
    # Unchanged tables re-read only their lookback window, never the whole table.
    for table, count in second.rows.items():
        assert count == expected_refetch[table]

    counts = warehouse_counts(warehouse)
    assert counts == sandbox_counts(app)  # merged: customer added, removed line gone, no duplicates
    with duckdb.connect(str(warehouse), read_only=True) as db:
        assert (
            db.execute("SELECT displayname FROM raw_netsuite.item WHERE id = 1001").fetchone()[0]
            == "Renamed mug"
        )
        loads = db.execute("SELECT count(DISTINCT _dlt_load_id) FROM raw_netsuite.item").fetchone()[0]
        dupes = db.execute(
            "SELECT count(*) FROM (SELECT transaction, id FROM raw_netsuite.transactionline "
            "GROUP BY ALL HAVING count(*) > 1)"
        ).fetchone()[0]
    assert loads == 2 and dupes == 0


def test_oauth2_client_credentials_load(netsuite, warehouse, tmp_path):
    app, server = netsuite
    key_file, public_pem = generate_oauth2_keypair(tmp_path / "keys")
    app.register_oauth2_certificate("cert-for-tests", public_pem)
    client = NetSuiteClient.from_env(
        env={
            "NETSUITE_URL": server.url,
            "NETSUITE_AUTH": "oauth2",
            "NETSUITE_CERTIFICATE_ID": "cert-for-tests",
            "NETSUITE_PRIVATE_KEY_FILE": str(key_file),
        },
        **FAST,
    )
    report = run_netsuite(client=client, pipeline=netsuite_pipeline())
    assert report.ok, report.errors
    assert warehouse_counts(warehouse) == sandbox_counts(app)


def test_a_run_without_a_pipeline_loads_and_frees_the_warehouse(
    netsuite, warehouse, opens_in_another_process
):
    """`ledgerbridge ingest netsuite` passes no pipeline: the run opens the warehouse once, loads
    every table through that connection and closes it when it returns."""
    app, server = netsuite

    report = run_netsuite(client=tba_client(server.url))

    assert report.ok, report.errors
    assert opens_in_another_process(warehouse)
    assert warehouse_counts(warehouse) == sandbox_counts(app)


def test_small_keyset_slices_load_every_row_of_composite_keys(netsuite, warehouse):
    """Slices of 10 rows paged by 5: every table, including (transaction, id) and (item, location)."""
    app, server = netsuite
    report = run_netsuite(
        client=tba_client(server.url),
        settings=NetSuiteSettings(page_size=5, slice_rows=10),
        pipeline=netsuite_pipeline(),
    )
    assert report.ok, report.errors
    assert warehouse_counts(warehouse) == sandbox_counts(app)


def test_wrong_token_secret_fails_with_a_clear_line(netsuite, warehouse):
    _, server = netsuite
    report = run_netsuite(
        client=tba_client(server.url, NETSUITE_TOKEN_SECRET="not-the-secret"), pipeline=netsuite_pipeline()
    )
    assert not report.ok
    assert len(report.errors) == 1
    assert "INVALID_LOGIN" in report.errors[0] and "not-the-secret" not in report.errors[0]


@pytest.mark.slow
def test_more_than_100k_rows_load_completely_via_keyset(netsuite, warehouse):
    app, server = netsuite
    bulk = 100_500
    base = app.query("SELECT max(id) AS m FROM item")[0]["m"] + 1
    app.bulk_insert(
        "item",
        [
            {
                "id": base + n,
                "itemid": f"BULK-{n:06d}",
                "displayname": f"Bulk item {n}",
                "itemtype": "InvtPart",
                "externalid": f"item-BULK-{n:06d}",
                "isinactive": "F",
                "lastmodifieddate": "2026-11-01 00:00:00",
            }
            for n in range(bulk)
        ],
    )
    started = time.monotonic()
    report = run_netsuite(
        client=tba_client(server.url),
        settings=NetSuiteSettings(tables=("item",)),
        pipeline=netsuite_pipeline(),
    )
    elapsed = time.monotonic() - started
    assert report.ok, report.errors
    total = sandbox_counts(app)["item"]
    assert total > 100_000
    assert report.rows == {"item": total}
    with duckdb.connect(str(warehouse), read_only=True) as db:
        assert db.execute("SELECT count(DISTINCT id) FROM raw_netsuite.item").fetchone()[0] == total
        last = db.execute("SELECT itemid FROM raw_netsuite.item ORDER BY id DESC LIMIT 1").fetchone()[0]
    assert last == f"BULK-{bulk - 1:06d}"
    print(f"loaded {total} items in {elapsed:.1f}s")


def test_pricing_equals_the_seed_price_levels(netsuite, seller, warehouse):
    """raw_netsuite.pricing: one row per item, price level and currency, with the level's name."""
    _, server = netsuite
    settings = NetSuiteSettings(tables=("pricing",))
    expected = sorted(
        (
            int(p["item"]),
            int(p["pricelevel"]),
            p["pricelevelname"],
            int(p["currency"]),
            Decimal(p["unitprice"]),
        )
        for p in seller.netsuite["pricing"]
    )
    assert expected and {row[2] for row in expected} == {"Base Price"}
    for _run in (1, 2):
        report = run_netsuite(client=tba_client(server.url), settings=settings, pipeline=netsuite_pipeline())
        assert report.ok, report.errors
        with duckdb.connect(str(warehouse), read_only=True) as db:
            got = db.execute(
                "SELECT item, pricelevel, pricelevelname, currency, unitprice FROM raw_netsuite.pricing ORDER BY ALL"
            ).fetchall()
        assert got == expected  # the second run re-reads the lookback window and adds no duplicates
