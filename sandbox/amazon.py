"""The SP-API + Login with Amazon sandbox: one HTTP app that behaves like Amazon for LedgerBridge.

Serves LWA (`POST /auth/o2/token`), Orders v0 and 2026-01-01, FBA Inventory, Reports 2021-06-30
(settlement reports with pre-signed, expiring gzip downloads), Feeds 2021-06-30 (JSON_LISTINGS_FEED)
and Listings Items 2021-08-01 over the generator's seller, with the documented rules that bite real
integrations: access tokens on every call, per-operation token-bucket rate limits (429 QuotaExceeded),
`LastUpdatedBefore` at least two minutes in the past, opaque next tokens, settlement reports listed
only for 90 days and not requestable, document URLs that expire. Amazon's static sandbox examples
(`sandbox/amazon_examples/`) are answered verbatim first, see `sandbox/amazon_static.py`.

Rate limits: `rate_limit_scale` multiplies each operation's documented rate and burst. The default, 50,
keeps a test or demo run of the tiny/small seller unthrottled (getOrders: burst 1000, 0.8 req/s) while
still throwing 429 at a client that hammers; 1 gives Amazon's real quotas and 0 switches limits off.
"""

from __future__ import annotations

import copy
import hmac
import json
import math
import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs, unquote

from sandbox import credentials
from sandbox.amazon_common import (
    ApiError,
    csv,
    decode_token,
    encode_token,
    json_body,
    lwa_error,
    parse_time,
    s3_error,
    sp_error,
)
from sandbox.amazon_documents import Document, DocumentsMixin
from sandbox.amazon_listings import ListingsStore
from sandbox.amazon_orders import OrdersMixin, whole_seconds
from sandbox.amazon_shapes import inventory_summary, iso, listing_item
from sandbox.amazon_static import StaticExample, StaticExamples
from sandbox.http import Faults, Request, Response, SandboxApp, json_response

DEFAULT_RATE_LIMIT_SCALE = 50.0
# (rate per second, burst) per operation, from the "Usage Plan" tables of the models in
# /work/shared/reference/sp-api/models (ordersV0, orders_2026-01-01, fbaInventory, reports, feeds, listingsItems).
RATE_LIMITS: dict[str, tuple[float, int]] = {
    "getOrders": (0.0167, 20),
    "getOrder": (0.5, 30),
    "getOrderItems": (0.5, 30),
    "confirmShipment": (2.0, 10),
    "searchOrders": (0.0056, 20),
    "getOrder2026": (0.5, 30),
    "getInventorySummaries": (2.0, 2),
    "getReports": (0.0222, 10),
    "getReport": (2.0, 15),
    "createReport": (0.0167, 15),
    "getReportDocument": (0.0167, 15),
    "createFeedDocument": (0.5, 15),
    "createFeed": (0.0083, 15),
    "getFeed": (2.0, 15),
    "getFeedDocument": (0.0222, 10),
    "getListingsItem": (5.0, 10),
    "patchListingsItem": (5.0, 5),
}
GRANTLESS_SCOPES = {
    "sellingpartnerapi::notifications",
    "sellingpartnerapi::migration",
    "sellingpartnerapi::client_credential:rotation",
}


