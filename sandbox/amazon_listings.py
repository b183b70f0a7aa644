"""Listings state of the sandbox seller and the JSON Patch logic shared by the Listings Items API
(`PATCH /listings/2021-08-01/items/{sellerId}/{sku}`) and `JSON_LISTINGS_FEED` feeds.

Both take the same patch objects (`{"op": "replace", "path": "/attributes/fulfillment_availability",
"value": [...]}`), so one implementation validates and applies them. A message or request is applied
all-or-nothing: any ERROR issue leaves the listing untouched. Issue codes are the sandbox's own
descriptive codes (Amazon's numeric codes are undocumented for these cases), except 99022, which the
processing-report example uses for a purchasable offer without a price.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

TOP_LEVEL_PATH = re.compile(r"^/attributes/(?P<name>[A-Za-z0-9_]+)$")
PATCH_OPS = {"add", "replace", "merge", "delete"}
OPERATION_TYPES = {"UPDATE", "PARTIAL_UPDATE", "PATCH", "DELETE"}


@dataclass
class Issue:
    code: str
    message: str
    attribute: str | None = None
    severity: str = "ERROR"
    category: str = "INVALID_ATTRIBUTE"

    def for_listings_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message, "severity": self.severity}
        if self.attribute:
            out["attributeNames"] = [self.attribute]
        out["categories"] = [self.category] if self.category else []
        return out

    def for_feed_report(self, message_id: Any, sku: Any) -> dict[str, Any]:
        out = {
            "messageId": message_id,
            "sku": sku,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
        }
        if self.attribute:
            out["attributeName"] = self.attribute
        return out


@dataclass
class ListingsStore:
    """Listing rows (one per SKU and marketplace) as the generator makes them, plus patch history."""

    rows: list[dict]
    currency_of: dict[str, str]  # marketplace id -> currency
    submissions: list[dict] = field(default_factory=list)

    def find(self, sku: str, marketplace_ids: list[str]) -> list[dict]:
        return [r for r in self.rows if r["sku"] == sku and r["marketplace_id"] in marketplace_ids]

    # -- patches ---------------------------------------------------------------------------------
    def apply(
        self, sku: str, marketplace_ids: list[str], patches: Any, now: str, preview: bool = False
    ) -> list[Issue]:
        """Validate `patches` for `sku` in `marketplace_ids`; apply them unless an ERROR or `preview`."""
        rows = self.find(sku, marketplace_ids)
        if not rows:
            return [
                Issue(
                    "SKU_NOT_FOUND",
                    f"SKU '{sku}' has no listing in marketplace(s) {', '.join(marketplace_ids)}.",
                    category="MISSING_LISTING",
                )
            ]
        if not isinstance(patches, list) or not patches:
            return [Issue("INVALID_PATCH", "'patches' must be a non-empty array of JSON Patch operations.")]
        changes: list[tuple[str, str, Any]] = []
        issues: list[Issue] = []
        for index, patch in enumerate(patches):
            problem = _check_patch(patch, index)
            if problem:
                issues.append(problem)
                continue
            name = TOP_LEVEL_PATH.match(patch["path"])["name"]
            value = patch.get("value")
            if patch["op"] != "delete":
                issues.extend(_check_value(name, value, rows, self.currency_of))
            changes.append((patch["op"], name, value))
        if any(i.severity == "ERROR" for i in issues) or preview:
            return issues
        for op, name, value in changes:
            for row in rows:
                _apply_change(row, op, name, value)
                row["updated_at"] = now
        return issues

    # -- JSON_LISTINGS_FEED ----------------------------------------------------------------------
    def process_feed(
        self, document: bytes, seller_id: str, feed_id: str, marketplace_ids: list[str], now: str
    ) -> dict:
        """Apply a JSON_LISTINGS_FEED document; return its processing report (schema v2)."""
        header = {"sellerId": seller_id, "version": "2.0", "feedId": feed_id}
        try:
            feed = json.loads(document.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            return fatal_report(header, f"The feed document is not valid UTF-8 JSON: {exc}")
        if not isinstance(feed, dict) or not isinstance(feed.get("messages"), list):
            return fatal_report(header, "The feed document needs a 'header' object and a 'messages' array.")
        feed_header = feed.get("header") or {}
        if feed_header.get("version") != "2.0":
            return fatal_report(header, 'header.version must be "2.0".')
        if feed_header.get("sellerId") != seller_id:
            return fatal_report(
                header, f"header.sellerId {feed_header.get('sellerId')!r} is not this seller."
            )
        issues: list[dict] = []
        accepted = invalid = 0
        seen: set[Any] = set()
        for message in feed["messages"]:
            message_id = message.get("messageId") if isinstance(message, dict) else None
            sku = message.get("sku") if isinstance(message, dict) else None
            problems = self._message(message, message_id, sku, seen, marketplace_ids, now)
            seen.add(message_id)
            issues.extend(p.for_feed_report(message_id, sku) for p in problems)
            if any(p.severity == "ERROR" for p in problems):
                invalid += 1
            else:
                accepted += 1
        errors = sum(1 for i in issues if i["severity"] == "ERROR")
        return {
            "header": header,
            "issues": issues,
            "summary": {
                "errors": errors,
                "warnings": sum(1 for i in issues if i["severity"] == "WARNING"),
                "messagesProcessed": accepted + invalid,
                "messagesAccepted": accepted,
                "messagesInvalid": invalid,
            },
        }

    def _message(
        self, message: Any, message_id: Any, sku: Any, seen: set, marketplace_ids: list[str], now: str
    ) -> list[Issue]:
        if not isinstance(message, dict):
            return [Issue("INVALID_MESSAGE", "Each message must be a JSON object.")]
        if not isinstance(message_id, int) or isinstance(message_id, bool) or message_id < 1:
            return [Issue("INVALID_MESSAGE", "'messageId' must be an integer of at least 1.")]
        if message_id in seen:
            return [Issue("INVALID_MESSAGE", f"messageId {message_id} is used more than once in this feed.")]
        if not isinstance(sku, str) or not sku:
            return [Issue("INVALID_MESSAGE", "'sku' is required.")]
        operation = message.get("operationType")
        if operation not in OPERATION_TYPES:
            return [Issue("INVALID_MESSAGE", f"'operationType' must be one of {sorted(OPERATION_TYPES)}.")]
        if operation in {"UPDATE", "DELETE"}:
            return [Issue("UNSUPPORTED_OPERATION", f"The sandbox does not process {operation} messages.")]
        if not message.get("productType"):
            return [Issue("INVALID_MESSAGE", f"'productType' is required for {operation} messages.")]
        if operation == "PATCH":
            if "attributes" in message:
                return [Issue("INVALID_MESSAGE", "PATCH messages take 'patches', not 'attributes'.")]
            patches = message.get("patches")
        else:  # PARTIAL_UPDATE: the given attributes replace the current ones
            attributes = message.get("attributes")
            if not isinstance(attributes, dict) or not attributes or "patches" in message:
                return [
                    Issue("INVALID_MESSAGE", "PARTIAL_UPDATE messages need a non-empty 'attributes' object.")
                ]
            patches = [
                {"op": "replace", "path": f"/attributes/{k}", "value": v} for k, v in attributes.items()
            ]
        issues = self.apply(sku, marketplace_ids, patches, now)
        self.submissions.append(
            {
                "source": "feed",
                "sku": sku,
                "messageId": message_id,
                "operationType": operation,
                "accepted": not any(i.severity == "ERROR" for i in issues),
                "at": now,
            }
        )
        return issues


def fatal_report(header: dict, message: str, code: str = "INVALID_FEED") -> dict:
    """A processing report for a feed that could not be read at all (status FATAL)."""
    return {
        "header": header,
        "issues": [{"messageId": 0, "code": code, "severity": "ERROR", "message": message}],
        "summary": {
            "errors": 1,
            "warnings": 0,
            "messagesProcessed": 0,
            "messagesAccepted": 0,
            "messagesInvalid": 0,
        },
    }


def _check_patch(patch: Any, index: int) -> Issue | None:
    if not isinstance(patch, dict) or "op" not in patch or "path" not in patch:
        return Issue("INVALID_PATCH", f"Patch {index + 1} needs 'op' and 'path'.")
    if patch["op"] not in PATCH_OPS:
        return Issue(
            "INVALID_PATCH", f"Patch {index + 1}: op {patch['op']!r} is not one of {sorted(PATCH_OPS)}."
        )
    if not isinstance(patch["path"], str) or not TOP_LEVEL_PATH.match(patch["path"]):
        return Issue(
            "INVALID_PATCH",
            f"Patch {index + 1}: path {patch['path']!r} is not a top-level attribute; only top-level listings "
            "item attributes can be patched (e.g. /attributes/fulfillment_availability).",
        )
    if patch["op"] != "delete" and (not isinstance(patch.get("value"), list) or not patch["value"]):
        return Issue("INVALID_PATCH", f"Patch {index + 1}: 'value' must be a non-empty array.")
    return None


def _check_value(name: str, value: list, rows: list[dict], currency_of: dict[str, str]) -> list[Issue]:
    if not all(isinstance(v, dict) for v in value):
        return [Issue("INVALID_ATTRIBUTE", f"Every value of '{name}' must be an object.", name)]
    if name == "fulfillment_availability":
        issues = []
        for v in value:
            code = v.get("fulfillment_channel_code")
            if code != "DEFAULT":
                issues.append(
                    Issue(
                        "INVALID_ATTRIBUTE",
                        f"fulfillment_channel_code {code!r} cannot be set: only DEFAULT (seller-fulfilled) "
                        "quantity is editable; Amazon manages FBA quantity.",
                        "fulfillment_availability.fulfillment_channel_code",
                    )
                )
                continue
            quantity = v.get("quantity")
            if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
                issues.append(
                    Issue(
                        "INVALID_ATTRIBUTE",
                        f"fulfillment_availability.quantity must be a whole number of at least 0, not {quantity!r}.",
                        "fulfillment_availability.quantity",
                    )
                )
        return issues
    if name == "purchasable_offer":
        issues = []
        listed = {r["marketplace_id"] for r in rows}
        for v in value:
            mid = v.get("marketplace_id")
            if mid is not None and mid not in listed:
                issues.append(
                    Issue(
                        "INVALID_ATTRIBUTE",
                        f"The SKU is not listed in marketplace {mid!r}.",
                        "purchasable_offer.marketplace_id",
                    )
                )
                continue
            for target in [mid] if mid else sorted(listed):
                if v.get("currency") != currency_of.get(target):
                    issues.append(
                        Issue(
                            "INVALID_ATTRIBUTE",
                            f"purchasable_offer.currency {v.get('currency')!r} does not match marketplace "
                            f"{target} ({currency_of.get(target)}).",
                            "purchasable_offer.currency",
                        )
                    )
            if _offer_price(v) is None:
                issues.append(
                    Issue(
                        "99022",
                        "The field 'prices' for the attribute 'purchasable_offer.our_price' does not have enough "
                        "values. The required minimum is '1' value(s) with a positive value_with_tax.",
                        "purchasable_offer.our_price",
                    )
                )
        return issues
    return []


def _offer_price(offer: dict) -> Decimal | None:
    try:
        raw = offer["our_price"][0]["schedule"][0]["value_with_tax"]
    except (KeyError, IndexError, TypeError):
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        return None
    try:
        price = Decimal(str(raw))
    except InvalidOperation:
        return None
    return price.quantize(Decimal("0.01")) if price.is_finite() and price > 0 else None


def _apply_change(row: dict, op: str, name: str, value: list | None) -> None:
    if name == "fulfillment_availability":
        if op == "delete":
            row["quantity"] = 0
        else:
            row["quantity"] = next(
                v["quantity"] for v in value if v.get("fulfillment_channel_code") == "DEFAULT"
            )
    elif name == "purchasable_offer":
        if op == "delete":
            row["price"] = None
            row["status"] = []
            return
        for v in value:
            if v.get("marketplace_id") in (None, row["marketplace_id"]) and v.get("audience", "ALL") == "ALL":
                row["price"] = _offer_price(v)
                if not row.get("status"):
                    row["status"] = ["BUYABLE"]
    else:
        attributes = row.setdefault("attributes", {})
        if op == "delete":
            attributes.pop(name, None)
        else:
            attributes[name] = value
