"""Amazon settlement flat files: parse, validate, load atomically — from files and from the SP-API.

Finance downloads settlement reports from Seller Central (the API lists only 90 days, so history
arrives as files); the SP-API ingestion downloads the same V2 flat files. Both end here:

* `parse_settlement_file` reads one file (V2 or legacy layout, any marketplace's number and date
  format, UTF-8 with/without BOM or Latin-1, LF or CRLF) into a `ParsedSettlement`, or raises
  `SettlementFileError` naming file, row and field. One file holds one settlement (as Amazon writes
  them); a file with two settlement ids is rejected.
* `load_settlements` writes each parsed settlement into `raw_amazon.settlement_lines` and
  `raw_amazon.settlements` (the tables of docs/contracts.md), and records rejected files in
  `raw_amazon.settlement_rejections` through dlt.
* `import_command` is `ledgerbridge import-settlements FILE...`; `import_inbox` imports the inbox.

Why DuckDB and arrow: a settlement can hold a million rows. DuckDB reads the TSV in bulk (all
text) into an arrow table, validation and normalisation are SQL over that table, and amounts go
from text straight to DECIMAL(18,2), never through a float. The parser's own DuckDB connection is
in memory, capped at `ingestion.config.duckdb_memory_limit()`; the arrow table (about 1.5× the
file's size) is held outside that cap, one file at a time.

Loading, and why not through dlt: the lines go from the arrow table straight into the warehouse
— one `INSERT ... SELECT` on a connection set up as dlt's destination sets up its own
(`ingestion.warehouse.connect_warehouse`), or on dlt's own (`pipeline.sql_client()`) when the
caller passes a pipeline. A dlt load of the same rows wrote them to parquet, normalised and
copied them again: more than half of the import's time. dlt itself is imported only to record
rejections (through the `amazon_settlements` pipeline). The tables are created
with the DDL dlt gave them (`LINE_COLUMNS`, `SETTLEMENT_COLUMNS`); rows are inserted by column
name, so tables with more columns (dbt's create_raw_contract adds `_dlt_load_id`/`_dlt_id`,
left NULL as before) keep working.

Atomicity: one DuckDB transaction per settlement deletes its old lines, inserts the new ones and
replaces its `settlements` row (which holds the file's sha256: re-importing that file is a no-op).
Nothing is visible before COMMIT, so an error or a crash mid-load leaves the previous version of
the settlement (or nothing) — tests/ingestion/test_settlements.py kills a load in that window.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ingestion.amazon import settlement_formats as fmt
from ingestion.config import duckdb_memory_limit, pipelines_dir_for

Source = tuple[str, "bytes | str | Path"]
_UTF8_BOM = b"\xef\xbb\xbf"
DATASET = "raw_amazon"  # the dataset of `ingestion.pipelines.amazon_pipeline`
SETTLEMENT_PIPELINE = "amazon_settlements"
_ARROW_BATCH = 122_880  # rows per arrow batch: DuckDB scans an arrow table one batch per thread


class SettlementFileError(Exception):
    """A file that cannot be read as a settlement. Rejected whole; nothing of it is loaded."""

    def __init__(
        self, file: str, row: int | None, field: str | None, message: str, settlement_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.file, self.row, self.field, self.message = file, row, field, message
        self.settlement_id = settlement_id

    def __str__(self) -> str:
        return f"{self.file}: row {self.row if self.row is not None else '-'}, field {self.field or '-'}: {self.message}"


@dataclass
class ParsedSettlement:
    """One settlement read from one file: the summary row's fields and one line per amount."""

    name: str
    sha256: str
    layout: str  # "v2" | "legacy"
    settlement_id: str
    currency: str
    marketplace_name: str | None
    period_start_at: datetime
    period_end_at: datetime
    deposit_at: datetime | None
    total_amount: Decimal
    line_count: int
    line_sum: Decimal
    lines: pa.Table | None  # the raw_amazon.settlement_lines rows (None: the loader wrote them)

    @property
    def variance(self) -> Decimal:
        """line_sum - total_amount; not zero means Amazon's file does not add up (loaded anyway)."""
        return self.line_sum - self.total_amount


@dataclass
class FileOutcome:
    name: str
    status: str  # loaded | replaced | unchanged | rejected
    sha256: str | None = None
    settlement_id: str | None = None
    settlement: ParsedSettlement | None = None
    replaced_sha256: str | None = None
    error: SettlementFileError | None = None

    def describe(self) -> str:
        if self.error is not None:
            return f"REJECTED: {self.error}"
        if self.status == "unchanged":
            return f"unchanged: {self.name} (settlement {self.settlement_id} already loaded from this file)"
        s = self.settlement
        text = f"{self.status}: {self.name} (settlement {s.settlement_id}, {s.line_count} lines, total {s.total_amount} {s.currency}"
        if self.replaced_sha256:
            text += f"; replaced the file with sha256 {self.replaced_sha256[:12]}…"
        text += ")"
        if s.variance:
            text += f" VARIANCE: the lines sum to {s.line_sum}, total-amount is {s.total_amount}"
        return text


@dataclass
class ImportResult:
    loaded: list[FileOutcome] = field(default_factory=list)
    unchanged: list[FileOutcome] = field(default_factory=list)
    replaced: list[FileOutcome] = field(default_factory=list)
    rejected: list[FileOutcome] = field(default_factory=list)
    outcomes: list[FileOutcome] = field(default_factory=list)  # every file, in the order given

    def add(self, outcome: FileOutcome) -> None:
        getattr(self, outcome.status).append(outcome)
        self.outcomes.append(outcome)

    def summary(self) -> str:
        text = (
            f"{len(self.outcomes)} file(s): {len(self.loaded)} loaded, {len(self.replaced)} replaced, "
            f"{len(self.unchanged)} unchanged, {len(self.rejected)} rejected"
        )
        if self.rejected:
            text += " (recorded in raw_amazon.settlement_rejections)"
        return text


