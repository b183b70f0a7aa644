"""NetSuite fulfillments of MFN orders to Amazon: Orders v0 confirmShipment, one call per order.

Row payload: {"amazonOrderId": ..., "marketplaceId": ..., "packageDetail": {...}}; the body sent is
everything but amazonOrderId. Success is 204, after which the fingerprint stops a resend.
"""

from __future__ import annotations

from typing import Any

from ingestion.netsuite.client import dumps_json
from reverse_etl.state import Outcome

RECORD_TYPE = "shipmentConfirmation"


def split(payload: dict[str, Any], context: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    order_id = payload.get("amazonOrderId") or context.get("order_id")
    if not order_id:
        raise ValueError("shipmentConfirmation payload needs amazonOrderId")
    return str(order_id), {k: v for k, v in payload.items() if k != "amazonOrderId"}


def preview(payload: dict[str, Any], context: dict[str, Any]) -> tuple[str, str, str]:
    order_id, body = split(payload, context)
    return "POST", f"/orders/v0/orders/{order_id}/shipmentConfirmation", dumps_json(body)


def confirm(spapi: Any, payload: dict[str, Any], context: dict[str, Any]) -> Outcome:
    from sp_api.api import Orders

    from ingestion.amazon.client import AmazonApiError

    order_id, body = split(payload, context)
    orders = spapi.client(Orders)
    try:
        spapi.call("confirmShipment", orders.confirm_shipment, order_id, **body)
    except AmazonApiError as exc:
        return Outcome("failed", error=str(exc)[:2000])
    return Outcome("pushed", target_id=order_id)
