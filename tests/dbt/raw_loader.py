"""Load the generated seller's orders, inventory, listings and NetSuite tables into the raw schemas.

A stand-in for the dlt sources (ingestion/amazon, ingestion/netsuite) so the dbt tests need no
sandbox servers: it writes exactly the raw contract of docs/contracts.md (column names, DECIMAL
money, UTC timestamps). Settlements are NOT loaded here: the tests import the generated files
with the real `ingestion.amazon.settlements.load_settlements`. At integration this one file is
the piece to swap for the real pipelines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

MONEY = "DECIMAL(18,2)"
TS = "TIMESTAMPTZ"

TABLES: dict[str, dict[str, str]] = {
    "raw_amazon.orders": {
        "order_id": "VARCHAR",
        "marketplace_id": "VARCHAR",
        "order_status": "VARCHAR",
        "fulfillment_channel": "VARCHAR",
        "purchased_at": TS,
        "last_updated_at": TS,
        "order_total_amount": MONEY,
        "currency": "VARCHAR",
        "sales_channel": "VARCHAR",
        "ship_country": "VARCHAR",
        "is_business_order": "BOOLEAN",
    },
    "raw_amazon.order_items": {
        "order_id": "VARCHAR",
        "order_item_id": "VARCHAR",
        "sku": "VARCHAR",
        "asin": "VARCHAR",
        "quantity_ordered": "BIGINT",
        "quantity_shipped": "BIGINT",
        "item_price_amount": MONEY,
        "item_tax_amount": MONEY,
        "shipping_price_amount": MONEY,
        "shipping_tax_amount": MONEY,
        "promotion_discount_amount": MONEY,
        "currency": "VARCHAR",
        "last_updated_at": TS,
    },
    "raw_amazon.inventory_summaries": {
        "snapshot_date": "DATE",
        "marketplace_id": "VARCHAR",
        "seller_sku": "VARCHAR",
        "fn_sku": "VARCHAR",
        "asin": "VARCHAR",
        "fulfillable_quantity": "BIGINT",
        "inbound_working_quantity": "BIGINT",
        "inbound_shipped_quantity": "BIGINT",
        "inbound_receiving_quantity": "BIGINT",
        "reserved_quantity": "BIGINT",
        "unfulfillable_quantity": "BIGINT",
        "total_quantity": "BIGINT",
        "last_updated_at": TS,
    },
    "raw_amazon.listings_items": {
        "marketplace_id": "VARCHAR",
        "seller_sku": "VARCHAR",
        "asin": "VARCHAR",
        "fulfillment_channel": "VARCHAR",
        "quantity": "BIGINT",
        "price_amount": MONEY,
        "currency": "VARCHAR",
        "status": "VARCHAR",
        "last_updated_at": TS,
    },
    "raw_netsuite.subsidiary": {
        "id": "VARCHAR",
        "name": "VARCHAR",
        "currency": "VARCHAR",
        "country": "VARCHAR",
        "lastmodifieddate": TS,
    },
    "raw_netsuite.currency": {
        "id": "VARCHAR",
        "symbol": "VARCHAR",
        "name": "VARCHAR",
        "lastmodifieddate": TS,
    },
    "raw_netsuite.account": {
        "id": "VARCHAR",
        "acctnumber": "VARCHAR",
        "fullname": "VARCHAR",
        "accttype": "VARCHAR",
        "externalid": "VARCHAR",
        "lastmodifieddate": TS,
    },
    "raw_netsuite.location": {
        "id": "VARCHAR",
        "name": "VARCHAR",
        "externalid": "VARCHAR",
        "subsidiary": "VARCHAR",
        "isinactive": "VARCHAR",
        "lastmodifieddate": TS,
    },
    "raw_netsuite.item": {
        "id": "VARCHAR",
        "itemid": "VARCHAR",
        "displayname": "VARCHAR",
        "itemtype": "VARCHAR",
        "externalid": "VARCHAR",
        "isinactive": "VARCHAR",
        "lastmodifieddate": TS,
    },
    "raw_netsuite.customer": {
        "id": "VARCHAR",
        "entityid": "VARCHAR",
        "companyname": "VARCHAR",
        "externalid": "VARCHAR",
        "subsidiary": "VARCHAR",
        "currency": "VARCHAR",
        "lastmodifieddate": TS,
    },
    "raw_netsuite.transaction": {
        "id": "VARCHAR",
        "tranid": "VARCHAR",
        "type": "VARCHAR",
        "externalid": "VARCHAR",
        "entity": "VARCHAR",
        "trandate": "DATE",
        "currency": "VARCHAR",
        "memo": "VARCHAR",
        "foreigntotal": MONEY,
        "lastmodifieddate": TS,
    },
    "raw_netsuite.transactionline": {
        "transaction": "VARCHAR",
        "id": "VARCHAR",
        "linesequencenumber": "BIGINT",
        "item": "VARCHAR",
        "quantity": "DECIMAL(18,4)",
        "location": "VARCHAR",
        "foreignamount": MONEY,
        "lastmodifieddate": TS,
    },
    "raw_netsuite.aggregateitemlocation": {
        "item": "VARCHAR",
        "location": "VARCHAR",
        "quantityonhand": "DECIMAL(18,4)",
        "quantityavailable": "DECIMAL(18,4)",
        "lastmodifieddate": TS,
    },
    "raw_netsuite.pricing": {
        "item": "VARCHAR",
        "pricelevel": "VARCHAR",
        "pricelevelname": "VARCHAR",
        "currency": "VARCHAR",
        "unitprice": MONEY,
    },
}


def _rows(seller: Any) -> dict[str, list[dict[str, Any]]]:
    orders, items = [], []
    for order in seller.orders:
        orders.append(
            {
                "order_id": order["order_id"],
                "marketplace_id": order["marketplace_id"],
                "order_status": order["status"],
                "fulfillment_channel": order["fulfillment_channel"],
                "purchased_at": order["purchased_at"],
                "last_updated_at": order["last_updated_at"],
                "order_total_amount": order["order_total"],
                "currency": order["currency"],
                "sales_channel": order["sales_channel"],
                "ship_country": order["ship_country"],
                "is_business_order": order["is_business_order"],
            }
        )
        shipped = order["status"] == "Shipped"
        for item in order["items"]:
            items.append(
                {
                    "order_id": order["order_id"],
                    "order_item_id": item["order_item_id"],
                    "sku": item["sku"],
                    "asin": item["asin"],
                    "quantity_ordered": item["quantity"],
                    "quantity_shipped": item["quantity"] if shipped else 0,
                    "item_price_amount": item["item_price"],
                    "item_tax_amount": item["item_tax"],
                    "shipping_price_amount": item["shipping_price"],
                    "shipping_tax_amount": item["shipping_tax"],
                    "promotion_discount_amount": item["promotion_discount"],
                    "currency": order["currency"],
                    "last_updated_at": order["last_updated_at"],
                }
            )
    listings = [
        {
            "marketplace_id": row["marketplace_id"],
            "seller_sku": row["sku"],
            "asin": row["asin"],
            "fulfillment_channel": "MFN",
            "quantity": row["quantity"],
            "price_amount": row["price"],
            "currency": row["currency"],
            "status": ",".join(row["status"]),
            "last_updated_at": seller.now,
        }
        for row in seller.listings
    ]
    tables = {
        "raw_amazon.orders": orders,
        "raw_amazon.order_items": items,
        "raw_amazon.inventory_summaries": seller.inventory,
        "raw_amazon.listings_items": listings,
    }
    for name, rows in seller.netsuite.items():
        tables[f"raw_netsuite.{name}"] = rows
    return tables


def load_raw(seller: Any, warehouse: Path) -> dict[str, int]:
    """Create the raw tables (contract columns) and insert the seller's rows; returns row counts."""
    counts: dict[str, int] = {}
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists raw_amazon")
        con.execute("create schema if not exists raw_netsuite")
        for table, rows in _rows(seller).items():
            columns = TABLES[table]
            ddl = ", ".join(f'"{name}" {kind}' for name, kind in columns.items())
            con.execute(f"create or replace table {table} ({ddl})")
            names = list(columns)
            values = [
                [
                    None
                    if row.get(name) is None
                    else str(row[name])
                    if columns[name] == "VARCHAR"
                    else row.get(name)
                    for name in names
                ]
                for row in rows
            ]
            if values:
                placeholders = ", ".join("?" for _ in names)
                con.executemany(f"insert into {table} values ({placeholders})", values)
            counts[table] = len(values)
    return counts