# --- reading a file ------------------------------------------------------------------------------


@contextlib.contextmanager
def _on_disk(path_or_bytes: bytes | str | Path, name: str | None) -> Iterator[tuple[str, Path, str]]:
    """(name, a path DuckDB can read, the sha256 of the bytes). Bytes, and files whose name DuckDB
    would take for a glob pattern (`Settlement [2].txt`), go through a temporary file."""
    data = None
    if isinstance(path_or_bytes, bytes | bytearray | memoryview):
        data, name = bytes(path_or_bytes), name or "<bytes>"
        sha256 = hashlib.sha256(data).hexdigest()
    else:
        path = Path(path_or_bytes)
        name = name or str(path)
        try:
            with path.open("rb") as file:  # hashed in chunks: a big file is not held in memory
                sha256 = hashlib.file_digest(file, "sha256").hexdigest()
        except OSError as exc:
            raise SettlementFileError(name, None, None, f"cannot read the file: {exc.strerror}") from exc
        if not any(c in str(path) for c in "*?[]{}"):
            yield name, path, sha256
            return
    with tempfile.TemporaryDirectory(prefix="ledgerbridge-settlement-") as tmp:
        copy = Path(tmp) / "settlement.tsv"
        if data is None:
            shutil.copyfile(path, copy)
        else:
            copy.write_bytes(data)
        yield name, copy, sha256


def parse_settlement_file(path_or_bytes: bytes | str | Path, name: str | None = None) -> ParsedSettlement:
    """Parse one settlement file (path or bytes). Raises SettlementFileError naming file, row, field."""
    with _on_disk(path_or_bytes, name) as (file_name, path, sha256):
        return _Parser(file_name, path, sha256).parse()


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


