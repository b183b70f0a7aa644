"""Reverse ETL push throughput against the NetSuite sandbox.

With a per-request latency L and an account concurrency limit C, no client can upsert faster
than C / L records per second. This pushes N customer upserts through the real engine (DuckDB
state, thread pool, retrying client) and reports records/s and the ratio to that ideal; the
target is at least 0.8, otherwise it prints MISSED.

    python -m benchmarks.push_throughput [--records 500] [--latency-ms 50] [--concurrency 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb

TARGET = 0.8


def build_warehouse(path: Path, records: int) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema reverse_etl")
        con.execute(
            """
            create table reverse_etl.sync_netsuite__customers as
            select 'amz-cust-bench-' || i as external_id,
                   'customer' as record_type,
                   json_object('companyName', 'Amazon buyer ' || i, 'subsidiary', json_object('id', '1')) as payload,
                   null::varchar as depends_on
            from range(?) t(i)
            """,
            [records],
        )
    finally:
        con.close()


SERVER = """
import sys
from sandbox.generator import generate_seller
from sandbox.http import RunningServer
from sandbox.netsuite import NetSuiteSandbox
app = NetSuiteSandbox(seller=generate_seller(1, "tiny"), concurrency_limit=int(sys.argv[1]))
app.faults.configure(latency_ms=float(sys.argv[2]))
server = RunningServer(app).start()
print(server.url, flush=True)
sys.stdin.read()  # serve until the benchmark closes our stdin
server.stop()
app.close()
"""


def run(records: int, latency_ms: float, concurrency: int) -> float:
    """Push `records` upserts; return the ratio of the measured rate to concurrency / latency.

    The sandbox runs in its own process, as NetSuite would: sharing the benchmark's interpreter
    (and its GIL) would measure the sandbox's Python, not the push.
    """
    import requests

    from ingestion.netsuite.client import NetSuiteClient
    from reverse_etl.sync import push

    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(concurrency), str(latency_ms)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        url = server.stdout.readline().strip()
        if not url:
            raise SystemExit("the NetSuite sandbox did not start")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "warehouse.duckdb"
            build_warehouse(path, records)
            client = NetSuiteClient.from_env({"NETSUITE_URL": url, "NETSUITE_CONCURRENCY": str(concurrency)})
            started = time.perf_counter()
            summary = push(path, netsuite=client, progress=lambda _: None)
            elapsed = time.perf_counter() - started
        # The same number of bare upserts from a thread pool: what transport + sandbox allow.
        bare = NetSuiteClient.from_env({"NETSUITE_URL": url, "NETSUITE_CONCURRENCY": str(concurrency)})
        body = {"companyName": "Amazon buyer", "subsidiary": {"id": "1"}}
        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(lambda i: bare.upsert("customer", f"amz-cust-bare-{i}", body), range(records)))
        bare_rate = records / (time.perf_counter() - started)
        # Close our keep-alive connections, so the sandbox's handler threads end before it exits.
        client.close()
        bare.close()
        created = requests.get(f"{url}/_sandbox/records/customer", timeout=10).json()["count"] - records
        statuses = [
            r["status"] for r in requests.get(f"{url}/_sandbox/requests", timeout=10).json()["requests"]
        ]
    finally:
        server.stdin.close()
        server.wait(10)
    if summary.counts["pushed"] != records or created != records:
        raise SystemExit(f"push incomplete: {summary.line()}; sandbox holds {created} customers")
    rate = records / elapsed
    ideal = concurrency / (latency_ms / 1000.0)
    ratio = rate / ideal
    print(
        f"push_throughput: {records} records in {elapsed:.2f} s = {rate:.1f} records/s "
        f"(latency {latency_ms:g} ms, concurrency {concurrency}, ideal {ideal:.1f}/s, "
        f"max in flight {client.stats.max_in_flight}, 429s {statuses.count(429)}); "
        f"ratio {ratio:.3f} (target >= {TARGET})" + ("" if ratio >= TARGET else " MISSED")
    )
    print(
        f"push_throughput: bare client upserts (no engine) {bare_rate:.1f} records/s = ratio "
        f"{bare_rate / ideal:.2f}; the engine reaches {rate / bare_rate:.0%} of that"
    )
    return ratio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=5)
    args = parser.parse_args(argv)
    ratio = run(args.records, args.latency_ms, args.concurrency)
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
