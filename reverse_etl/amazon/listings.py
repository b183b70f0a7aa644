"""MFN quantities and prices to Amazon: every changed listing message goes into ONE JSON_LISTINGS_FEED.

Feeds are throttled hard (createFeed ≈ 1 per 2 minutes), so messages are batched per marketplace
into one feed per push: createFeedDocument → upload → createFeed → poll getFeed until DONE (with
a bounded wait) → read the processing report. Each message's ERROR issues fail only that record,
so they show in rpt_exceptions; the rest are pushed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from ingestion.netsuite.client import dumps_json, loads_json
from reverse_etl.state import Outcome

FEED_TYPE = "JSON_LISTINGS_FEED"
CONTENT_TYPE = "application/json; charset=UTF-8"
RECORD_TYPE = "listingsFeedMessage"


@dataclass
class ListingMessage:
    external_id: str
    marketplace_id: str
    message: dict[str, Any]  # without messageId; assigned per feed


def message_of(payload: dict[str, Any], context: dict[str, Any], default_marketplace: str) -> ListingMessage:
    """Split our row into the feed message and the marketplace it is for."""
    message = {k: v for k, v in payload.items() if k not in {"messageId", "marketplaceId"}}
    marketplace = payload.get("marketplaceId") or context.get("marketplace_id") or default_marketplace
    return ListingMessage(context["external_id"], str(marketplace), message)


def feed_document(seller_id: str, messages: list[ListingMessage]) -> dict[str, Any]:
    return {
        "header": {"sellerId": seller_id, "version": "2.0", "issueLocale": "en_US"},
        "messages": [{"messageId": n, **m.message} for n, m in enumerate(messages, start=1)],
    }


def submit(
    spapi: Any,
    seller_id: str,
    marketplace_id: str,
    messages: list[ListingMessage],
    max_wait: float = 300.0,
    poll_every: float = 0.5,
) -> dict[str, Outcome]:
    """Send one feed for one marketplace; return external_id -> outcome."""
    from sp_api.api import Feeds

    feeds = spapi.client(Feeds)
    document = dumps_json(feed_document(seller_id, messages)).encode("utf-8")
    created = spapi.call("createFeedDocument", feeds.create_feed_document, None, CONTENT_TYPE).payload
    spapi.call("uploadFeedDocument", _upload, created["url"], document, spapi.settings.timeout)
    feed_id = spapi.call(
        "createFeed",
        feeds.create_feed,
        FEED_TYPE,
        created["feedDocumentId"],
        marketplaceIds=[marketplace_id],
    ).payload["feedId"]
    deadline = time.monotonic() + max_wait
    while True:
        feed = spapi.call("getFeed", feeds.get_feed, feed_id).payload
        status = feed.get("processingStatus")
        if status in {"DONE", "CANCELLED", "FATAL"} or time.monotonic() >= deadline:
            break
        time.sleep(min(poll_every, max(0.0, deadline - time.monotonic())))
        poll_every = min(poll_every * 1.5, 30.0)  # getFeed allows ~1 call per 7.5 s sustained
    if status != "DONE":
        if status in {"CANCELLED", "FATAL"}:
            return {m.external_id: Outcome("failed", error=f"feed {feed_id} {status}") for m in messages}
        waited = f"feed {feed_id} still {status} after {max_wait:.0f} s; sent again on the next push"
        return {m.external_id: Outcome("pending", error=waited) for m in messages}
    report = spapi.call(
        "getFeedDocument", lambda: loads_json(feeds.get_feed_result_document(feed["resultFeedDocumentId"]))
    )
    return outcomes_from_report(feed_id, messages, report)


def outcomes_from_report(
    feed_id: str, messages: list[ListingMessage], report: dict[str, Any]
) -> dict[str, Outcome]:
    errors: dict[int, list[str]] = {}
    for issue in report.get("issues") or []:
        if str(issue.get("severity", "")).upper() == "ERROR" and issue.get("messageId") is not None:
            text = f"{issue.get('code', 'ERROR')}: {issue.get('message', '')}".strip()
            errors.setdefault(int(issue["messageId"]), []).append(text)
    outcomes = {}
    for number, message in enumerate(messages, start=1):
        if number in errors:
            sku = message.message.get("sku")
            outcomes[message.external_id] = Outcome(
                "failed", error=f"SKU {sku}: " + "; ".join(errors[number])
            )
        else:
            outcomes[message.external_id] = Outcome("pushed", target_id=f"feed:{feed_id}")
    return outcomes


def _upload(url: str, document: bytes, timeout: float) -> None:
    with httpx.Client(timeout=timeout) as http:
        response = http.put(url, content=document, headers={"Content-Type": CONTENT_TYPE})
    if response.status_code >= 400:
        from sp_api.base.exceptions import get_exception_for_code

        error = [{"code": str(response.status_code), "message": response.text[:200]}]
        raise get_exception_for_code(response.status_code)(error, headers=response.headers)
