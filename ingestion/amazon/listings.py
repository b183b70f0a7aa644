"""`raw_amazon.listings_items`: what Amazon lists per marketplace and SKU, from the listings report.

A seller integration reads its whole catalogue the way Seller Central exports it: one
`GET_MERCHANT_LISTINGS_ALL_DATA` report per marketplace (createReport -> getReport until DONE ->
document). The tab-separated file is read by header name; prices are Decimal, read with the
marketplace's decimal mark (`1.234,56` on Amazon.de) unless every price of the file reads only the
other way. `fulfillment-channel` `DEFAULT` is merchant fulfilled (`MFN`), `AMAZON_*` is FBA (`AFN`).

Rows merge on (marketplace_id, seller_sku); the marketplace is the merge key too, so a listing
gone from a marketplace's report disappears from the table (the report is a full snapshot).
"""

from __future__ import annotations

import copy
import csv
import io
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import dlt
from dlt.extract.resource import DltResource

from ingestion.arrow_tables import empty_table

from . import settlement_formats as fmt
from .client import AmazonApiError, AmazonUnreachable, SpApi
from .reports import RequestedReports, create_reports, decode_report, download_report, wait_for_reports
from .rows import LISTING_COLUMNS, MARKETPLACE_CURRENCY, parse_time
from .settings import DECIMAL_COMMA_MARKETPLACES, LISTINGS_REPORT_TYPE, AmazonSettings

REQUIRED = ("seller-sku", "asin1", "price", "quantity", "fulfillment-channel", "status")


class ListingsReportError(ValueError):
    """A listings report that cannot be read; names the report, row (header = 1) and field."""


def request_listings(api: SpApi, settings: AmazonSettings) -> RequestedReports:
    """createReport of every marketplace's listings report; `listings_items_resource` waits for them.

    Amazon takes from seconds to minutes to prepare a report: asked for first, they are prepared
    while the orders load. A failure is kept for the listings step to report (as its own); only
    an unreachable SP-API raises here, so the run can stop at once."""
    try:
        return create_reports(api, LISTINGS_REPORT_TYPE, settings.marketplace_ids)
    except AmazonUnreachable:
        raise
    except AmazonApiError as exc:
        return RequestedReports(LISTINGS_REPORT_TYPE, {}, error=exc)


def fetch_listings(
    api: SpApi,
    settings: AmazonSettings,
    requested: RequestedReports,
    sleep: Callable[[float], None] | None = None,
) -> list[dict[str, Any]]:
    """Every listing of the `requested` reports, once they are DONE (every marketplace's, in order)."""
    reports = wait_for_reports(api, requested, settings.report_polling, sleep)
    rows: list[dict[str, Any]] = []
    for code, report in reports.items():
        if report is None:  # CANCELLED: Amazon had no listings to report
            continue
        text = decode_report(download_report(api, report))
        rows += parse_listings(text, code, settings.marketplace_ids[code], report)
    return rows


class _Stopped(Exception):
    """The run ended before the listings were needed."""


class ListingsFetch:
    """`fetch_listings` in a background thread, started as soon as the reports are requested: the
    polls (Amazon takes seconds to minutes to prepare a report) and the downloads overlap the
    orders and inventory loads instead of following them. `rows()` waits for the thread and
    raises its error, so the listings step fails (alone) as if it had fetched them itself."""

    def __init__(self, api: SpApi, settings: AmazonSettings, requested: RequestedReports) -> None:
        self._stopping = threading.Event()
        self._rows: list[dict[str, Any]] = []
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._fetch, args=(api, settings, requested), name="listings-fetch", daemon=True
        )
        self._thread.start()

    def _fetch(self, api: SpApi, settings: AmazonSettings, requested: RequestedReports) -> None:
        try:
            self._rows = fetch_listings(api, settings, requested, self._sleep)
        except BaseException as exc:  # raised by rows(), in the listings step
            self._error = exc

    def _sleep(self, seconds: float) -> None:
        if self._stopping.wait(seconds):
            raise _Stopped

    def rows(self) -> list[dict[str, Any]]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._rows

    def stop(self) -> None:
        """End the thread at its next wait (the run ended early, or is done)."""
        self._stopping.set()
        self._thread.join()