class _Parser:
    """One file through DuckDB: header → text table `raw` → checks → the SQL of the lines.

    `raw` is an arrow table (every cell as text, plus `_row`: 0 = file row 2) that DuckDB scans
    in place: the checks run over it here, and the loader runs `lines_sql` over it inside the
    warehouse connection, so the lines go from the file to the warehouse without a copy in between.
    """

    def __init__(self, name: str, path: Path, sha256: str) -> None:
        self.name, self.path, self.sha256 = name, path, sha256
        self.con = duckdb.connect(config={"memory_limit": duckdb_memory_limit()})
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute("SET enable_progress_bar = false")  # no bar in the CLI's output
        self.settlement_id: str | None = None
        self.raw: pa.Table | None = None
        self.lines_sql = ""

    # helpers
    def error(self, row: int | None, field_name: str | None, message: str) -> SettlementFileError:
        return SettlementFileError(self.name, row, field_name, message, self.settlement_id)

    def col(self, name: str) -> str:
        """The SQL column of a header name, or a typed NULL when the file lacks that column."""
        return f"c{self.header.index(name)}" if name in self.header else "NULL::VARCHAR"

    def one(self, sql: str) -> tuple | None:
        rows = self.con.execute(sql).fetchall()  # fetch all: DuckDB 2 refuses new work on a half-read result
        return rows[0] if rows else None

    def first_row(self, where: str) -> int | None:
        """The file row (header = 1) of the first row matching `where`, or None."""
        first = self.one(f"SELECT min(_row) FROM raw WHERE {where}")[0]
        return None if first is None else first + 2

    def value(self, row: int, name: str) -> Any:
        return self.one(f"SELECT {self.col(name)} FROM raw WHERE _row = {row - 2}")[0]

    # steps
    def parse(self, with_lines: bool = True) -> ParsedSettlement:
        """Read and check the file. `with_lines=False` leaves the lines as `raw` + `lines_sql`."""
        try:
            self.read_header()
            self.read_rows()
            mark, posted_date, posted_at = self.check_rows()
            self.lines_sql = self.lines(mark, posted_date, posted_at)
            return self.result(with_lines)
        finally:
            self.con.close()

    def read_header(self) -> None:
        with self.path.open("rb") as file:
            line = file.readline()
        first = line.removesuffix(b"\n").removeprefix(_UTF8_BOM)
        if not first.strip() and not line.endswith(b"\n"):
            raise self.error(1, None, "empty file")
        names = [n.strip().lower() for n in _decode(first).rstrip("\r").split("\t")]
        self.header = [n or f"column-{i + 1}" for i, n in enumerate(names)]
        self.layout = fmt.detect_layout(self.header)
        if self.layout is None or "settlement-id" not in self.header:
            raise self.error(
                1,
                "settlement-id",
                "no settlement header: the first line must be the tab-separated column names "
                "(settlement-id, settlement-start-date, …)",
            )
        seen: set[str] = set()
        for name in self.header:
            if name in seen:
                raise self.error(1, name, "the column appears twice in the header")
            seen.add(name)
        for name in fmt.required_columns(self.layout):
            if name not in self.header:
                raise self.error(1, name, f"missing required column (a {self.layout} settlement file has it)")

    def read_rows(self) -> None:
        """Every row after the header as text into the arrow table `raw` (`_row` 0 = file row 2).

        Arrow, not a DuckDB table: DuckDB's read_csv fills arrow at about twice the speed of a
        table, scans it in place, and the loader hands it to the warehouse connection as it is.
        """
        columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(self.header))) + "}"
        for encoding in ("utf-8", "latin-1"):
            sql = (
                f"SELECT * FROM read_csv({fmt.literal(str(self.path))}, "
                f"delim='\t', quote='', escape='', header=false, skip=1, columns={columns}, "
                f"auto_detect=false, strict_mode=true, null_padding=false, encoding='{encoding}')"
            )
            try:
                raw = self.con.sql(sql).to_arrow_table(_ARROW_BATCH)
                break
            except duckdb.Error as exc:
                message = str(exc)
                if "Invalid unicode" in message and encoding == "utf-8":
                    continue  # not UTF-8: Amazon's downloads are Latin-1 then
                raise self._csv_error(message) from None
        if raw.num_rows == 0:
            raise self.error(2, "settlement-id", "no rows after the header (truncated file?)")
        rows = self.con.sql(f"SELECT range AS _row FROM range({raw.num_rows})").to_arrow_table(_ARROW_BATCH)
        self.raw = raw.append_column("_row", rows.column(0))
        self.con.register("raw", self.raw)

    def _csv_error(self, message: str) -> SettlementFileError:
        line = re.search(r"Line: (\d+)", message)
        row = int(line.group(1)) if line else None
        counts = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", message)
        if counts:
            expected, found = int(counts.group(1)), int(counts.group(2))
            if found < expected:
                return self.error(
                    row,
                    self.header[found],
                    f"the row has {found} of the header's {expected} columns (truncated file?)",
                )
            return self.error(row, None, f"the row has {found} columns, the header {expected}")
        return self.error(row, None, message.splitlines()[0].removeprefix("Invalid Input Error: "))

    def check_rows(self) -> tuple[str, str, str]:
        """Every row-level check in one scan; raise for the first offending row of the file.

        Returns the decimal mark and the SQL of posted_date / posted_at.
        """
        sid, cur = self.col("settlement-id"), self.col("currency")
        first_sid = self.value(2, "settlement-id")
        self.settlement_id = first_sid.strip() if first_sid else None
        summary_row = self.first_row(f"{self.col('total-amount')} IS NOT NULL")
        currency = self.value(summary_row, "currency") if summary_row else None
        self.currency = currency.strip() if currency else None

        checks: dict[str, tuple[str, str, Callable[[int], str]]] = {}  # key -> field, condition, message
        checks["sid-missing"] = ("settlement-id", f"{sid} IS NULL", lambda row: "settlement id missing")
        if self.settlement_id:
            checks["sid-second"] = (
                "settlement-id",
                f"{fmt.trimmed(sid)} <> {fmt.literal(self.settlement_id)}",
                lambda row: (
                    f"a second settlement id {self.value(row, 'settlement-id')} (the file starts with "
                    f"{self.settlement_id}); one file holds one settlement"
                ),
            )
        if self.currency:
            checks["currency"] = (
                "currency",
                f"{cur} IS NOT NULL AND {fmt.trimmed(cur)} <> {fmt.literal(self.currency)}",
                lambda row: (
                    f"two currencies in one settlement: {self.currency} and "
                    f"{self.value(row, 'currency').strip()}"
                ),
            )
        dot = fmt.literal(fmt.amount_pattern("."))
        for column in self.amount_columns():
            c = self.col(column)
            condition = f"{c} IS NOT NULL AND NOT regexp_full_match({fmt.trimmed(c)}, {dot})"
            checks[f"amount:{column}"] = (column, condition, self.amount_message(column))
        posted_date, posted_at, two_digit = self.posted_date_sql(checks)
        q = self.col("quantity-purchased")
        checks["quantity"] = (
            "quantity-purchased",
            f"{q} IS NOT NULL AND TRY_CAST({fmt.trimmed(q)} AS INTEGER) IS NULL",
            lambda row: f"not a whole number: {self.value(row, 'quantity-purchased')!r}",
        )
        if self.layout == "v2":
            checks["amount-missing"] = (
                "amount",
                f"{self.col('amount-type')} IS NOT NULL AND {self.col('amount')} IS NULL",
                lambda row: "amount missing on a row with an amount-type",
            )
        aggregates = ", ".join(f"min(_row) FILTER (WHERE {cond})" for _, cond, _ in checks.values())
        firsts = dict(zip(checks, self.one(f"SELECT {aggregates} FROM raw"), strict=True))

        mark = "."
        amount_keys = [k for k in checks if k.startswith("amount:")]
        if any(firsts[k] is not None for k in amount_keys):
            mark = self.comma_or_bad_amounts(amount_keys, firsts)
        failures = [(row + 2, i, key) for i, (key, row) in enumerate(firsts.items()) if row is not None]
        if failures:
            row, _, key = min(failures)
            field_name, _, message = checks[key]
            raise self.error(row, field_name, message(row))
        if summary_row is None:
            raise self.error(
                2, "total-amount", "no summary row: no row carries the settlement's total-amount"
            )
        if not self.currency:
            raise self.error(summary_row, "currency", "the summary row has no currency")
        self.total_amount = self.check_total(summary_row, mark)
        self.read_period(summary_row)
        if two_digit:
            posted_date = self.two_digit_dates()
        return mark, posted_date, posted_at

    def comma_or_bad_amounts(self, amount_keys: list[str], firsts: dict[str, int | None]) -> str:
        """Some amounts are not `1,234.56`-style: either the file uses `,` decimals, or reject the worst."""
        comma = fmt.literal(fmt.amount_pattern(","))
        conditions = [
            f"min(_row) FILTER (WHERE {self.col(k[7:])} IS NOT NULL "
            f"AND NOT regexp_full_match({fmt.trimmed(self.col(k[7:]))}, {comma}))"
            for k in amount_keys
        ]
        comma_firsts = self.one(f"SELECT {', '.join(conditions)} FROM raw")
        if all(r is None for r in comma_firsts):
            for k in amount_keys:
                firsts[k] = None
            return ","
        dot_bad = sum(firsts[k] is not None for k in amount_keys)
        comma_bad = sum(r is not None for r in comma_firsts)
        if comma_bad < dot_bad:
            firsts.update(zip(amount_keys, comma_firsts, strict=True))
        return "." if comma_bad >= dot_bad else ","

    def amount_columns(self) -> list[str]:
        if self.layout == "v2":
            return ["total-amount", "amount"]
        families = [f.amount_column for f in fmt.LEGACY_AMOUNT_FAMILIES if f.amount_column in self.header]
        return ["total-amount", *families]

    def amount_message(self, column: str) -> Callable[[int], str]:
        return lambda row: (
            f"not an amount: {self.value(row, column)!r} (expected e.g. 1234.56, 1,234.56 or 1.234,56 "
            "with at most two decimals)"
        )

    def check_total(self, summary_row: int, mark: str) -> Decimal:
        total_sql = fmt.amount_sql(self.col("total-amount"), mark)
        total = self.one(f"SELECT {total_sql} FROM raw WHERE _row = {summary_row - 2}")[0]
        row = self.first_row(f"{self.col('total-amount')} IS NOT NULL AND {total_sql} <> {total}")
        if row is not None:
            raise self.error(row, "total-amount", f"differs from the summary row's total-amount {total}")
        return total

    def read_period(self, summary_row: int) -> None:
        values = {}
        for name in ("settlement-start-date", "settlement-end-date", "deposit-date"):
            text = self.value(summary_row, name)
            if text is None or not text.strip():
                if name == "deposit-date":
                    values[name] = None
                    continue
                raise self.error(summary_row, name, "missing on the summary row")
            style = fmt.detect_date_style(text)
            parsed = None
            if style is not None and style.name != "two_digit":
                parsed = self.one(f"SELECT {style.timestamp_sql(fmt.literal(text))}")[0]
            if parsed is None:
                raise self.error(summary_row, name, f"not a date: {text!r}")
            values[name] = parsed
        self.period_start_at = values["settlement-start-date"]
        self.period_end_at = values["settlement-end-date"]
        self.deposit_at = values["deposit-date"]

    def column_style(self, name: str) -> fmt.DateStyle | None:
        """The date style of a column, from one of its values; None when the column is empty."""
        c = self.col(name)
        found = self.one(f"SELECT _row, {c} FROM raw WHERE {c} IS NOT NULL LIMIT 1")
        if found is None:
            return None
        style = fmt.detect_date_style(found[1])
        if style is None:
            expected = ", ".join(s.label for s in fmt.DATE_STYLES)
            raise self.error(found[0] + 2, name, f"not a date: {found[1]!r} (expected one of: {expected})")
        return style

    def date_check(self, name: str, style: fmt.DateStyle, sql: str) -> tuple[str, str, Callable[[int], str]]:
        return (
            name,
            f"{self.col(name)} IS NOT NULL AND ({sql}) IS NULL",
            lambda row: f"not a date in the file's {style.label} format: {self.value(row, name)!r}",
        )

    def posted_date_sql(self, checks: dict) -> tuple[str, str, bool]:
        """SQL of posted_date (DATE as written) and posted_at (TIMESTAMPTZ, UTC); adds their checks.

        The third value says posted-date uses two-digit years (resolved once the period is known).
        """
        posted_at = "NULL::TIMESTAMPTZ"
        time_style = self.column_style("posted-date-time") if "posted-date-time" in self.header else None
        self.time_style = time_style
        if time_style is not None:
            if time_style.name == "two_digit":
                raise self.error(
                    self.first_row(f"{self.col('posted-date-time')} IS NOT NULL"),
                    "posted-date-time",
                    "a two-digit year is not a time stamp",
                )
            posted_at = time_style.timestamp_sql(self.col("posted-date-time"))
            checks["posted-date-time"] = self.date_check("posted-date-time", time_style, posted_at)
        date_style = self.column_style("posted-date")
        if date_style is None:  # no posted-date: the day of posted-date-time, as written
            if time_style is None:
                return "NULL::DATE", posted_at, False
            return time_style.date_sql(self.col("posted-date-time")), posted_at, False
        if date_style.name == "two_digit":
            return "", posted_at, True
        posted_date = date_style.date_sql(self.col("posted-date"))
        if date_style.timestamp and time_style is None:
            posted_at = date_style.timestamp_sql(self.col("posted-date"))
            checks["posted-date"] = self.date_check("posted-date", date_style, posted_at)
        else:
            checks["posted-date"] = self.date_check("posted-date", date_style, posted_date)
        return posted_date, posted_at, False

    def two_digit_dates(self) -> str:
        """Decide MM/DD/YY vs DD/MM/YY for the whole file; returns the SQL of the chosen reading.

        A reading fits a row when it is within a day of the row's posted-date-time, or — without
        one — inside the settlement period (start - 1 day .. end + 1 day). The file's style is the
        reading that fits every row; if both do and they differ somewhere, the one whose dates all
        fall inside the period wins; otherwise the file is rejected naming posted-date. The work is
        done on the distinct (posted-date, posted day) pairs: a few hundred, not a million rows.
        """
        c = self.col("posted-date")
        day = "NULL::DATE" if self.time_style is None else self.time_style.date_sql("posted_day")
        # group the texts first: the dates are read once per distinct value, not once per row
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE two_digit AS SELECT v, {day} AS day, first_row FROM ("
            f"SELECT {c} AS v, left({fmt.trimmed(self.col('posted-date-time'))}, 10) AS posted_day, "
            f"min(_row) AS first_row FROM raw WHERE {c} IS NOT NULL GROUP BY ALL)"
        )
        readings = {"MM/DD/YY": fmt.two_digit_sql("v", False), "DD/MM/YY": fmt.two_digit_sql("v", True)}
        start, end = self.period_start_at.date(), self.period_end_at.date()
        period = f"BETWEEN DATE '{start}' - 1 AND DATE '{end}' + 1"

        def first(where: str) -> int | None:
            row = self.one(f"SELECT min(first_row) FROM two_digit WHERE {where}")[0]
            return None if row is None else row + 2

        def misfit(reading: str, use_posted_at: bool) -> str:
            inside = f"{reading} {period}"
            fits = (
                f"coalesce(abs(date_diff('day', {reading}, day)) <= 1, {inside})" if use_posted_at else inside
            )
            return f"NOT coalesce({fits}, false)"

        differ = f"{readings['MM/DD/YY']} IS DISTINCT FROM {readings['DD/MM/YY']}"
        for use_posted_at in (True, False):
            misfits = {label: first(misfit(r, use_posted_at)) for label, r in readings.items()}
            fitting = [label for label, row in misfits.items() if row is None]
            if len(fitting) == 1:
                return fmt.two_digit_sql(c, day_first=fitting[0] == "DD/MM/YY")
            if len(fitting) == 2:
                if first(differ) is None:
                    return fmt.two_digit_sql(c, day_first=False)
                continue  # both fit: let the settlement period decide
            row = max(misfits.values())  # the reading that holds longer is the likelier one
            raise self.error(
                row,
                "posted-date",
                f"two-digit date {self.value(row, 'posted-date')!r} fits neither MM/DD/YY nor DD/MM/YY: no reading "
                f"is within a day of posted-date-time or inside the settlement period {start}..{end}",
            )
        row = first(differ)
        raise self.error(
            row,
            "posted-date",
            f"ambiguous two-digit date {self.value(row, 'posted-date')!r}: both MM/DD/YY and DD/MM/YY fit the "
            f"settlement period {start}..{end} and posted-date-time does not decide",
        )

    def extra_sql(self) -> str:
        unknown = [n for n in self.header if n not in fmt.known_columns(self.layout)]
        if not unknown:
            return "NULL::VARCHAR"
        pairs = ", ".join(f"{fmt.literal(n)}, {self.col(n)}" for n in unknown)
        all_null = " AND ".join(f"{self.col(n)} IS NULL" for n in unknown)
        return f"CASE WHEN {all_null} THEN NULL ELSE CAST(json_object({pairs}) AS VARCHAR) END"

    def common_sql(self, posted_date: str, posted_at: str) -> dict[str, str]:
        """settlement_lines columns that come straight from the row (same in both layouts)."""
        c = self.col
        return {
            "transaction_type": c("transaction-type"),
            "order_id": c("order-id"),
            "merchant_order_id": c("merchant-order-id"),
            "adjustment_id": c("adjustment-id"),
            "shipment_id": c("shipment-id"),
            "marketplace_name": c("marketplace-name"),
            "fulfillment_id": c("fulfillment-id"),
            "posted_date": posted_date,
            "posted_at": posted_at,
            "order_item_code": c("order-item-code"),
            "merchant_order_item_id": c("merchant-order-item-id"),
            "merchant_adjustment_item_id": c("merchant-adjustment-item-id"),
            "sku": c("sku"),
            "quantity_purchased": f"CAST({fmt.trimmed(c('quantity-purchased'))} AS INTEGER)",
            "promotion_id": c("promotion-id"),
            "extra": self.extra_sql(),
        }

    def lines(self, mark: str, posted_date: str, posted_at: str) -> str:
        """The SELECT of the settlement_lines rows over `raw` (runs in any connection with `raw`)."""
        common = self.common_sql(posted_date, posted_at)
        if self.layout == "v2":
            amount = self.col("amount")
            per_row = {
                "amount_type": self.col("amount-type"),
                "amount_description": self.col("amount-description"),
                "amount": fmt.amount_sql(amount, mark),
                **common,
            }
            select = ", ".join(f"{sql} AS {name}" for name, sql in per_row.items())
            body = f"SELECT _row, 0 AS _col, {select} FROM raw WHERE {amount} IS NOT NULL"
            number = self.v2_line_number(amount)
        else:
            parts = []
            for family in fmt.LEGACY_AMOUNT_FAMILIES:
                if family.amount_column not in self.header:
                    continue
                description = self.col("transaction-type")
                if family.description_column in self.header:
                    description = f"coalesce({self.col(family.description_column)}, {description})"
                per_row = {
                    "amount_type": fmt.literal(family.amount_type),
                    "amount_description": description,
                    "amount": fmt.amount_sql(self.col(family.amount_column), mark),
                    **common,
                }
                select = ", ".join(f"{sql} AS {name}" for name, sql in per_row.items())
                position = self.header.index(family.amount_column)
                parts.append(
                    f"SELECT _row, {position} AS _col, {select} FROM raw "
                    f"WHERE {self.col(family.amount_column)} IS NOT NULL"
                )
            body = " UNION ALL ".join(parts)
            number = "row_number() OVER (ORDER BY _row, _col)"
        return f"""
            SELECT {fmt.literal(self.settlement_id)} AS settlement_id,
                   CAST({number} AS BIGINT) AS line_number,
                   CAST(_row + 2 AS BIGINT) AS source_row,
                   transaction_type, order_id, merchant_order_id, adjustment_id, shipment_id,
                   marketplace_name, amount_type, amount_description, amount, fulfillment_id,
                   posted_date, posted_at, order_item_code, merchant_order_item_id,
                   merchant_adjustment_item_id, sku, CAST(quantity_purchased AS BIGINT) AS quantity_purchased,
                   promotion_id, extra, {fmt.literal(self.currency)} AS currency
            FROM ({body})
            """

    def v2_line_number(self, amount: str) -> str:
        """line_number without a sort: _row minus the non-amount rows (the summary row) before it."""
        skipped = [
            r[0] for r in self.con.execute(f"SELECT _row FROM raw WHERE {amount} IS NULL LIMIT 65").fetchall()
        ]
        if len(skipped) > 64:
            return "row_number() OVER (ORDER BY _row)"
        minus = "".join(f" - CAST(_row > {r} AS BIGINT)" for r in sorted(skipped))
        return f"_row + 1{minus}"

    def result(self, with_lines: bool) -> ParsedSettlement:
        lines = None
        if with_lines:
            lines = self.con.sql(self.lines_sql).to_arrow_table()
            self.con.register("lines", lines)
        count, total, marketplace = self.one(
            "SELECT count(*), coalesce(sum(amount), 0), mode(marketplace_name) FILTER "
            "(WHERE marketplace_name IS NOT NULL AND lower(marketplace_name) <> 'non-amazon') "
            f"FROM {'lines' if with_lines else f'({self.lines_sql})'}"
        )
        return ParsedSettlement(
            name=self.name,
            sha256=self.sha256,
            layout=self.layout,
            settlement_id=self.settlement_id,
            currency=self.currency,
            marketplace_name=marketplace,
            period_start_at=self.period_start_at,
            period_end_at=self.period_end_at,
            deposit_at=self.deposit_at,
            total_amount=self.total_amount,
            line_count=count,
            line_sum=Decimal(total).quantize(Decimal("0.01")),
            lines=lines,
        )


