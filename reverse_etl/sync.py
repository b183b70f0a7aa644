"""The reverse ETL engine: push the `reverse_etl.sync_*` models to NetSuite and Amazon, idempotently.

Each sync model row is one desired target record (external_id, record_type, payload JSON,
depends_on). The engine fingerprints the canonical payload, compares it with
`reverse_etl.sync_records` and sends only new, changed or unfinished records:

- NetSuite, in dependency order (customers → items / orders / bills → fulfillments → payments /
  credit memos → refunds → journal entries → inventory adjustments), on a thread pool as wide as
  NETSUITE_CONCURRENCY, each record an upsert by external id (fulfillments and invoices: a
  sales-order transform guarded by an external-id lookup);
- Amazon: all changed listing messages in one JSON_LISTINGS_FEED, shipment confirmations one by one.

Crash safety: a record is marked `pending` with the fingerprint to send before its request goes
out and gets its outcome right after, so a killed run is finished by the next one without
duplicates. Defence in depth: a journal entry is only sent when its settlement is `balanced` in
`marts.fct_settlements`, whatever the sync model says. Dry runs write `reverse_etl.sync_previews`
and send nothing. Nothing here imports Dagster; the orchestrator calls `push()`.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from ingestion.netsuite.client import NetSuiteClient, dumps_json, loads_json
from reverse_etl import state
from reverse_etl.amazon import listings, shipments
from reverse_etl.netsuite import records as ns
from reverse_etl.state import Outcome, RecordState

REQUIRED_COLUMNS = ("external_id", "record_type", "payload", "depends_on")
AMAZON_TYPES = {listings.RECORD_TYPE, shipments.RECORD_TYPE}
FLUSH_ROWS, FLUSH_SECONDS = 200, 0.25  # outcome batches: at most this many rows or this old
# NetSuite external ids in `eid:` URLs: letters, digits, `_` and `-` only (research notes §1.1).
NETSUITE_EXTERNAL_ID = re.compile(r"^[A-Za-z0-9_-]+$")
JE_SETTLEMENT = re.compile(r"^amz-je-(.+?)(?:-\d{6})?$")

Progress = Callable[[str], None]


@dataclass
class Desired:
    """One row of a sync model: the record as it should be in the target system."""

    source_model: str
    record_type: str
    external_id: str
    depends_on: str | None
    payload: dict[str, Any] | None
    fingerprint: str | None
    context: dict[str, Any]
    error: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.record_type, self.external_id)


@dataclass
class PushSummary:
    counts: Counter = field(default_factory=Counter)  # pushed/failed/blocked/waiting/unchanged/previewed
    failures: list[str] = field(default_factory=list)

    def line(self) -> str:
        order = ("pushed", "unchanged", "failed", "blocked", "waiting", "previewed")
        return ", ".join(
            f"{self.counts[k]} {k}" for k in order if self.counts[k] or k in {"pushed", "failed"}
        )


def fingerprint(payload: Any) -> str:
    """sha256 of the canonical JSON (sorted keys, no spaces, decimals exact)."""
    return hashlib.sha256(dumps_json(payload, sort_keys=True).encode("utf-8")).hexdigest()


# -- reading the warehouse ------------------------------------------------------------------------


def sync_models(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables "
        "where table_schema = ? and table_catalog = current_database() and starts_with(table_name, 'sync_') "
        "order by table_name",
        [state.SCHEMA],
    ).fetchall()
    return [r[0] for r in rows if r[0] not in state.STATE_TABLES]


def read_desired(con: duckdb.DuckDBPyConnection) -> list[Desired]:
    """Every row of every sync model; a bad row becomes a Desired with `error` set, never dropped."""
    desired: list[Desired] = []
    seen: dict[tuple[str, str], Desired] = {}
    for model in sync_models(con):
        cursor = con.execute(f'select * from {state.SCHEMA}."{model}"')
        columns = [d[0] for d in cursor.description]
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise ValueError(
                f"{state.SCHEMA}.{model} lacks the column(s) {', '.join(missing)} (docs/contracts.md)"
            )
        for number, values in enumerate(cursor.fetchall(), start=1):
            row = dict(zip(columns, values, strict=True))
            record = _desired(model, number, row)
            if record.key in seen:
                first = seen[record.key]
                problem = f"external_id {record.external_id} appears twice ({first.source_model} and {model})"
                first.error = record.error = problem
            seen[record.key] = record
            desired.append(record)
    return desired


def _desired(model: str, number: int, row: dict[str, Any]) -> Desired:
    context = {k: v for k, v in row.items() if k != "payload"}
    record = Desired(
        model,
        str(row["record_type"] or ""),
        str(row["external_id"] or ""),
        row["depends_on"],
        None,
        None,
        context,
    )
    where = f"{state.SCHEMA}.{model} row {number}"
    if not record.external_id or not record.record_type:
        record.error = f"{where}: external_id and record_type are required"
        return record
    if record.record_type not in AMAZON_TYPES and not NETSUITE_EXTERNAL_ID.match(record.external_id):
        record.error = (
            f"{where}: external_id {record.external_id!r} has characters NetSuite does not accept "
            "(only letters, digits, _ and -)"
        )
        return record
    try:
        payload = loads_json(row["payload"]) if isinstance(row["payload"], str | bytes) else None
    except ValueError as exc:
        record.error = f"{where} ({record.external_id}): payload is not valid JSON ({exc})"
        return record
    if not isinstance(payload, dict):
        record.error = f"{where} ({record.external_id}): payload must be a JSON object"
        return record
    record.payload, record.fingerprint = payload, fingerprint(payload)
    return record


def settlement_statuses(con: duckdb.DuckDBPyConnection) -> dict[str, str] | None:
    try:
        rows = con.execute(
            "select cast(settlement_id as varchar), status from marts.fct_settlements"
        ).fetchall()
    except duckdb.CatalogException:
        return None
    return {r[0]: r[1] for r in rows}


def gate(record: Desired, statuses: dict[str, str] | None) -> str | None:
    """Why this record must not be sent now (journal entries of unbalanced settlements), or None."""
    if record.record_type != "journalEntry":
        return None
    settlement = record.context.get("settlement_id")
    if settlement is None and (match := JE_SETTLEMENT.match(record.external_id)):
        settlement = match.group(1)
    if settlement is None:
        return "journal entry names no settlement; cannot check it reconciles"
    if statuses is None:
        return "marts.fct_settlements not found; cannot check the settlement reconciles"
    status = statuses.get(str(settlement))
    if status != "balanced":
        return f"settlement {settlement} is {status or 'unknown'}, not balanced; journal entry held back"
    return None


# -- the push -------------------------------------------------------------------------------------


class _Run:
    """One push: holds the DuckDB connection (main thread only) and the outcome so far."""

    def __init__(self, con, desired: list[Desired], progress: Progress, netsuite, amazon, feed_wait: float):
        self.con = con
        self.desired = desired
        self.progress = progress
        self._netsuite, self._amazon = netsuite, amazon
        self.feed_wait = feed_wait
        self.prior: dict[tuple[str, str], RecordState] = state.load(con)
        self.status = {k: v.status for k, v in self.prior.items()}
        self.target = {k: v.target_id for k, v in self.prior.items()}
        self.desired_keys = {d.key for d in desired}
        self.by_eid: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for key in list(self.prior) + [d.key for d in desired]:
            if key not in self.by_eid[key[1]]:
                self.by_eid[key[1]].append(key)
        self.summary = PushSummary()
        self._buffer: list[tuple[str, str, Outcome, str | None, str | None]] = []
        self._flushed = time.monotonic()

    def flush(self) -> None:
        if self._buffer:
            state.record_outcomes(self.con, self._buffer)
            self._buffer = []
        self._flushed = time.monotonic()

    def netsuite(self) -> NetSuiteClient:
        if self._netsuite is None:
            self._netsuite = NetSuiteClient.from_env()
        return self._netsuite

    def amazon(self):
        if self._amazon is None:
            from ingestion.amazon.client import SpApi
            from ingestion.amazon.settings import AmazonSettings

            self._amazon = SpApi(AmazonSettings.from_env())
        return self._amazon

    def outcome(self, record: Desired, outcome: Outcome, fingerprint: str | None = None) -> None:
        """Buffer an outcome; flushed in batches (see state.record_outcomes) and before returning."""
        self._buffer.append((*record.key, outcome, fingerprint, record.source_model))
        if len(self._buffer) >= FLUSH_ROWS or time.monotonic() - self._flushed >= FLUSH_SECONDS:
            self.flush()
        self.status[record.key] = outcome.status
        if outcome.target_id:
            self.target[record.key] = outcome.target_id
        kind = "waiting" if outcome.status == "pending" else outcome.status
        self.summary.counts[kind] += 1
        if outcome.status == "failed":
            self.summary.failures.append(f"{record.record_type} {record.external_id}: {outcome.error}")

    def parent(self, record: Desired) -> tuple[bool, str | None]:
        """(may go now, internal id of the depends_on record if known)."""
        if not record.depends_on:
            return True, None
        keys = self.by_eid.get(record.depends_on, [])
        wanted = ns.TRANSFORMED_FROM.get(record.record_type)
        keys = [k for k in keys if wanted is None or k[0] == wanted] or keys
        for key in keys:
            if key in self.desired_keys and self.status.get(key) != "pushed":
                return False, None
        for key in keys:
            if self.target.get(key):
                return True, self.target[key]
        return True, None  # not ours: NetSuite must already hold it (the worker looks it up)

    # -- NetSuite ----------------------------------------------------------------------------
    def push_netsuite(self, todo: list[Desired]) -> None:
        tiers: dict[int, list[Desired]] = defaultdict(list)
        for record in todo:
            tiers[ns.tier_of(record.record_type)].append(record)
        for tier in sorted(tiers):
            ready: list[tuple[Desired, str | None]] = []
            for record in tiers[tier]:
                may_go, parent_id = self.parent(record)
                if may_go:
                    ready.append((record, parent_id))
                else:
                    self.outcome(record, Outcome("pending", error=f"waiting for {record.depends_on}"))
            if ready:
                self._send_netsuite(ready)

    def _send_netsuite(self, ready: list[tuple[Desired, str | None]]) -> None:
        client = self.netsuite()
        self.flush()
        state.mark_pending(self.con, [(*r.key, r.fingerprint, r.source_model) for r, _ in ready])
        with ThreadPoolExecutor(max_workers=client.concurrency, thread_name_prefix="push") as pool:
            futures = {
                pool.submit(self._one_netsuite, client, record, parent_id): record
                for record, parent_id in ready
            }
            for future in as_completed(futures):
                self.outcome(futures[future], future.result())
        self.flush()

    def _one_netsuite(self, client: NetSuiteClient, record: Desired, parent_id: str | None) -> Outcome:
        try:
            parent_type = ns.TRANSFORMED_FROM.get(record.record_type)
            if parent_type and parent_id is None:
                parent_id = client.find_by_external_id(parent_type, record.depends_on or "")
                if parent_id is None and not client.find_by_external_id(
                    record.record_type, record.external_id
                ):
                    return Outcome(
                        "pending", error=f"waiting for {parent_type} {record.depends_on} in NetSuite"
                    )
            prior = self.prior.get(record.key)
            pushed_before = prior is not None and prior.target_id is not None
            return ns.push_record(
                client, record.record_type, record.external_id, record.payload, parent_id, pushed_before
            )
        except Exception as exc:  # one record's surprise must not lose the others' outcomes
            return Outcome("failed", error=f"{type(exc).__name__}: {exc}"[:2000])

    # -- Amazon ------------------------------------------------------------------------------
    def push_amazon(self, todo: list[Desired]) -> None:
        feed = [r for r in todo if r.record_type == listings.RECORD_TYPE]
        confirmations = [r for r in todo if r.record_type == shipments.RECORD_TYPE]
        if feed:
            self._push_listings(feed)
        for record in confirmations:
            self.flush()
            state.mark_pending(self.con, [(*record.key, record.fingerprint, record.source_model)])
            try:
                outcome = shipments.confirm(self.amazon(), record.payload, record.context)
            except Exception as exc:
                outcome = Outcome("failed", error=f"{type(exc).__name__}: {exc}"[:2000])
            self.outcome(record, outcome)

    def _push_listings(self, feed: list[Desired]) -> None:
        spapi = self.amazon()
        default = next(iter(spapi.settings.marketplace_ids.values()))
        groups: dict[str, list[tuple[Desired, listings.ListingMessage]]] = defaultdict(list)
        for record in feed:
            message = listings.message_of(record.payload, record.context, default)
            groups[message.marketplace_id].append((record, message))
        for marketplace_id, group in groups.items():
            self.flush()
            state.mark_pending(self.con, [(*r.key, r.fingerprint, r.source_model) for r, _ in group])
            try:
                outcomes = listings.submit(
                    spapi,
                    spapi.settings.seller_id,
                    marketplace_id,
                    [m for _, m in group],
                    max_wait=self.feed_wait,
                )
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"[:2000]
                outcomes = {r.external_id: Outcome("failed", error=error) for r, _ in group}
            for record, _ in group:
                self.outcome(record, outcomes[record.external_id])


def preview_of(record: Desired, run: _Run) -> tuple[str, str, str]:
    if record.record_type == listings.RECORD_TYPE:
        message = listings.message_of(record.payload, record.context, "")
        return "FEED", f"{listings.FEED_TYPE} {message.marketplace_id}".strip(), dumps_json(message.message)
    if record.record_type == shipments.RECORD_TYPE:
        return shipments.preview(record.payload, record.context)
    _, parent_id = run.parent(record)
    return ns.preview(record.record_type, record.external_id, record.payload, parent_id, record.depends_on)


def push(
    warehouse: str | Path | None = None,
    *,
    dry_run: bool = False,
    netsuite: NetSuiteClient | None = None,
    amazon: Any = None,
    progress: Progress = print,
    feed_wait: float = 300.0,
) -> PushSummary:
    """Push every new or changed sync-model record (or, with dry_run, only write the previews)."""
    from ingestion.config import warehouse_path

    path = Path(warehouse) if warehouse else warehouse_path()
    if not path.exists():
        raise FileNotFoundError(
            f"warehouse {path} does not exist; run `ledgerbridge ingest` and `build` first"
        )
    con = duckdb.connect(str(path))
    try:
        state.ensure_tables(con)
        desired = read_desired(con)
        run = _Run(con, desired, progress, netsuite, amazon, feed_wait)
        statuses = settlement_statuses(con)
        todo: list[Desired] = []
        for record in desired:
            prior = run.prior.get(record.key)
            if record.error:
                if not dry_run:
                    run.outcome(record, Outcome("failed", error=record.error))
                continue
            if prior and prior.status == "pushed" and prior.fingerprint == record.fingerprint:
                run.summary.counts["unchanged"] += 1
                continue
            if reason := gate(record, statuses):
                if not dry_run:
                    run.outcome(record, Outcome("blocked", error=reason), record.fingerprint)
                else:
                    run.summary.counts["blocked"] += 1
                continue
            todo.append(record)
        if dry_run:
            rows = [(r.source_model, *r.key, r.fingerprint, *preview_of(r, run)) for r in todo]
            state.replace_previews(con, rows)
            run.summary.counts["previewed"] = len(rows)
            progress(f"dry run: {len(rows)} payloads written to reverse_etl.sync_previews; nothing sent")
            return run.summary
        netsuite_todo = [r for r in todo if r.record_type not in AMAZON_TYPES]
        if netsuite_todo:
            progress(f"pushing {len(netsuite_todo)} records to NetSuite")
            run.push_netsuite(netsuite_todo)
        amazon_todo = [r for r in todo if r.record_type in AMAZON_TYPES]
        if amazon_todo:
            progress(f"pushing {len(amazon_todo)} records to Amazon")
            run.push_amazon(amazon_todo)
        run.flush()
        return run.summary
    finally:
        con.close()


def push_command(args, progress: Progress) -> int:
    """`ledgerbridge push [--dry-run]`. Failed records are reported (and land in rpt_exceptions)."""
    from orchestration.cli import CommandError

    try:
        summary = push(dry_run=bool(getattr(args, "dry_run", False)), progress=progress)
    except (FileNotFoundError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    progress(f"push: {summary.line()}")
    for failure in summary.failures[:10]:
        progress(f"  failed: {failure}")
    if len(summary.failures) > 10:
        progress(f"  … and {len(summary.failures) - 10} more in reverse_etl.sync_records")
    return 0
