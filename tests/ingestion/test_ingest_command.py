"""`ledgerbridge ingest`: Amazon and NetSuite load at once, through one warehouse connection.

Shows: the command loads both sources completely, NetSuite while Amazon is still loading, and
frees the warehouse when it returns (without importing pandas, which nothing of it needs); an
unreachable source fails with its one line while the other still loads; the listings reports
are read while the orders load, and a run that ends early stops that reading at once.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time

import duckdb
import pytest

from ingestion.amazon.client import SpApi
from ingestion.amazon.listings import ListingsFetch, request_listings
from ingestion.amazon.settings import AmazonSettings, ReportPolling
from ingestion.netsuite import TABLES
from ingestion.pipelines import amazon_pipeline, ingest_command, run_amazon
from orchestration.cli import CommandError
from sandbox import credentials
from sandbox.amazon import AmazonSandbox
from sandbox.generator import generate_seller
from sandbox.http import RunningServer

MARKETPLACES = ("US", "DE")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def seller():
    return generate_seller(7, scale="tiny", marketplaces=list(MARKETPLACES))


@pytest.fixture
def amazon(seller):
    # The command runs on the real clock; the sandbox's is a little ahead (its two-minute rule).
    app = AmazonSandbox(seller=seller, clock=lambda: time.time() + 30)
    server = RunningServer(app).start()
    yield app, server
    server.stop()


def source_env(amazon_url: str, netsuite_url: str) -> dict[str, str]:
    return credentials.sandbox_env(amazon_url, netsuite_url, MARKETPLACES)


def counts(warehouse, schema: str, tables) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as db:
        return {t: db.execute(f'SELECT count(*) FROM {schema}."{t}"').fetchone()[0] for t in tables}


def unused_url() -> str:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


# The command as a user runs it, in a process of its own; then whether it imported pandas.
COMMAND = (
    "import sys; from orchestration.cli import main; code = main(['ingest']); "
    "print('pandas imported:', 'pandas' in sys.modules); sys.exit(code)"
)


def test_ingest_loads_both_sources_at_once_and_frees_the_warehouse(
    amazon, netsuite, warehouse, opens_in_another_process
):
    amazon_app, amazon_server = amazon
    netsuite_app, netsuite_server = netsuite
    env = {
        **os.environ,
        **source_env(amazon_server.url, netsuite_server.url),
        "RUNTIME__DLTHUB_TELEMETRY": "false",
    }

    done = subprocess.run(
        [sys.executable, "-c", COMMAND], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )

    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout.splitlines()
    assert f"amazon.orders: {len(amazon_app.orders)} rows" in out
    assert {line.split(".")[1].split(":")[0] for line in out if line.startswith("netsuite.")} == set(TABLES)
    assert counts(warehouse, "raw_amazon", ["orders"]) == {"orders": len(amazon_app.orders)}
    expected = {t: netsuite_app.query(f'SELECT count(*) AS n FROM "{t}"')[0]["n"] for t in TABLES}
    assert counts(warehouse, "raw_netsuite", TABLES) == expected
    # NetSuite did not wait for Amazon: its first request came before Amazon's last one.
    assert min(r["at"] for r in netsuite_app.requests) < max(r["at"] for r in amazon_app.requests)
    assert opens_in_another_process(warehouse)
    assert "pandas imported: False" in out


def test_an_unreachable_source_fails_with_its_line_and_the_other_still_loads(
    netsuite, warehouse, monkeypatch, capsys
):
    netsuite_app, netsuite_server = netsuite
    down = unused_url()
    for name, value in source_env(down, netsuite_server.url).items():
        monkeypatch.setenv(name, value)

    with pytest.raises(CommandError) as failure:
        ingest_command(argparse.Namespace(source=None), lambda message: None)

    assert str(failure.value) == (
        f"cannot reach SP-API at {down} — start `ledgerbridge sandbox serve` or set AMAZON_SP_API_URL"
    )
    out = capsys.readouterr().out.splitlines()
    assert any(line.startswith("netsuite.transaction: ") for line in out)
    assert not [line for line in out if line.startswith("amazon")]
    loaded = counts(warehouse, "raw_netsuite", TABLES)
    assert loaded == {t: netsuite_app.query(f'SELECT count(*) AS n FROM "{t}"')[0]["n"] for t in TABLES}


def test_listings_are_read_while_the_orders_load(amazon, warehouse):
    app, server = amazon
    settings = AmazonSettings(
        sp_api_url=server.url,
        lwa_url=server.url,
        marketplaces=MARKETPLACES,
        page_size=10,  # several orders pages
        report_polling=ReportPolling(first_delay=0.01, max_delay=0.05, timeout=5.0),
    )
    app.requests.clear()

    report = run_amazon(settings=settings, pipeline=amazon_pipeline())

    assert report.ok, report.errors
    searches = [r["at"] for r in app.requests if r["path"].startswith("/orders/")]
    polls = [
        r["at"] for r in app.requests if r["method"] == "GET" and "/reports/2021-06-30/reports/" in r["path"]
    ]
    assert len(searches) > 2 and polls
    assert min(polls) < max(searches)  # the reports were polled before the orders were all fetched
    assert counts(warehouse, "raw_amazon", ["listings_items"]) == {"listings_items": len(app.listings.rows)}


def test_a_run_that_ends_early_stops_reading_the_listings_at_once(amazon):
    app, server = amazon
    app._finish_report = lambda report: report.update(processingStatus="IN_PROGRESS")  # never DONE
    settings = AmazonSettings(
        sp_api_url=server.url,
        lwa_url=server.url,
        marketplaces=MARKETPLACES,
        report_polling=ReportPolling(first_delay=30.0, max_delay=60.0, timeout=600.0),
    )
    api = SpApi(settings)
    fetch = ListingsFetch(api, settings, request_listings(api, settings))
    time.sleep(0.3)  # polled once; now waiting 30 s for the next poll

    started = time.monotonic()
    fetch.stop()

    assert time.monotonic() - started < 2
    assert not [t for t in threading.enumerate() if t.name == "listings-fetch"]
    api.close()
