"""Reports 2021-06-30 and Feeds 2021-06-30 of the SP-API sandbox, and the pre-signed document URLs.

Settlement reports exist from the start (one per generated settlement, DONE, gzip V2 flat file built on
first download); they are listed for 90 days after creation and cannot be requested. Requested
reports and feeds go IN_QUEUE -> IN_PROGRESS (first poll) -> DONE (second poll, or once
`processing_seconds` passed). Document URLs point at this server (`/_documents/<id>?expires=&sig=`),
are HMAC-signed for one method, and answer 403 like S3 once expired.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import io
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sandbox.amazon_common import ApiError, csv, decode_token, encode_token, json_body, parse_time, s3_error
from sandbox.amazon_listings import fatal_report
from sandbox.amazon_shapes import iso
from sandbox.http import Request, Response, json_response

SETTLEMENT_REPORT_TYPES = {
    "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2",
    "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE",
    "GET_V2_SETTLEMENT_REPORT_DATA_XML",
}
LISTING_REPORT_TYPES = {
    "GET_MERCHANT_LISTINGS_ALL_DATA",
    "GET_MERCHANT_LISTINGS_DATA",
    "GET_FLAT_FILE_OPEN_LISTINGS_DATA",
}
REPORT_RETENTION = timedelta(days=90)
REGION = {"US": "na", "CA": "na", "UK": "eu", "DE": "eu", "AU": "fe"}
TERMINAL = {"DONE", "CANCELLED", "FATAL"}


@dataclass
class Document:
    """A report/feed document behind a pre-signed URL. `content` None = not uploaded / not built yet."""

    document_id: str
    content_type: str
    content: bytes | None = None
    compression: str | None = None
    build: Callable[[], bytes] | None = None  # lazily renders a report document

    def body(self) -> bytes | None:
        if self.content is None and self.build is not None:
            raw = self.build()
            self.content = gzip.compress(raw, mtime=0) if self.compression == "GZIP" else raw
        return self.content


class DocumentsMixin:
    """Mixed into AmazonSandbox; uses its `documents`, `reports`, `feeds`, `listings`, `lock`, `clock`."""

    documents: dict[str, Document]
    reports: dict[str, dict]
    feeds: dict[str, dict]

    # -- pre-signed documents --------------------------------------------------------------------
    def _sign(self, method: str, document_id: str, expires: int) -> str:
        message = f"{method}\n{document_id}\n{expires}".encode()
        return hmac.new(self._signing_key, message, hashlib.sha256).hexdigest()

    def presigned_url(self, request: Request, document_id: str, method: str = "GET") -> str:
        expires = int(self.clock() + self.document_url_ttl)
        sig = self._sign(method, document_id, expires)
        return f"{request.base_url}/_documents/{document_id}?expires={expires}&sig={sig}"

    def _check_signature(self, request: Request) -> tuple[Document | None, Response | None]:
        document_id = request.params["document_id"]
        try:
            expires = int(request.arg("expires") or "")
        except ValueError:
            return None, s3_error(
                403, "AccessDenied", "Query-string authentication requires expires and sig."
            )
        expected = self._sign(request.method, document_id, expires)
        if not hmac.compare_digest(expected.encode(), (request.arg("sig") or "").encode()):
            return None, s3_error(
                403, "SignatureDoesNotMatch", "The request signature we calculated does not match."
            )
        if self.clock() > expires:
            return None, s3_error(403, "AccessDenied", "Request has expired")
        document = self.documents.get(document_id)
        if document is None:
            return None, s3_error(404, "NoSuchKey", "The specified key does not exist.")
        return document, None

    def _download(self, request: Request) -> Response:
        with self.lock:
            document, error = self._check_signature(request)
            if error is not None:
                return error
            body = document.body()
        if body is None:
            return s3_error(404, "NoSuchKey", "The specified key does not exist.")
        # No charset, as Amazon's S3 documents: clients must know the encoding.
        return Response(200, body, {"Content-Type": document.content_type})

    def _upload(self, request: Request) -> Response:
        with self.lock:
            document, error = self._check_signature(request)
            if error is not None:
                return error
            sent = request.headers.get("content-type", "")
            if sent.replace(" ", "").lower() != document.content_type.replace(" ", "").lower():
                return s3_error(
                    403,
                    "SignatureDoesNotMatch",
                    f"Content-Type {sent!r} differs from the {document.content_type!r} the upload URL was created for.",
                )
            document.content = request.body
        return Response(200, b"", {"ETag": '"' + hashlib.md5(request.body).hexdigest() + '"'})

    # -- Reports ---------------------------------------------------------------------------------
    def _add_settlement_report(self, settlement: dict) -> None:
        from sandbox.generator import write_settlement_v2

        code = settlement["marketplace_code"]
        document_id = f"amzn1.spdoc.1.4.{REGION.get(code, 'na')}.{uuid.uuid5(uuid.NAMESPACE_URL, str(settlement['report_id']))}"

        def build(settlement: dict = settlement) -> bytes:
            buffer = io.BytesIO()
            write_settlement_v2(settlement, buffer, encoding=self.document_encoding)
            return buffer.getvalue()

        self.documents[document_id] = Document(document_id, "text/plain", compression="GZIP", build=build)
        created = settlement["created_at"].replace(microsecond=0)
        self.reports[str(settlement["report_id"])] = {
            "reportType": "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2",
            "reportId": str(settlement["report_id"]),
            "marketplaceIds": [self.marketplaces[code].marketplace_id],
            "dataStartTime": settlement["start_at"],
            "dataEndTime": settlement["end_at"],
            "createdTime": created,
            "processingStatus": "DONE",
            "processingStartTime": created,
            "processingEndTime": created + timedelta(seconds=42),
            "reportDocumentId": document_id,
        }

    @staticmethod
    def report_json(report: dict) -> dict[str, Any]:
        return {
            k: iso(v) if isinstance(v, datetime) else v
            for k, v in report.items()
            if not k.startswith("_") and v is not None
        }

    def get_reports(self, request: Request) -> Response:
        token = request.arg("nextToken")
        if token:  # "include this token as the only parameter": the other parameters are ignored
            state = decode_token(token, "reports")
        else:
            types = csv(request, "reportTypes")
            if not types:
                raise ApiError(400, "InvalidInput", "Either reportTypes or nextToken is required.")
            statuses = csv(request, "processingStatuses")
            bad = [s for s in statuses if s not in {"CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE"}]
            if bad:
                raise ApiError(400, "InvalidInput", f"Invalid processingStatuses value {bad[0]!r}.")
            try:
                size = int(request.arg("pageSize") or 10)
            except ValueError:
                size = 0
            if not 1 <= size <= 100:
                raise ApiError(400, "InvalidInput", "pageSize must be between 1 and 100.")
            now = self.now()
            since = (
                parse_time(request.arg("createdSince"), "createdSince")
                if request.arg("createdSince")
                else now - REPORT_RETENTION
            )
            until = (
                parse_time(request.arg("createdUntil"), "createdUntil")
                if request.arg("createdUntil")
                else now
            )
            state = {
                "types": types,
                "statuses": statuses,
                "marketplaces": csv(request, "marketplaceIds"),
                "since": iso(max(since, now - REPORT_RETENTION)),
                "until": iso(min(until, now)),
                "size": size,
                "after": None,
            }
        since, until = parse_time(state["since"], "createdSince"), parse_time(state["until"], "createdUntil")
        rows = []
        for report in self.reports.values():
            if report["reportType"] not in state["types"] or not since <= report["createdTime"] <= until:
                continue
            if state["statuses"] and report["processingStatus"] not in state["statuses"]:
                continue
            # Amazon ignores marketplaceIds for settlement reports: one call returns every marketplace.
            if (
                state["marketplaces"]
                and report["reportType"] not in SETTLEMENT_REPORT_TYPES
                and not set(state["marketplaces"]) & set(report["marketplaceIds"])
            ):
                continue
            rows.append(report)
        rows.sort(key=lambda r: (r["createdTime"], r["reportId"]), reverse=True)  # newest first
        if state["after"]:
            after = (parse_time(state["after"][0], "nextToken"), state["after"][1])
            rows = [r for r in rows if (r["createdTime"], r["reportId"]) < after]
        page = rows[: state["size"]]
        body: dict[str, Any] = {"reports": [self.report_json(r) for r in page]}
        if len(rows) > len(page):
            state = {**state, "after": [iso(page[-1]["createdTime"]), page[-1]["reportId"]]}
            body["nextToken"] = encode_token("reports", state)
        return json_response(body)

    def get_report(self, request: Request) -> Response:
        report = self.reports.get(request.params["reportId"])
        if report is None:
            raise ApiError(404, "NotFound", f"Report {request.params['reportId']} was not found.")
        self._step_job(report, poll=True)
        return json_response(self.report_json(report))

    def create_report(self, request: Request) -> Response:
        spec = json_body(request)
        report_type = spec.get("reportType")
        marketplaces = spec.get("marketplaceIds")
        if (
            not isinstance(report_type, str)
            or not report_type
            or not isinstance(marketplaces, list)
            or not marketplaces
        ):
            raise ApiError(400, "InvalidInput", "reportType and marketplaceIds are required.")
        if report_type in SETTLEMENT_REPORT_TYPES:
            raise ApiError(
                400, "InvalidInput", f"Request for report type {report_type} is not allowed at this time."
            )
        if not re.fullmatch(r"GET_[A-Z0-9_]+", report_type):
            raise ApiError(400, "InvalidInput", f"Invalid report type {report_type}.")
        unknown = [m for m in marketplaces if m not in self.code_of]
        if unknown:
            raise ApiError(400, "InvalidInput", f"Invalid marketplaceId {unknown[0]}.")
        report_id = self._next_id(90_000_000_000)
        self.reports[report_id] = {
            "reportType": report_type,
            "reportId": report_id,
            "marketplaceIds": marketplaces,
            "dataStartTime": parse_time(spec["dataStartTime"], "dataStartTime")
            if spec.get("dataStartTime")
            else None,
            "dataEndTime": parse_time(spec["dataEndTime"], "dataEndTime")
            if spec.get("dataEndTime")
            else None,
            "createdTime": self.now(),
            "processingStatus": "IN_QUEUE",
            "_kind": "report",
            "_polls": 0,
        }
        return json_response({"reportId": report_id}, 202)

    def _listings_report(self, marketplace_ids: list[str]) -> bytes:
        header = [
            "item-name",
            "listing-id",
            "seller-sku",
            "price",
            "quantity",
            "open-date",
            "product-id-type",
            "item-condition",
            "asin1",
            "product-id",
            "fulfillment-channel",
            "status",
        ]
        lines = ["\t".join(header)]
        for n, r in enumerate(self.listings.rows):
            if r["marketplace_id"] in marketplace_ids:
                lines.append(
                    "\t".join(
                        [
                            r.get("title") or "",
                            f"LB{n:08d}",
                            r["sku"],
                            "" if r.get("price") is None else str(r["price"]),
                            str(r.get("quantity") or 0),
                            str(r.get("created_at") or ""),
                            "1",
                            "11",
                            r.get("asin") or "",
                            r.get("asin") or "",
                            "DEFAULT",
                            "Active" if r.get("status") else "Inactive",
                        ]
                    )
                )
        return ("\n".join(lines) + "\n").encode(self.document_encoding)

    def get_report_document(self, request: Request) -> Response:
        document_id = request.params["reportDocumentId"]
        document = self.documents.get(document_id)
        if document is None or not any(
            r.get("reportDocumentId") == document_id for r in self.reports.values()
        ):
            raise ApiError(404, "NotFound", f"Report document {document_id} was not found.")
        body = {"reportDocumentId": document_id, "url": self.presigned_url(request, document_id)}
        if document.compression:
            body["compressionAlgorithm"] = document.compression
        return json_response(body)

    # -- Feeds -----------------------------------------------------------------------------------
    def create_feed_document(self, request: Request) -> Response:
        content_type = json_body(request).get("contentType")
        if not isinstance(content_type, str) or not content_type:
            raise ApiError(400, "InvalidInput", "contentType is required.")
        document_id = f"amzn1.tortuga.4.na.{uuid.uuid4()}"
        self.documents[document_id] = Document(document_id, content_type)
        return json_response(
            {"feedDocumentId": document_id, "url": self.presigned_url(request, document_id, "PUT")}, 201
        )

    def create_feed(self, request: Request) -> Response:
        spec = json_body(request)
        feed_type, marketplaces, input_id = (
            spec.get("feedType"),
            spec.get("marketplaceIds"),
            spec.get("inputFeedDocumentId"),
        )
        if not feed_type or not isinstance(marketplaces, list) or not marketplaces or not input_id:
            raise ApiError(
                400, "InvalidInput", "feedType, marketplaceIds and inputFeedDocumentId are required."
            )
        unknown = [m for m in marketplaces if m not in self.code_of]
        if unknown:
            raise ApiError(400, "InvalidInput", f"Invalid marketplaceId {unknown[0]}.")
        if input_id not in self.documents:
            raise ApiError(400, "InvalidInput", f"Invalid inputFeedDocumentId {input_id}.")
        feed_id = self._next_id(50_000_000_000)
        self.feeds[feed_id] = {
            "feedId": feed_id,
            "feedType": feed_type,
            "marketplaceIds": marketplaces,
            "createdTime": self.now(),
            "processingStatus": "IN_QUEUE",
            "_kind": "feed",
            "_polls": 0,
            "_input": input_id,
        }
        return json_response({"feedId": feed_id}, 202)

    def get_feed(self, request: Request) -> Response:
        feed = self.feeds.get(request.params["feedId"])
        if feed is None:
            raise ApiError(404, "NotFound", f"Feed {request.params['feedId']} was not found.")
        self._step_job(feed, poll=True)
        return json_response(self.report_json(feed))

    def get_feed_document(self, request: Request) -> Response:
        document_id = request.params["feedDocumentId"]
        document = self.documents.get(document_id)
        if document is None or document_id.startswith("amzn1.spdoc."):
            raise ApiError(404, "NotFound", f"Feed document {document_id} was not found.")
        body = {"feedDocumentId": document_id, "url": self.presigned_url(request, document_id)}
        if document.compression:
            body["compressionAlgorithm"] = document.compression
        return json_response(body)

    # -- report / feed processing ----------------------------------------------------------------
    def _advance_jobs(self) -> None:
        """Finish requested reports and feeds whose processing time has passed (called on every API call)."""
        for job in [*self.reports.values(), *self.feeds.values()]:
            if job.get("_kind") and job["processingStatus"] not in TERMINAL:
                self._step_job(job, poll=False)

    def _step_job(self, job: dict, poll: bool) -> None:
        """IN_QUEUE -> IN_PROGRESS on the first poll -> DONE on the second, or once processing_seconds passed."""
        if not job.get("_kind") or job["processingStatus"] in TERMINAL:
            return
        job["_polls"] += poll
        elapsed = (self.now() - job["createdTime"]).total_seconds()
        if job["_polls"] >= 2 or elapsed >= self.processing_seconds:
            job.setdefault("processingStartTime", self.now())
            job["processingEndTime"] = self.now()
            self._finish_report(job) if job["_kind"] == "report" else self._finish_feed(job)
        elif job["_polls"] >= 1:
            job["processingStatus"] = "IN_PROGRESS"
            job.setdefault("processingStartTime", self.now())

    def _finish_report(self, report: dict) -> None:
        if report["reportType"] not in LISTING_REPORT_TYPES:
            report["processingStatus"] = "CANCELLED"  # what Amazon says when a report has no data
            return
        document_id = f"amzn1.spdoc.1.4.na.{uuid.uuid4()}"
        content = self._listings_report(report["marketplaceIds"])
        self.documents[document_id] = Document(
            document_id, "text/plain", gzip.compress(content, mtime=0), "GZIP"
        )
        report["reportDocumentId"] = document_id
        report["processingStatus"] = "DONE"

    def _finish_feed(self, feed: dict) -> None:
        document = self.documents[feed["_input"]]
        now = iso(self.now())
        header = {"sellerId": self.seller_id, "version": "2.0", "feedId": feed["feedId"]}
        if document.content is None:
            result, status = fatal_report(header, "The feed document was never uploaded."), "FATAL"
        elif feed["feedType"] != "JSON_LISTINGS_FEED":
            message = f"The sandbox processes JSON_LISTINGS_FEED only, not {feed['feedType']}."
            result, status = fatal_report(header, message, "UNSUPPORTED_FEED_TYPE"), "FATAL"
        else:
            result = self.listings.process_feed(
                document.content, self.seller_id, feed["feedId"], feed["marketplaceIds"], now
            )
            status = (
                "FATAL"
                if result["summary"]["messagesProcessed"] == 0 and result["summary"]["errors"]
                else "DONE"
            )
        result_id = f"amzn1.tortuga.4.na.{uuid.uuid4()}"
        content = json.dumps(result).encode("utf-8")
        self.documents[result_id] = Document(
            result_id, "application/json", gzip.compress(content, mtime=0), "GZIP"
        )
        feed["resultFeedDocumentId"] = result_id
        feed["processingStatus"] = status
        feed["_result"] = result
