"""Builders for the reverse ETL tests: small `reverse_etl.sync_*` tables shaped like the dbt sync
models (realistic payloads referencing the sandbox seed) in a real DuckDB file."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb

from ingestion.netsuite.client import NetSuiteClient, dumps_json

BALANCED, VARIANCE = "2026071501", "2026072902"


def client_for(server, **settings) -> NetSuiteClient:
    options = {"backoff_base": 0.02, "backoff_cap": 0.2, "max_retries": 10}
    options.update(settings)
    return NetSuiteClient.from_env({"NETSUITE_URL": server.url, "NETSUITE_CONCURRENCY": "5"}, **options)


def order_id(n: int) -> str:
    return f"111-0000001-{n:07d}"


def desired_rows(seller, orders: int = 6) -> dict[str, list[dict]]:
    """model name -> rows (external_id, record_type, payload dict, depends_on, context...)."""
    items = [row["externalid"] for row in seller.netsuite["item"]]
    customers = [
        {
            "external_id": "amz-cust-US",
            "record_type": "customer",
            "payload": {
                "companyName": "Amazon.com customer",
                "subsidiary": {"id": "1"},
                "currency": {"id": "1"},
            },
            "depends_on": None,
        }
    ]
    sales, fulfillments = [], []
    for n in range(1, orders + 1):
        lines = [
            {
                "item": {"externalId": items[(n + k) % len(items)]},
                "quantity": 1 + k,
                "rate": Decimal(f"{n + 3}.{k}9"),
            }
            for k in range(2)
        ]
        sales.append(
            {
                "external_id": f"amz-so-{order_id(n)}",
                "record_type": "salesOrder",
                "payload": {
                    "entity": {"externalId": "amz-cust-US"},
                    "tranDate": "2026-07-15",
                    "location": {"externalId": "wh-main"},
                    "otherRefNum": order_id(n),
                    "item": {"items": lines},
                },
                "depends_on": "amz-cust-US",
            }
        )
        fulfillments.append(
            {
                "external_id": f"amz-if-{order_id(n)}",
                "record_type": "itemFulfillment",
                "payload": {"tranDate": "2026-07-16", "memo": f"FBA shipment of {order_id(n)}"},
                "depends_on": f"amz-so-{order_id(n)}",
            }
        )
    journals = [
        _journal(
            BALANCED,
            [
                ("amazon-clearing-US", "120.45", None),
                ("amazon-sales", None, "100.00"),
                ("amazon-shipping-income", None, "30.45"),
                ("amazon-fees", "10.00", None),
            ],
        ),
        _journal(VARIANCE, [("amazon-clearing-US", "50.00", None), ("amazon-sales", None, "50.00")]),
    ]
    adjustments = [
        {
            "external_id": "amz-ia-US-2026-07-31",
            "record_type": "inventoryAdjustment",
            "payload": {
                "subsidiary": {"id": "1"},
                "account": {"externalId": "amazon-other"},
                "adjLocation": {"externalId": "fba-US"},
                "tranDate": "2026-07-31",
                "inventory": {
                    "items": [
                        {
                            "item": {"externalId": items[0]},
                            "location": {"externalId": "fba-US"},
                            "adjustQtyBy": -2,
                        },
                        {
                            "item": {"externalId": items[1]},
                            "location": {"externalId": "fba-US"},
                            "adjustQtyBy": 3,
                        },
                    ]
                },
            },
            "depends_on": None,
        }
    ]
    return {
        "sync_netsuite__customers": customers,
        "sync_netsuite__sales_orders": sales,
        "sync_netsuite__item_fulfillments": fulfillments,
        "sync_netsuite__journal_entries": journals,
        "sync_netsuite__inventory_adjustments": adjustments,
    }


def _journal(settlement: str, lines: list[tuple[str, str | None, str | None]]) -> dict:
    items = []
    for account, debit, credit in lines:
        line = {"account": {"externalId": account}, "memo": f"settlement {settlement}"}
        if debit:
            line["debit"] = Decimal(debit)
        if credit:
            line["credit"] = Decimal(credit)
        items.append(line)
    return {
        "external_id": f"amz-je-{settlement}",
        "record_type": "journalEntry",
        "payload": {
            "subsidiary": {"id": "1"},
            "currency": {"id": "1"},
            "tranDate": "2026-07-31",
            "memo": f"Amazon settlement {settlement}",
            "line": {"items": items},
        },
        "depends_on": None,
        "settlement_id": settlement,
    }


def write_models(
    path: Path, models: dict[str, list[dict]], settlements: dict[str, str] | None = None
) -> None:
    """(Re)create the sync tables and marts.fct_settlements in the DuckDB file at `path`."""
    settlements = {BALANCED: "balanced", VARIANCE: "variance"} if settlements is None else settlements
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema if not exists reverse_etl")
        con.execute("create schema if not exists marts")
        for name, rows in models.items():
            context = sorted(
                {k for r in rows for k in r} - {"external_id", "record_type", "payload", "depends_on"}
            )
            extra = "".join(f", {c} varchar" for c in context)
            kind = "varchar" if any(isinstance(r["payload"], str) for r in rows) else "json"
            con.execute(
                f"create or replace table reverse_etl.{name} "
                f"(external_id varchar, record_type varchar, payload {kind}, depends_on varchar{extra})"
            )
            for r in rows:
                payload = r["payload"] if isinstance(r["payload"], str) else dumps_json(r["payload"])
                values = [
                    r["external_id"],
                    r["record_type"],
                    payload,
                    r["depends_on"],
                    *(r.get(c) for c in context),
                ]
                con.execute(f"insert into reverse_etl.{name} values ({', '.join('?' * len(values))})", values)
        con.execute(
            "create or replace table marts.fct_settlements (settlement_id varchar, status varchar, variance decimal(18,2))"
        )
        for settlement, status in settlements.items():
            con.execute("insert into marts.fct_settlements values (?, ?, 0)", [settlement, status])
    finally:
        con.close()


def sync_records(path: Path) -> dict[tuple[str, str], dict]:
    con = duckdb.connect(str(path))
    try:
        cursor = con.execute("select * from reverse_etl.sync_records")
        columns = [d[0] for d in cursor.description]
        return {(r[0], r[1]): dict(zip(columns, r, strict=True)) for r in cursor.fetchall()}
    finally:
        con.close()
