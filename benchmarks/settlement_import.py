"""Settlement-import throughput versus DuckDB's own `read_csv` of the same file, in one process.

    python -m benchmarks.settlement_import [--rows 1000000] [--marketplace US] [--repeat 2]

Writes one V2 settlement of `--rows` amount rows with the sandbox generator, then times (best of
`--repeat`, each into a fresh warehouse):

* read_csv → arrow: DuckDB parses the file into memory as text (`all_varchar`: its type sniffing
  fails on US files, reading `11/13/26` as %y/%m/%d);
* read_csv → table: DuckDB parses the file into a table of a new DuckDB file (what an import
  into a warehouse costs DuckDB itself);
* import: `load_settlements` — sha256, validation, normalisation (decimal amounts, UTC dates,
  line numbers) and the dlt load of settlement_lines + settlements into the warehouse;
* parse only: `parse_settlement_file` (everything but the dlt load).

and prints rows/s for each (best round) and the import's ratio to both read_csv baselines, measured
within one round (target ≥ 0.5×).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import duckdb

TARGET = 0.5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.settlement_import", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="amount rows in the file (default 1,000,000)"
    )
    parser.add_argument(
        "--marketplace", default="US", help="formats of this marketplace (US, CA, UK, DE, AU)"
    )
    parser.add_argument("--repeat", type=int, default=2, help="runs per measurement; the best counts")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    from sandbox.generator.stream import write_large_settlement_v2

    with tempfile.TemporaryDirectory(prefix="ledgerbridge-bench-") as tmp:
        work = Path(tmp)
        path = work / "settlement.txt"
        started = time.perf_counter()
        write_large_settlement_v2(path, args.rows, seed=args.seed, marketplace=args.marketplace)
        size_mb = path.stat().st_size / 1e6
        print(
            f"file: {args.rows:,} rows, {size_mb:.0f} MB ({args.marketplace}), written in {time.perf_counter() - started:.1f} s"
        )
        os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
        source = str(path).replace("'", "''")

        from ingestion.amazon.settlements import load_settlements, parse_settlement_file

        def read_csv_arrow(attempt: int) -> None:
            con = duckdb.connect()
            con.sql(
                f"SELECT * FROM read_csv('{source}', delim='\t', header=true, all_varchar=true)"
            ).to_arrow_table()
            con.close()

        def read_csv_table(attempt: int) -> None:
            target = duckdb.connect(str(work / f"read_csv_{attempt}.duckdb"))
            target.execute(
                f"CREATE TABLE t AS SELECT * FROM read_csv('{source}', delim='\t', header=true, all_varchar=true)"
            )
            target.close()

        def import_file(attempt: int) -> None:
            os.environ["LEDGERBRIDGE_WAREHOUSE"] = str(work / f"import_{attempt}" / "warehouse.duckdb")
            result = load_settlements([(path.name, path)])
            assert [o.status for o in result.outcomes] == ["loaded"], result.outcomes

        measures = {
            "read_csv → arrow (in memory)": read_csv_arrow,
            "read_csv → table (DuckDB file)": read_csv_table,
            "parse_settlement_file": lambda _: parse_settlement_file(path),
            "import (parse + dlt load)": import_file,
        }
        # Rounds interleave the measures, so a busy machine slows baseline and import alike; each
        # round gives its own ratios, and the best round counts.
        rounds = []
        for attempt in range(args.repeat):
            timings = {}
            for label, run in measures.items():
                started = time.perf_counter()
                run(attempt)
                timings[label] = time.perf_counter() - started
            rounds.append(timings)

    rows = args.rows
    for label in measures:
        best = min(r[label] for r in rounds)
        print(f"{label:34s} {best:7.2f} s  {rows / best:>12,.0f} rows/s")
    for baseline in ("read_csv → arrow (in memory)", "read_csv → table (DuckDB file)"):
        ratio = max(r[baseline] / r["import (parse + dlt load)"] for r in rounds)
        verdict = "meets" if ratio >= TARGET else "below"
        print(f"import / {baseline}: {ratio:.2f}×  ({verdict} the {TARGET}× target)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