# --- loading -------------------------------------------------------------------------------------

_MONEY, _TIME = "DECIMAL(18,2)", "TIMESTAMP WITH TIME ZONE"
# The two tables docs/contracts.md describes, as the loader creates them (column -> DuckDB type; the
# same DDL dlt produced when it loaded them). Rows are inserted BY NAME, so a table created earlier
# with more columns (dbt's create_raw_contract adds _dlt_load_id/_dlt_id) keeps working.
LINE_COLUMNS: dict[str, str] = {
    "settlement_id": "VARCHAR NOT NULL",
    "line_number": "BIGINT",
    "source_row": "BIGINT",
    **dict.fromkeys(
        ["transaction_type", "order_id", "merchant_order_id", "adjustment_id", "shipment_id"], "VARCHAR"
    ),
    **dict.fromkeys(["marketplace_name", "amount_type", "amount_description"], "VARCHAR"),
    "amount": _MONEY,
    "fulfillment_id": "VARCHAR",
    "posted_date": "DATE",
    "posted_at": _TIME,
    **dict.fromkeys(
        ["order_item_code", "merchant_order_item_id", "merchant_adjustment_item_id", "sku"], "VARCHAR"
    ),
    "quantity_purchased": "BIGINT",
    **dict.fromkeys(["promotion_id", "extra", "currency"], "VARCHAR"),
}
SETTLEMENT_COLUMNS: dict[str, str] = {
    "settlement_id": "VARCHAR NOT NULL",
    "marketplace_name": "VARCHAR",
    "currency": "VARCHAR",
    "period_start_at": _TIME,
    "period_end_at": _TIME,
    "deposit_at": _TIME,
    "total_amount": _MONEY,
    "line_count": "BIGINT",
    "line_sum": _MONEY,
    **dict.fromkeys(["layout", "source", "source_name", "file_sha256", "replaced_sha256"], "VARCHAR"),
    "loaded_at": _TIME,
}
REJECTION_COLUMNS: dict[str, dict[str, Any]] = {  # dlt column hints: rejections load through dlt
    "file_name": {"data_type": "text"},
    "file_sha256": {"data_type": "text"},
    "settlement_id": {"data_type": "text"},
    "row_number": {"data_type": "bigint"},
    "field": {"data_type": "text"},
    "error": {"data_type": "text"},
    "rejected_at": {"data_type": "timestamp"},
}