def listings_items_resource(
    api: SpApi, settings: AmazonSettings, requested: RequestedReports | ListingsFetch | None = None
) -> DltResource:
    """The listings of the reports `requested` earlier (`request_listings`; being read already when
    a `ListingsFetch`), or asked for now."""
    columns = copy.deepcopy(LISTING_COLUMNS)

    @dlt.resource(
        name="listings_items",
        primary_key=("marketplace_id", "seller_sku"),
        merge_key="marketplace_id",
        write_disposition="merge",
        columns=columns,
    )
    def listings_items() -> Iterator[Any]:
        if isinstance(requested, ListingsFetch):
            rows = requested.rows()
        else:
            rows = fetch_listings(api, settings, requested or request_listings(api, settings))
        yield rows if rows else empty_table(columns)  # one list: dlt handles it in one go

    return listings_items


def parse_listings(text: str, code: str, marketplace_id: str, report: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of one marketplace's listings report; ListingsReportError on anything unreadable."""
    name = f"listings report {report.get('reportId')} ({code})"
    lines = list(csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))
    lines = [line for line in lines if any(cell.strip() for cell in line)]
    if not lines:
        return []
    header = [h.strip().lower() for h in lines[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ListingsReportError(f"{name}: header lacks column(s) {', '.join(missing)}")
    at = {column: header.index(column) for column in REQUIRED}
    records = []
    for number, line in enumerate(lines[1:], start=2):
        if len(line) > len(header):
            raise ListingsReportError(
                f"{name} row {number}: {len(line)} fields, the header has {len(header)}"
            )
        records.append((number, {c: (line[i].strip() if i < len(line) else "") for c, i in at.items()}))

    mark = _decimal_mark(name, code, records)
    updated = parse_time(report.get("processingEndTime") or report.get("createdTime"))
    return [_row(name, number, record, mark, marketplace_id, updated) for number, record in records]


def _decimal_mark(name: str, code: str, records: list[tuple[int, dict[str, str]]]) -> str:
    """The marketplace's mark, unless only the other one reads every price of the file."""
    marks = (",", ".") if code in DECIMAL_COMMA_MARKETPLACES else (".", ",")
    prices = [(n, r["price"]) for n, r in records if r["price"]]
    for mark in marks:
        if all(fmt.parse_amount(p, mark) is not None for _, p in prices):
            return mark
    number, price = next((n, p) for n, p in prices if fmt.parse_amount(p, marks[0]) is None)
    raise ListingsReportError(f"{name} row {number}, field price: {price!r} is not an amount")


def _row(
    name: str, number: int, record: dict[str, str], mark: str, marketplace_id: str, updated: datetime | None
) -> dict[str, Any]:
    sku = record["seller-sku"]
    if not sku:
        raise ListingsReportError(f"{name} row {number}, field seller-sku: empty")
    quantity = record["quantity"]
    if quantity and not quantity.isdigit():
        raise ListingsReportError(f"{name} row {number}, field quantity: {quantity!r} is not a whole number")
    channel = record["fulfillment-channel"].upper()
    price: Decimal | None = fmt.parse_amount(record["price"], mark) if record["price"] else None
    return {
        "marketplace_id": marketplace_id,
        "seller_sku": sku,
        "asin": record["asin1"] or None,
        "fulfillment_channel": "MFN"
        if channel in ("DEFAULT", "")
        else "AFN"
        if channel.startswith("AMAZON")
        else channel,
        "quantity": int(quantity) if quantity else None,
        "price_amount": price,
        "currency": MARKETPLACE_CURRENCY.get(marketplace_id),
        "status": record["status"] or None,
        "last_updated_at": updated,
    }