@dataclass
class TokenBucket:
    rate: float
    burst: float
    tokens: float
    updated: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class AmazonSandbox(OrdersMixin, DocumentsMixin, SandboxApp):
    """The SP-API + LWA app. Without `seller`, generates the seed-7 "small" seller as of `today`
    (default: the clock's date). `clock` (epoch seconds) drives token and URL expiry, the two-minute
    rule, report/feed processing and rate-limit refills, so tests can move time. `document_url_ttl`
    is the pre-signed URL lifetime (Amazon: 5 minutes); `processing_seconds` how long a requested
    report or feed takes without being polled; `document_encoding` the settlement file bytes (served
    without a charset, like Amazon's: clients must decode knowingly).
    """

    name = "amazon"

    def __init__(
        self,
        seller: Any = None,
        faults: Faults | None = None,
        today: date | None = None,
        clock: Callable[[], float] = time.time,
        rate_limit_scale: float = DEFAULT_RATE_LIMIT_SCALE,
        document_url_ttl: float = 300.0,
        access_token_ttl: int = 3600,
        processing_seconds: float = 5.0,
        document_encoding: str = "utf-8",
        seller_id: str = credentials.SELLER_ID,
        static_examples: bool = True,
    ) -> None:
        super().__init__(faults)
        from sandbox.generator import MARKETPLACES, generate_seller

        self.clock = clock
        if seller is None:
            seller = generate_seller(seed=7, scale="small", today=today or self.now().date())
        self.seller = seller
        self.marketplaces = MARKETPLACES
        self.code_of = {mp.marketplace_id: code for code, mp in MARKETPLACES.items()}
        self.seller_id = seller_id
        self.rate_limit_scale = rate_limit_scale
        self.document_url_ttl = document_url_ttl
        self.access_token_ttl = access_token_ttl
        self.processing_seconds = processing_seconds
        self.document_encoding = document_encoding
        self.order_items_page_size = 100
        self.inventory_page_size = 50
        self.inventory_token_ttl = 30.0  # "nextToken expires 30 seconds after creation" (fbaInventory.json)
        self.static = StaticExamples() if static_examples else None
        self.refresh_tokens = {credentials.REFRESH_TOKEN}
        self.access_tokens: dict[str, tuple[float, str]] = {}  # token -> (expires at, "seller"|"grantless")
        self._signing_key = secrets.token_bytes(32)
        self._error_count = 0
        self._serial = 0
        self.buckets: dict[str, TokenBucket] = {}
        for operation, (rate, burst) in RATE_LIMITS.items():
            scaled_burst = max(1, math.ceil(burst * rate_limit_scale))
            self.buckets[operation] = TokenBucket(
                rate * rate_limit_scale, scaled_burst, scaled_burst, clock()
            )

        self.orders: dict[str, dict] = {o["order_id"]: whole_seconds(copy.deepcopy(o)) for o in seller.orders}
        self._index_orders()
        self.shipment_confirmations: list[dict] = []
        self.inventory = self._latest_inventory(seller.inventory)
        created = iso(getattr(seller, "start_date", None) or self.now())
        updated = iso(getattr(seller, "now", None) or self.now())
        rows = []
        for row in copy.deepcopy(seller.listings):
            row.setdefault("marketplace_id", MARKETPLACES[row["marketplace_code"]].marketplace_id)
            row.setdefault("created_at", created)
            row.setdefault("updated_at", updated)
            rows.append(row)
        self.listings = ListingsStore(rows, {mp.marketplace_id: mp.currency for mp in MARKETPLACES.values()})
        self.documents: dict[str, Document] = {}
        self.reports: dict[str, dict] = {}
        self.feeds: dict[str, dict] = {}
        for settlement in seller.settlements:
            self._add_settlement_report(settlement)
        self._register_routes()

    # -- clock, ids ----------------------------------------------------------------------------
    def now(self) -> datetime:
        """The sandbox clock, to the second: every timestamp the API shows is whole seconds."""
        return datetime.fromtimestamp(int(self.clock()), UTC)

    def _next_id(self, base: int) -> str:
        self._serial += 1
        return str(base + self._serial)

    # -- routing -------------------------------------------------------------------------------
    def _register_routes(self) -> None:
        self.route("POST", r"/auth/o2/token", self._lwa_token)
        self.route("GET", r"/_documents/(?P<document_id>[^/]+)", self._download)
        self.route("PUT", r"/_documents/(?P<document_id>[^/]+)", self._upload)
        api = self._api
        api("GET", "/orders/v0/orders", "getOrders", self.get_orders_v0)
        api("GET", "/orders/v0/orders/{orderId}", "getOrder", self.get_order_v0)
        api("GET", "/orders/v0/orders/{orderId}/orderItems", "getOrderItems", self.get_order_items_v0)
        api(
            "POST",
            "/orders/v0/orders/{orderId}/shipmentConfirmation",
            "confirmShipment",
            self.confirm_shipment,
        )
        api("GET", "/orders/2026-01-01/orders", "searchOrders", self.search_orders)
        api("GET", "/orders/2026-01-01/orders/{orderId}", "getOrder2026", self.get_order_2026)
        api("GET", "/fba/inventory/v1/summaries", "getInventorySummaries", self.get_inventory_summaries)
        api("GET", "/reports/2021-06-30/reports", "getReports", self.get_reports)
        api("POST", "/reports/2021-06-30/reports", "createReport", self.create_report)
        api("GET", "/reports/2021-06-30/reports/{reportId}", "getReport", self.get_report)
        api(
            "GET",
            "/reports/2021-06-30/documents/{reportDocumentId}",
            "getReportDocument",
            self.get_report_document,
        )
        api("POST", "/feeds/2021-06-30/documents", "createFeedDocument", self.create_feed_document)
        api("GET", "/feeds/2021-06-30/documents/{feedDocumentId}", "getFeedDocument", self.get_feed_document)
        api("POST", "/feeds/2021-06-30/feeds", "createFeed", self.create_feed)
        api("GET", "/feeds/2021-06-30/feeds/{feedId}", "getFeed", self.get_feed)
        api("GET", "/listings/2021-08-01/items/{sellerId}/{sku}", "getListingsItem", self.get_listings_item)
        api(
            "PATCH",
            "/listings/2021-08-01/items/{sellerId}/{sku}",
            "patchListingsItem",
            self.patch_listings_item,
        )

    def _api(
        self, method: str, template: str, operation: str, handler: Callable[[Request], Response]
    ) -> None:
        """Register an SP-API operation: access token, rate limit, static examples, then `handler`."""
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)

        def wrapped(request: Request) -> Response:
            request.params = {k: unquote(v) for k, v in request.params.items()}
            response = self._answer(request, method, template, operation, handler)
            response.headers["x-amzn-RequestId"] = str(uuid.uuid4())
            response.headers["x-amzn-RateLimit-Limit"] = self.rate_limit(operation)
            return response

        self.route(method, pattern, wrapped)

    def _answer(
        self,
        request: Request,
        method: str,
        template: str,
        operation: str,
        handler: Callable[[Request], Response],
    ) -> Response:
        denied = self._check_access_token(request)
        if denied is not None:
            return denied
        with self.lock:
            allowed = self.rate_limit_scale <= 0 or self.buckets[operation].take(self.clock())
        if not allowed:
            return self.throttled_response(request)
        example = self.static.match(method, template, request) if self.static else None
        if example is not None:
            return self.example_response(example)
        try:
            with self.lock:
                self._advance_jobs()
                return handler(request)
        except ApiError as exc:
            return exc.response()

    def rate_limit(self, operation: str) -> str:
        rate = RATE_LIMITS[operation][0] * (self.rate_limit_scale if self.rate_limit_scale > 0 else 1)
        return f"{rate:g}"

    @staticmethod
    def example_response(example: StaticExample) -> Response:
        if example.status == 204 or example.response is None:
            return Response(example.status)
        return json_response(example.response, example.status)

    # -- error formats ---------------------------------------------------------------------------
    def throttled_response(self, request: Request) -> Response:
        if request.path.startswith("/auth/"):
            return lwa_error(429, "temporarily_unavailable", "Too many requests. Try again later.")
        if request.path.startswith("/_documents/"):
            return s3_error(503, "SlowDown", "Please reduce your request rate.")
        return sp_error(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")

    def server_error_response(self, request: Request) -> Response:
        with self.lock:
            self._error_count += 1
            unavailable = self._error_count % 2 == 0
        if request.path.startswith("/auth/"):
            return lwa_error(503 if unavailable else 500, "server_error", "The authorization server failed.")
        if request.path.startswith("/_documents/"):
            return (
                s3_error(503, "ServiceUnavailable", "Service unavailable.")
                if unavailable
                else s3_error(500, "InternalError", "We encountered an internal error. Please try again.")
            )
        if unavailable:
            return sp_error(503, "ServiceUnavailable", "Service temporarily unavailable. Please try again.")
        return sp_error(500, "InternalFailure", "We encountered an internal error. Please try again.")

    # -- LWA -------------------------------------------------------------------------------------
    def _lwa_token(self, request: Request) -> Response:
        if "json" in request.headers.get("content-type", ""):
            try:
                form = {k: str(v) for k, v in (request.json() or {}).items()}
            except (ValueError, AttributeError):
                form = {}
        else:
            form = {k: v[0] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
        grant = form.get("grant_type")
        if grant not in {"refresh_token", "client_credentials"}:
            return lwa_error(400, "unsupported_grant_type", "The authorization grant type is not supported.")
        for name in ("client_id", "client_secret"):
            if not form.get(name):
                return lwa_error(
                    400, "invalid_request", f"The request is missing a required parameter : {name}"
                )
        if not (
            hmac.compare_digest(form["client_id"].encode(), credentials.LWA_CLIENT_ID.encode())
            and hmac.compare_digest(form["client_secret"].encode(), credentials.LWA_CLIENT_SECRET.encode())
        ):
            return lwa_error(401, "invalid_client", "Client authentication failed")
        token = "Atza|" + secrets.token_urlsafe(48)
        if grant == "refresh_token":
            refresh = form.get("refresh_token")
            if not refresh:
                return lwa_error(
                    400, "invalid_request", "The request is missing a required parameter : refresh_token"
                )
            if refresh not in self.refresh_tokens:
                return lwa_error(
                    400, "invalid_grant", "The request has an invalid grant parameter : refresh_token"
                )
            with self.lock:
                self.access_tokens[token] = (self.clock() + self.access_token_ttl, "seller")
            return json_response(
                {
                    "access_token": token,
                    "refresh_token": refresh,
                    "token_type": "bearer",
                    "expires_in": self.access_token_ttl,
                }
            )
        scope = form.get("scope")
        if scope not in GRANTLESS_SCOPES:
            return lwa_error(400, "invalid_scope", "The request has an invalid parameter : scope")
        with self.lock:
            self.access_tokens[token] = (self.clock() + self.access_token_ttl, "grantless")
        return json_response(
            {
                "access_token": token,
                "scope": scope,
                "token_type": "bearer",
                "expires_in": self.access_token_ttl,
            }
        )

    def add_refresh_token(self, refresh_token: str) -> None:
        """Accept another refresh token (as if a second seller authorized the app)."""
        with self.lock:
            self.refresh_tokens.add(refresh_token)

    def _check_access_token(self, request: Request) -> Response | None:
        token = request.headers.get("x-amz-access-token", "")
        with self.lock:
            entry = self.access_tokens.get(token)
        if entry is None or entry[1] != "seller":
            details = "The access token you provided is revoked, malformed or invalid."
        elif entry[0] <= self.clock():
            details = "The access token you provided has expired."
        else:
            return None
        return sp_error(403, "Unauthorized", "Access to requested resource is denied.", details)

    # -- FBA inventory ---------------------------------------------------------------------------
    @staticmethod
    def _latest_inventory(rows: list[dict]) -> list[dict]:
        latest: dict[tuple[str, str], dict] = {}
        for row in rows:
            key = (row["marketplace_code"], row["seller_sku"])
            if key not in latest or row["snapshot_date"] >= latest[key]["snapshot_date"]:
                latest[key] = copy.deepcopy(row)
        return sorted(latest.values(), key=lambda r: (r["marketplace_code"], r["seller_sku"]))

    def get_inventory_summaries(self, request: Request) -> Response:
        token = request.arg("nextToken")
        if token:
            state = decode_token(token, "inventory")
            if self.clock() - state["issued"] > self.inventory_token_ttl:
                raise ApiError(
                    400, "InvalidInput", "The nextToken has expired. Start again without nextToken."
                )
        else:
            state = self._inventory_query(request)
        since = parse_time(state["since"], "startDateTime") if state["since"] else None
        rows = [
            r
            for r in self.inventory
            if r["marketplace_code"] == self.code_of[state["mid"]]
            and (not state["skus"] or r["seller_sku"] in state["skus"])
            and (since is None or r["last_updated_at"] >= since)
        ]
        offset = state["offset"]
        page = rows[offset : offset + self.inventory_page_size]
        body: dict[str, Any] = {
            "payload": {
                "granularity": {"granularityType": "Marketplace", "granularityId": state["mid"]},
                "inventorySummaries": [inventory_summary(r, state["details"]) for r in page],
            }
        }
        if offset + len(page) < len(rows):
            state = {**state, "offset": offset + len(page), "issued": self.clock()}
            body["pagination"] = {"nextToken": encode_token("inventory", state)}
        return json_response(body)

    def _inventory_query(self, request: Request) -> dict[str, Any]:
        if request.arg("granularityType") != "Marketplace":
            raise ApiError(400, "InvalidInput", "granularityType is required and must be Marketplace.")
        mid = request.arg("granularityId")
        if mid not in self.code_of or csv(request, "marketplaceIds") != [mid]:
            raise ApiError(
                400,
                "InvalidInput",
                "granularityId and marketplaceIds must name the same one known marketplace.",
            )
        since = request.arg("startDateTime")
        if since:
            parse_time(since, "startDateTime")
        # sellerSkus are ignored when startDateTime is given (fbaInventory.json).
        skus = [] if since else csv(request, "sellerSkus") or csv(request, "sellerSku")
        if len(skus) > 50:
            raise ApiError(400, "InvalidInput", "sellerSkus accepts at most 50 SKUs.")
        details = (request.arg("details") or "false").lower() == "true"
        return {"mid": mid, "details": details, "since": since, "skus": skus, "offset": 0}

    # -- Listings items --------------------------------------------------------------------------
    def _check_seller(self, request: Request) -> list[str]:
        if request.params["sellerId"] != self.seller_id:
            raise ApiError(
                403,
                "Unauthorized",
                "Access to requested resource is denied.",
                f"The seller id {request.params['sellerId']} is not the seller of this access token.",
            )
        marketplaces = csv(request, "marketplaceIds")
        if not marketplaces:
            raise ApiError(400, "InvalidInput", "marketplaceIds is required.")
        unknown = [m for m in marketplaces if m not in self.code_of]
        if unknown:
            raise ApiError(400, "InvalidInput", f"Invalid marketplaceId {unknown[0]}.")
        return marketplaces

    def get_listings_item(self, request: Request) -> Response:
        marketplaces = self._check_seller(request)
        included = set(csv(request, "includedData") or ["summaries"])
        rows = self.listings.find(request.params["sku"], marketplaces)
        if not rows:
            raise ApiError(
                404,
                "NOT_FOUND",
                f"SKU '{request.params['sku']}' not found in marketplace {','.join(marketplaces)}",
            )
        return json_response(listing_item(request.params["sku"], rows, included))

    def patch_listings_item(self, request: Request) -> Response:
        marketplaces = self._check_seller(request)
        body = json_body(request)
        if not body.get("productType") or "patches" not in body:
            raise ApiError(
                400, "InvalidInput", "The body needs productType and patches (ListingsItemPatchRequest)."
            )
        preview = request.arg("mode") == "VALIDATION_PREVIEW"
        included = set(csv(request, "includedData") or ["issues"])
        sku = request.params["sku"]
        issues = self.listings.apply(sku, marketplaces, body["patches"], iso(self.now()), preview=preview)
        ok = not any(i.severity == "ERROR" for i in issues)
        status = ("VALID" if ok else "INVALID") if preview else ("ACCEPTED" if ok else "INVALID")
        submission_id = str(uuid.uuid4())
        if not preview:
            self.listings.submissions.append(
                {
                    "source": "listingsItems",
                    "sku": sku,
                    "submissionId": submission_id,
                    "accepted": ok,
                    "patches": body["patches"],
                    "marketplaceIds": marketplaces,
                    "at": iso(self.now()),
                }
            )
        out: dict[str, Any] = {"sku": sku, "status": status, "submissionId": submission_id}
        if "issues" in included:
            out["issues"] = [i.for_listings_api() for i in issues]
        if "identifiers" in included:
            out["identifiers"] = [
                {"marketplaceId": r["marketplace_id"], "asin": r["asin"]}
                for r in self.listings.find(sku, marketplaces)
                if r.get("asin")
            ]
        return json_response(out)

    # -- introspection -------------------------------------------------------------------------
    def listing(self, sku: str, marketplace_code: str) -> dict | None:
        mid = self.marketplaces[marketplace_code].marketplace_id
        with self.lock:
            rows = self.listings.find(sku, [mid])
            return copy.deepcopy(rows[0]) if rows else None

    def records(self) -> dict[str, Any]:
        """For `/_sandbox/records`: listings as they are now, confirmed shipments, processed feeds."""
        with self.lock:
            return json.loads(
                json.dumps(
                    {
                        "listings": self.listings.rows,
                        "listing_submissions": self.listings.submissions,
                        "shipment_confirmations": self.shipment_confirmations,
                        "feeds": [
                            {
                                **self.report_json(f),
                                "summary": (f.get("_result") or {}).get("summary"),
                                "issues": (f.get("_result") or {}).get("issues"),
                            }
                            for f in self.feeds.values()
                        ],
                    },
                    default=str,
                )
            )