def settlement_pipeline(pipelines_dir: str | Path | None = None, connection=None):
    """The dlt pipeline of settlement loads (its own name, so SP-API pipeline state stays separate);
    `connection`: a `ingestion.pipelines.warehouse_connection` to work through."""
    from ingestion.pipelines import amazon_pipeline

    return amazon_pipeline(pipelines_dir, pipeline_name=SETTLEMENT_PIPELINE, connection=connection)


def loaded_settlements(pipeline) -> dict[str, str]:
    """settlement_id -> file_sha256 of what the warehouse holds."""
    with pipeline.sql_client() as client:
        return _loaded(client)


def _loaded(client) -> dict[str, str]:
    con = client.native_connection
    exists = con.execute(
        "SELECT 1 FROM information_schema.tables WHERE table_catalog = current_database() "
        "AND table_schema = ? AND table_name = 'settlements'",
        [client.dataset_name],
    ).fetchone()
    if not exists:
        return {}
    table = client.make_qualified_table_name("settlements")
    return {
        sid: sha for sid, sha in con.execute(f"SELECT settlement_id, file_sha256 FROM {table}").fetchall()
    }


class _WarehouseClient:
    """The part of dlt's SQL client the loader uses, over a plain connection (`connect_warehouse`).

    The lines never went through dlt (see the module docstring); without a pipeline given, an
    import does not import dlt at all (~0.5 s, more than a day's settlement import) unless it has
    rejections to record."""

    dataset_name = DATASET

    def __init__(self) -> None:
        from ingestion.warehouse import connect_warehouse

        self.native_connection = connect_warehouse()

    def __enter__(self) -> _WarehouseClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.native_connection.close()

    def make_qualified_table_name(self, table: str) -> str:
        return f'"{self.dataset_name}"."{table}"'

    def has_dataset(self) -> bool:
        return bool(
            self.native_connection.execute(
                "SELECT 1 FROM information_schema.schemata WHERE catalog_name = current_database() "
                "AND schema_name = ?",
                [self.dataset_name],
            ).fetchone()
        )

    def create_dataset(self) -> None:
        self.native_connection.execute(f'CREATE SCHEMA "{self.dataset_name}"')


