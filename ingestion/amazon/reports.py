"""Reports API steps shared by every report LedgerBridge reads (settlements, listings).

- `download_report` = getReportDocument + download of the pre-signed URL (gunzipped when
  `compressionAlgorithm` says so), with the client's retries.
- `request_reports` = createReport per marketplace (`create_reports`), then getReport polls with a
  bounded, growing wait until each is DONE (`wait_for_reports`; a caller may do other work in
  between, while Amazon prepares the reports). FATAL is an error naming the report; CANCELLED is
  what Amazon answers when a report has no data, so it yields no document (the caller loads
  nothing for that marketplace).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .client import AmazonApiError, SpApi
from .settings import ReportPolling

log = logging.getLogger(__name__)


def decode_report(raw: bytes) -> str:
    """Report bytes as text: UTF-8 (BOM dropped), else Windows/Latin-1 as Amazon's older files are."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def download_report(api: SpApi, report: dict[str, Any]) -> bytes:
    """The document of a DONE report, as bytes."""
    from sp_api.api import Reports

    report_id, document_id = str(report["reportId"]), report["reportDocumentId"]
    client = api.client(Reports)
    operation = f"getReportDocument {document_id} (report {report_id})"
    document = api.call(operation, client.get_report_document, document_id).payload
    return api.download(
        f"download of report {report_id}", document["url"], document.get("compressionAlgorithm")
    )


def request_reports(
    api: SpApi, report_type: str, marketplace_ids: dict[str, str], polling: ReportPolling
) -> dict[str, dict[str, Any] | None]:
    """createReport for each marketplace (code -> id), wait for all; code -> DONE report (None if CANCELLED)."""
    return wait_for_reports(api, create_reports(api, report_type, marketplace_ids), polling)


@dataclass
class RequestedReports:
    """Reports asked for (createReport), not waited for yet: Amazon prepares them meanwhile."""

    report_type: str
    report_ids: dict[str, str]  # marketplace code -> report id
    error: AmazonApiError | None = None  # createReport failed: waiting for them raises it


def create_reports(api: SpApi, report_type: str, marketplace_ids: dict[str, str]) -> RequestedReports:
    """createReport for each marketplace (code -> id)."""
    from sp_api.api import Reports

    client = api.client(Reports)
    pending: dict[str, str] = {}
    for code, marketplace_id in marketplace_ids.items():
        created = api.call(
            f"createReport {report_type} {code}",
            client.create_report,
            reportType=report_type,
            marketplaceIds=[marketplace_id],
        ).payload
        pending[code] = str(created["reportId"])
    return RequestedReports(report_type, pending)


def wait_for_reports(
    api: SpApi,
    requested: RequestedReports,
    polling: ReportPolling,
    sleep: Callable[[float], None] | None = None,
) -> dict[str, dict[str, Any] | None]:
    """getReport until every requested report is DONE: code -> report (None if CANCELLED).
    `sleep` waits between polls (`api.sleep` by default; a background reader's can be stopped)."""
    from sp_api.api import Reports

    if requested.error is not None:
        raise requested.error
    client = api.client(Reports)
    report_type = requested.report_type
    pending = dict(requested.report_ids)
    finished: dict[str, dict[str, Any] | None] = {}
    waited, delay = 0.0, polling.first_delay
    while True:
        for code, report_id in list(pending.items()):
            report = api.call(f"getReport {report_id}", client.get_report, report_id).payload
            status = report.get("processingStatus")
            if status == "DONE":
                finished[code] = report
            elif status == "CANCELLED":
                log.warning("%s report %s for %s was cancelled (no data)", report_type, report_id, code)
                finished[code] = None
            elif status == "FATAL":
                raise AmazonApiError(
                    f"{report_type} report {report_id} for {code} failed on Amazon's side (FATAL)"
                )
            else:
                continue
            del pending[code]
        if not pending:
            return finished
        if waited >= polling.timeout:
            reports = ", ".join(f"{report_id} ({code})" for code, report_id in pending.items())
            raise AmazonApiError(
                f"{report_type} report(s) {reports} not DONE after {waited:.0f}s of waiting; try again later"
            )
        (sleep or api.sleep)(delay)
        waited += delay
        delay = min(polling.max_delay, delay * 2)
