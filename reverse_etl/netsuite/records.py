"""How one desired record becomes NetSuite requests.

Every type is an upsert by external id (`PUT /record/v1/<type>/eid:<id>`), which NetSuite makes
idempotent. Item fulfillments and invoices are the exception: NetSuite creates them by transforming
the sales order, which is not idempotent, so we look the record up by external id first and
carry the external id in the transform body (the client re-checks before every retry).
"""

from __future__ import annotations

from typing import Any

from ingestion.netsuite.client import REST_PREFIX, NetSuiteClient, NetSuiteError, dumps_json
from reverse_etl.state import Outcome

# Push order: a record's references must exist before it is sent.
TIERS: list[set[str]] = [
    {"customer"},
    {"inventoryItem", "nonInventorySaleItem", "serviceSaleItem", "kitItem", "assemblyItem"},
    {"salesOrder"},
    {"cashSale", "invoice"},
    {"itemFulfillment"},
    {"customerPayment", "creditMemo"},
    {"cashRefund", "customerRefund"},
    {"journalEntry"},
    {"inventoryAdjustment"},
]
DEFAULT_TIER = 3  # an unknown NetSuite type goes with the transactions

# Records NetSuite creates by transforming their parent: type -> parent type. An invoice bills a
# sales order (`salesOrder/{id}/!transform/invoice`), so it carries the order's lines and links.
TRANSFORMED_FROM = {"itemFulfillment": "salesOrder", "invoice": "salesOrder"}


def tier_of(record_type: str) -> int:
    for index, types in enumerate(TIERS):
        if record_type in types:
            return index
    return DEFAULT_TIER


def upsert_path(record_type: str, external_id: str) -> str:
    return f"/record/v1/{record_type}/eid:{external_id}"


def preview(
    record_type: str, external_id: str, body: dict[str, Any], parent_id: str | None, depends_on: str | None
):
    """(method, path, body text) a push would send first, for the dry run."""
    if record_type in TRANSFORMED_FROM:
        parent = parent_id or f"eid:{depends_on}"
        path = f"/record/v1/{TRANSFORMED_FROM[record_type]}/{parent}/!transform/{record_type}"
        return "POST", REST_PREFIX + path, dumps_json({**body, "externalId": external_id})
    return "PUT", REST_PREFIX + upsert_path(record_type, external_id), dumps_json(body)


def push_record(
    client: NetSuiteClient,
    record_type: str,
    external_id: str,
    body: dict[str, Any],
    parent_id: str | None,
    previously_pushed: bool,
) -> Outcome:
    """Send one record; NetSuite's refusal becomes a failed outcome naming its error code."""
    try:
        if record_type in TRANSFORMED_FROM:
            return Outcome(
                "pushed", _transform(client, record_type, external_id, body, parent_id, previously_pushed)
            )
        return Outcome("pushed", client.upsert(record_type, external_id, body))
    except NetSuiteError as exc:
        return Outcome("failed", error=f"{exc.code}: {exc.detail}"[:2000])


def _transform(
    client: NetSuiteClient,
    record_type: str,
    external_id: str,
    body: dict[str, Any],
    parent_id: str | None,
    previously_pushed: bool,
) -> str:
    existing = client.find_by_external_id(record_type, external_id)
    if existing is not None:
        if previously_pushed:  # the payload changed since: update the fulfillment in place
            fields = {k: v for k, v in body.items() if k != "item"}
            if fields:
                client.request("PATCH", f"/record/v1/{record_type}/{existing}", json=fields)
        return existing  # else an earlier, interrupted run already created it
    if parent_id is None:
        raise NetSuiteError(
            0, "PARENT_MISSING", f"no {TRANSFORMED_FROM[record_type]} to transform", external_id
        )
    return client.transform(
        TRANSFORMED_FROM[record_type], parent_id, record_type, {**body, "externalId": external_id}
    )