def _pending_packages_possible(pipelines_dir: Path) -> bool:
    """Whether the settlement pipeline may hold unfinished dlt load packages (of rejections): any
    entry where dlt keeps extracted or normalized packages. Only then is dlt asked (and imported)."""
    folder = pipelines_dir / SETTLEMENT_PIPELINE
    return any(
        any(path.iterdir())
        for path in (
            folder / "normalize" / "extracted",
            folder / "load" / "new",
            folder / "load" / "normalized",
        )
        if path.is_dir()
    )


def load_settlements(
    sources: Iterable[Source],
    source: str = "file",
    pipeline=None,
    progress: Callable[[str], None] | None = None,
) -> ImportResult:
    """Parse and load settlement files; bad files are recorded in raw_amazon.settlement_rejections.

    `sources` are (name, bytes or path) pairs; `source` is "file" or "api" (then name = report id).
    A file whose sha256 is already loaded is `unchanged` (nothing is written); a file for a
    settlement loaded from a different file `replaced` it (its sha is kept in replaced_sha256).
    Each settlement is written in its own transaction as soon as it is parsed (see the module
    docstring); a second file of one settlement in the same import replaces the first.
    Without a `pipeline`, the settlement pipeline (`settlement_pipeline`) is created only to record
    rejections or to drop a crashed run's packages; the lines go through `_WarehouseClient`.
    """
    if source not in ("file", "api"):
        raise ValueError(f"source must be 'file' or 'api', not {source!r}")
    progress = progress or (lambda message: None)
    if pipeline is not None:
        if pipeline.has_pending_data:
            raise RuntimeError(
                f"pipeline {pipeline.pipeline_name} has pending load packages; load them first"
            )
        client_cm = pipeline.sql_client()
    else:
        if _pending_packages_possible(pipelines_dir_for()):
            pipeline = settlement_pipeline()
            if pipeline.has_pending_data:
                # A crash left a half-done package: the files are the source of truth, import them anew.
                pipeline.abort_packages()
        client_cm = _WarehouseClient()
    result = ImportResult()
    rejections: list[dict[str, Any]] = []
    with client_cm as client:
        known = _loaded(client)
        known_shas = set(known.values())
        tables_ready = False
        for name, item in sources:
            outcome, parser = _read_one(name, item, known, known_shas, progress)
            result.add(outcome)
            if outcome.status == "rejected":
                rejections.append(_rejection_row(outcome))
                continue
            if parser is None:  # unchanged
                continue
            if not tables_ready:
                _create_tables(client)
                tables_ready = True
            progress(f"loading settlement {outcome.settlement_id} into {client.dataset_name}")
            _write_settlement(client, parser, outcome, source)
            known[outcome.settlement_id] = outcome.sha256
            known_shas.add(outcome.sha256)
    if rejections:
        import dlt

        pipeline = pipeline or settlement_pipeline()
        pipeline.run(
            dlt.resource(
                rejections,
                name="settlement_rejections",
                write_disposition="append",
                columns=REJECTION_COLUMNS,
            )
        )
    return result


