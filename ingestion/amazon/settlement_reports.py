"""Find settlement reports through the Reports API and load the ones not loaded yet.

Settlement reports cannot be requested; Amazon creates one per disbursement and lists it for 90
days. So each run lists `GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2` reports created since the
last load (minus a lookback, never more than 90 days back), skips every report id already in
`raw_amazon.settlements` (source `api`) or already rejected, downloads the rest and hands the bytes
to `ingestion.amazon.settlements.load_settlements` — the same parser and loader as
`ledgerbridge import-settlements`. A second run therefore downloads nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .client import AmazonApiError, SpApi
from .reports import download_report
from .rows import iso, parse_time
from .settings import REPORTS_LISTABLE, SETTLEMENT_REPORT_TYPE, AmazonSettings


@dataclass
class SettlementSync:
    listed: int = 0
    skipped: int = 0  # already loaded (or rejected) earlier
    downloaded: list[str] = field(default_factory=list)  # report ids
    result: Any = None  # the loader's ImportResult
    error: str | None = None


def known_reports(pipeline: Any) -> tuple[set[str], datetime | None]:
    """Report ids loaded (or rejected) before, and when the last one was loaded."""
    queries = {
        "settlements": "SELECT source_name, loaded_at FROM {t} WHERE source = 'api'",
        "settlement_rejections": "SELECT file_name, rejected_at FROM {t}",
    }
    ids: set[str] = set()
    last: datetime | None = None
    try:
        client_cm = pipeline.sql_client()
    except Exception:  # nothing loaded yet: no dataset, no destination state
        return ids, None
    with client_cm as client:
        for table, sql in queries.items():
            try:
                rows = client.execute_sql(sql.format(t=client.make_qualified_table_name(table)))
            except Exception:  # the table does not exist yet
                continue
            for name, at in rows or []:
                ids.add(str(name))
                if table == "settlements" and at is not None:
                    at = at if at.tzinfo else at.replace(tzinfo=UTC)
                    last = at if last is None or at > last else last
    return ids, last


def list_settlement_reports(api: SpApi, since: datetime, page_size: int = 100) -> list[dict]:
    from sp_api.api import Reports

    client = api.client(Reports)
    reports: list[dict] = []
    params: dict[str, Any] = {
        "reportTypes": [SETTLEMENT_REPORT_TYPE],
        "processingStatuses": ["DONE"],
        "createdSince": iso(since),
        "pageSize": page_size,
    }
    while True:
        page = api.call("getReports", client.get_reports, **params)
        reports.extend(page.payload.get("reports") or [])
        token = page.payload.get("nextToken")
        if not token:
            break
        params = {"nextToken": token}  # the API refuses any other parameter next to nextToken
    reports.sort(key=lambda r: (r.get("createdTime") or "", r["reportId"]))
    return reports


def sync_settlement_reports(
    pipeline: Any,
    settings: AmazonSettings | None = None,
    api: SpApi | None = None,
    progress: Callable[[str], None] = lambda message: None,
    now: datetime | None = None,
) -> SettlementSync:
    """Download and load new settlement reports. Errors end the sync, keeping what was loaded."""
    from .settlements import load_settlements

    settings = settings or AmazonSettings.from_env()
    api = api or SpApi(settings)
    now = now or datetime.now(UTC)
    sync = SettlementSync()
    known, last_loaded = known_reports(pipeline)
    since = now - REPORTS_LISTABLE
    if last_loaded is not None:
        since = max(since, last_loaded - settings.settlements_lookback)
    files: list[tuple[str, bytes]] = []
    try:
        reports = list_settlement_reports(api, since)
        sync.listed = len(reports)
        for report in reports:
            report_id = str(report["reportId"])
            if report_id in known:
                sync.skipped += 1
                continue
            if not report.get("reportDocumentId"):  # DONE reports always have one; skip rather than guess
                continue
            data = download_report(api, report)
            files.append((report_id, data))
            sync.downloaded.append(report_id)
            created = parse_time(report.get("createdTime"))
            progress(
                f"settlement report {report_id} ({created:%Y-%m-%d} UTC) downloaded" if created else report_id
            )
    except AmazonApiError as exc:
        sync.error = str(exc)
    if files:  # load what was downloaded even when a later report failed
        sync.result = load_settlements(files, source="api", pipeline=pipeline)
    return sync