def _read_one(
    name: str, item, known: dict[str, str], known_shas: set[str], progress
) -> tuple[FileOutcome, _Parser | None]:
    """The file's outcome, and for a file to load the parser holding its rows."""
    try:
        with _on_disk(item, name) as (file_name, path, sha):
            if sha in known_shas:
                sid = next((s for s, h in known.items() if h == sha), None)
                return FileOutcome(file_name, "unchanged", sha, sid), None
            progress(f"parsing {file_name}")
            parser = _Parser(file_name, path, sha)
            parsed = parser.parse(with_lines=False)
    except SettlementFileError as exc:
        data_sha = hashlib.sha256(item).hexdigest() if isinstance(item, bytes) else _sha_or_none(item)
        return FileOutcome(exc.file, "rejected", data_sha, exc.settlement_id, error=exc), None
    previous = known.get(parsed.settlement_id)
    status = "replaced" if previous else "loaded"
    return FileOutcome(parsed.name, status, parsed.sha256, parsed.settlement_id, parsed, previous), parser


def _sha_or_none(path) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _rejection_row(outcome: FileOutcome) -> dict[str, Any]:
    e = outcome.error
    return {
        "file_name": outcome.name,
        "file_sha256": outcome.sha256,
        "settlement_id": e.settlement_id,
        "row_number": e.row,
        "field": e.field,
        "error": e.message,
        "rejected_at": datetime.now(UTC),
    }


def _create_tables(client) -> None:
    """Create the dataset and the two settlement tables when missing; add a column a table lacks."""
    if not client.has_dataset():
        client.create_dataset()
    con = client.native_connection
    existing: dict[str, set[str]] = {}
    for table, column in con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND table_schema = ?",
        [client.dataset_name],
    ).fetchall():
        existing.setdefault(table, set()).add(column)
    for table, columns in (("settlement_lines", LINE_COLUMNS), ("settlements", SETTLEMENT_COLUMNS)):
        qualified = client.make_qualified_table_name(table)
        if table not in existing:
            ddl = ", ".join(f'"{column}" {sql_type}' for column, sql_type in columns.items())
            con.execute(f"CREATE TABLE {qualified} ({ddl})")
            continue
        for column, sql_type in columns.items():
            if column not in existing[table]:
                con.execute(
                    f'ALTER TABLE {qualified} ADD COLUMN "{column}" {sql_type.removesuffix(" NOT NULL")}'
                )


def _write_settlement(client, parser: _Parser, outcome: FileOutcome, source: str) -> None:
    """Replace the settlement's lines and its settlements row in one warehouse transaction.

    The lines go from the parser's arrow table `raw` through `lines_sql` straight into
    settlement_lines (DuckDB scans the arrow table in place). Until COMMIT nothing is visible;
    an error or a crash before it leaves the previous version of the settlement as it was.
    """
    s = outcome.settlement
    lines = client.make_qualified_table_name("settlement_lines")
    con = client.native_connection
    con.execute("SET SESSION TimeZone = 'UTC'")  # the ISO dates of lines_sql (see settlement_formats)
    # Rows need no physical order (line_number orders them); keeping it costs a fifth of the insert.
    con.execute("SET SESSION preserve_insertion_order = false")
    con.execute("SET SESSION enable_progress_bar = false")
    con.register("raw", parser.raw)
    try:
        con.begin()
        try:
            con.execute(f"DELETE FROM {lines} WHERE settlement_id = ?", [s.settlement_id])
            con.execute(f"INSERT INTO {lines} BY NAME {parser.lines_sql}")
            _record_settlement(client, _settlement_row(outcome, source))
            con.commit()
        except BaseException:
            con.rollback()
            raise
    finally:
        con.unregister("raw")
        parser.raw = None  # written: free the memory


def _settlement_row(outcome: FileOutcome, source: str) -> dict[str, Any]:
    s = outcome.settlement
    return {
        "settlement_id": s.settlement_id,
        "marketplace_name": s.marketplace_name,
        "currency": s.currency,
        "period_start_at": s.period_start_at,
        "period_end_at": s.period_end_at,
        "deposit_at": s.deposit_at,
        "total_amount": s.total_amount,
        "line_count": s.line_count,
        "line_sum": s.line_sum,
        "layout": s.layout,
        "source": source,
        "source_name": outcome.name,
        "file_sha256": s.sha256,
        "replaced_sha256": outcome.replaced_sha256,
        "loaded_at": datetime.now(UTC),
    }


def _record_settlement(client, row: dict[str, Any]) -> None:
    """The settlements row, replacing the settlement's earlier one (inside the open transaction)."""
    table = client.make_qualified_table_name("settlements")
    con = client.native_connection
    con.execute(f"DELETE FROM {table} WHERE settlement_id = ?", [row["settlement_id"]])
    names = ", ".join(f'"{name}"' for name in row)
    con.execute(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(row))})", list(row.values()))


# --- the CLI and the inbox -----------------------------------------------------------------------


def _expand(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given; a directory stands for the (non-hidden) files directly inside it."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith(".")))
        else:
            files.append(p)
    return files


def import_command(args: argparse.Namespace, progress: Callable[[str], None]) -> int:
    """`ledgerbridge import-settlements FILE...`: load every good file, reject (and record) bad ones.

    Prints one line per file and a summary; exits 1 when any file was rejected.
    """
    from orchestration.cli import CommandError

    files = _expand(args.files)
    try:
        result = load_settlements([(str(f), f) for f in files], source="file", progress=progress)
    except Exception as exc:  # the warehouse, not a file, failed: nothing half-loaded stays visible
        raise CommandError(f"loading into the warehouse failed: {_root_cause(exc)}") from exc
    for outcome in result.outcomes:
        print(outcome.describe())
    print(result.summary())
    return 1 if result.rejected else 0


def _root_cause(exc: BaseException) -> str:
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def import_inbox(
    inbox_dir: str | Path | None = None, progress: Callable[[str], None] = print
) -> ImportResult:
    """Import every file in the inbox (`ingestion.config.inbox_dir()`) and move it out of the way.

    Loaded, replaced and unchanged files move to `<inbox>/processed/`; rejected files move to
    `<inbox>/rejected/`, next to a `<file>.error.txt` with the reason (also recorded in
    raw_amazon.settlement_rejections) — a rejected file is never lost, fix it and drop it in again.
    A file already loaded (same sha256) is a no-op that just moves to processed/.
    """
    from ingestion.config import inbox_dir as default_inbox

    inbox = Path(inbox_dir) if inbox_dir is not None else default_inbox()
    files = _expand([inbox]) if inbox.is_dir() else []
    result = load_settlements([(f.name, f) for f in files], source="file", progress=progress)
    for path, outcome in zip(files, result.outcomes, strict=True):
        target_dir = inbox / ("rejected" if outcome.status == "rejected" else "processed")
        target = _free_name(target_dir, path.name)
        target_dir.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)
        if outcome.error is not None:
            target.with_name(target.name + ".error.txt").write_text(
                str(outcome.error) + "\n", encoding="utf-8"
            )
        progress(outcome.describe())
    if files:
        progress(result.summary())
    return result


def _free_name(directory: Path, name: str) -> Path:
    target, n = directory / name, 1
    while target.exists():
        stem, dot, suffix = name.partition(".")
        target, n = directory / f"{stem}-{n}{dot}{suffix}", n + 1
    return target
