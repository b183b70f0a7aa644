"""FBA inventory snapshot, MFN listings and the NetSuite seed of the demo seller.

NetSuite is the inventory master for MFN (warehouse `wh-main`); for FBA, NetSuite mirrors Amazon in
a virtual location `fba-<CODE>` per marketplace. Both sides are deliberately a little out of step
(`inventory_drift`, `listing_drift`) so the reconciliation and the push-back have work to do.
Column names follow the `raw_netsuite` tables in docs/contracts.md.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sandbox.generator.marketplaces import MARKETPLACES

SUBSIDIARIES = {
    "US": "LedgerBridge Demo Inc.",
    "CA": "LedgerBridge Demo Canada Ltd.",
    "UK": "LedgerBridge Demo UK Ltd",
    "DE": "LedgerBridge Demo GmbH",
    "AU": "LedgerBridge Demo Pty Ltd",
}
CURRENCIES = [
    ("1", "USD", "US Dollar"),
    ("2", "GBP", "British Pound"),
    ("3", "CAD", "Canadian Dollar"),
    ("4", "EUR", "Euro"),
    ("5", "AUD", "Australian Dollar"),
]
# (acctnumber, name, accttype, externalid) — externalids the GL mapping seed names.
ACCOUNTS = [
    ("1210", "Amazon Reserve", "OthCurrAsset", "amazon-reserve"),
    ("1300", "Inventory Asset", "OthCurrAsset", "inventory-asset"),
    ("1100", "Accounts Receivable", "AcctRec", "accounts-receivable"),
    ("2200", "Sales Tax Payable", "OthCurrLiab", "sales-tax-payable"),
    ("2210", "Marketplace Facilitator Tax", "OthCurrLiab", "marketplace-facilitator-tax"),
    ("4000", "Amazon Sales", "Income", "amazon-sales"),
    ("4010", "Amazon Shipping Income", "Income", "amazon-shipping-income"),
    ("4020", "Amazon Promotions", "Income", "amazon-promotions"),
    ("4030", "Amazon Refunds", "Income", "amazon-refunds"),
    ("4100", "Amazon Reimbursements", "OthIncome", "amazon-reimbursements"),
    ("5000", "Cost of Goods Sold", "COGS", "cogs"),
    ("6100", "Amazon Selling Fees", "Expense", "amazon-fees"),
    ("6110", "Amazon FBA Fees", "Expense", "amazon-fba-fees"),
    ("6120", "Amazon Advertising", "Expense", "amazon-advertising"),
    ("6130", "Amazon Storage Fees", "Expense", "amazon-storage"),
    ("6140", "Amazon Subscription", "Expense", "amazon-subscription"),
    ("6150", "Amazon Chargebacks", "Expense", "amazon-chargebacks"),
    ("6190", "Amazon Other Fees", "Expense", "amazon-other"),
]


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def nudge(rng: random.Random, value: int, deltas: tuple[int, ...]) -> int:
    """A different, non-negative quantity near `value`."""
    delta = rng.choice(deltas)
    return value + delta if value + delta >= 0 else value - delta


def make_inventory_and_netsuite(
    rng: random.Random,
    catalog: list[dict],
    prices: list[dict],
    codes: list[str],
    today: date,
    now: datetime,
    start_at: datetime,
):
    """Returns (inventory, listings, netsuite tables, inventory_drift, listing_drift)."""
    setup = start_at - timedelta(days=30)  # the NetSuite account was set up before the first settlement

    def modified() -> str:
        return iso(setup + (now - setup) * rng.random() * 0.5)

    currency_id = {code: cid for cid, code, _ in CURRENCIES}
    subsidiary = [
        {
            "id": str(n + 1),
            "name": SUBSIDIARIES[code],
            "currency": currency_id[MARKETPLACES[code].currency],
            "country": MARKETPLACES[code].country,
            "lastmodifieddate": iso(setup),
        }
        for n, code in enumerate(MARKETPLACES)
    ]
    sub_id = {code: str(n + 1) for n, code in enumerate(MARKETPLACES)}
    currency = [
        {"id": cid, "symbol": code, "name": name, "lastmodifieddate": iso(setup)}
        for cid, code, name in CURRENCIES
    ]
    account_rows = [
        (f"115{n}", f"Amazon Clearing - {code}", "OthCurrAsset", f"amazon-clearing-{code}")
        for n, code in enumerate(MARKETPLACES)
    ]
    account_rows += [
        (f"101{n}", f"Bank - {cur}", "Bank", f"bank-{cur}") for n, (_, cur, _) in enumerate(CURRENCIES)
    ]
    account_rows += ACCOUNTS
    account = [
        {
            "id": str(100 + n),
            "acctnumber": num,
            "fullname": name,
            "accttype": kind,
            "externalid": ext,
            "lastmodifieddate": iso(setup),
        }
        for n, (num, name, kind, ext) in enumerate(account_rows)
    ]
    location = [
        {
            "id": "1",
            "name": "Main Warehouse",
            "externalid": "wh-main",
            "subsidiary": "1",
            "isinactive": "F",
            "lastmodifieddate": iso(setup),
        }
    ]
    location += [
        {
            "id": str(n + 2),
            "name": f"Amazon FBA {code}",
            "externalid": f"fba-{code}",
            "subsidiary": sub_id[code],
            "isinactive": "F",
            "lastmodifieddate": iso(setup),
        }
        for n, code in enumerate(MARKETPLACES)
    ]
    location_id = {row["externalid"]: row["id"] for row in location}
    mapped = [c for c in catalog if c["netsuite_item_id"]]
    item = [
        {
            "id": c["netsuite_item_id"],
            "itemid": c["sku"],
            "displayname": c["title"],
            "itemtype": "InvtPart",
            "externalid": f"item-{c['sku']}",
            "isinactive": "F",
            "lastmodifieddate": modified(),
        }
        for c in mapped
    ]
    pricing = [
        {
            "item": next(c["netsuite_item_id"] for c in mapped if c["sku"] == p["sku"]),
            "pricelevel": "1",
            "pricelevelname": "Base Price",
            "currency": currency_id[p["currency"]],
            "unitprice": str(p["price"]),
        }
        for p in prices
        if any(c["sku"] == p["sku"] for c in mapped)
    ]

    inventory, listings, aggregate, inventory_drift, listing_drift = [], [], [], [], []
    wh_available: dict[str, int] = {}
    for c in catalog:  # wh-main: the master for MFN, also holds FBA replenishment stock
        onhand = rng.randint(20, 400)
        available = onhand - rng.randint(0, min(5, onhand))
        wh_available[c["sku"]] = available
        if c["netsuite_item_id"]:
            aggregate.append(
                {
                    "item": c["netsuite_item_id"],
                    "location": location_id["wh-main"],
                    "quantityonhand": onhand,
                    "quantityavailable": available,
                    "lastmodifieddate": iso(now - timedelta(hours=rng.randint(1, 72))),
                }
            )
    for code in codes:
        mp = MARKETPLACES[code]
        for c in catalog:
            if c["is_fba"]:
                fulfillable = 0 if rng.random() < 0.08 else rng.randint(5, 300)
                working = rng.randint(0, 40) if rng.random() < 0.3 else 0
                shipped = rng.randint(0, 60) if rng.random() < 0.3 else 0
                receiving = rng.randint(0, 20) if rng.random() < 0.2 else 0
                reserved = rng.randint(0, 12)
                unfulfillable = rng.randint(0, 4) if rng.random() < 0.3 else 0
                inventory.append(
                    {
                        "snapshot_date": today,
                        "marketplace_code": code,
                        "marketplace_id": mp.marketplace_id,
                        "seller_sku": c["sku"],
                        "fn_sku": c["fn_sku"],
                        "asin": c["asin"],
                        "condition": "NewItem",
                        "product_name": c["title"],
                        "fulfillable_quantity": fulfillable,
                        "inbound_working_quantity": working,
                        "inbound_shipped_quantity": shipped,
                        "inbound_receiving_quantity": receiving,
                        "reserved_quantity": reserved,
                        "unfulfillable_quantity": unfulfillable,
                        "total_quantity": fulfillable
                        + working
                        + shipped
                        + receiving
                        + reserved
                        + unfulfillable,
                        "last_updated_at": now - timedelta(minutes=rng.randint(30, 1200)),
                    }
                )
                if c["netsuite_item_id"]:
                    available = fulfillable
                    if rng.random() < 0.25:  # NetSuite missed a few receipts / adjustments
                        available = nudge(rng, fulfillable, (-5, -3, -2, -1, 1, 2, 4))
                        inventory_drift.append(
                            {
                                "marketplace_code": code,
                                "sku": c["sku"],
                                "amazon_fulfillable": fulfillable,
                                "netsuite_available": available,
                            }
                        )
                    aggregate.append(
                        {
                            "item": c["netsuite_item_id"],
                            "location": location_id[f"fba-{code}"],
                            "quantityonhand": available + reserved + unfulfillable,
                            "quantityavailable": available,
                            "lastmodifieddate": iso(now - timedelta(hours=rng.randint(1, 72))),
                        }
                    )
            if c["is_mfn"]:
                price = next(p for p in prices if p["sku"] == c["sku"] and p["marketplace_code"] == code)
                quantity = wh_available[c["sku"]]
                if rng.random() < 0.3:  # Amazon still shows an old quantity: the push-back fixes it
                    quantity = nudge(rng, quantity, (-12, -4, -1, 3, 7, 20))
                    listing_drift.append(
                        {
                            "marketplace_code": code,
                            "sku": c["sku"],
                            "amazon_quantity": quantity,
                            "netsuite_available": wh_available[c["sku"]],
                        }
                    )
                listings.append(
                    {
                        "sku": c["sku"],
                        "marketplace_code": code,
                        "marketplace_id": mp.marketplace_id,
                        "asin": c["asin"],
                        "title": c["title"],
                        "quantity": quantity,
                        "price": price["price"],
                        "currency": mp.currency,
                        "product_type": "PRODUCT",
                        "status": ["BUYABLE"],
                    }
                )

    # Opening balances: the only transactions NetSuite has before LedgerBridge pushes anything.
    transaction, transactionline = [], []
    for n, code in enumerate(MARKETPLACES):
        tid = str(5001 + n)
        amount = f"{rng.randint(5_000, 50_000)}.00"
        transaction.append(
            {
                "id": tid,
                "tranid": f"JE{1001 + n}",
                "type": "Journal",
                "externalid": None,
                "entity": None,
                "trandate": setup.date().isoformat(),
                "currency": currency_id[MARKETPLACES[code].currency],
                "memo": f"Opening balance {SUBSIDIARIES[code]}",
                "foreigntotal": amount,
                "lastmodifieddate": iso(setup),
            }
        )
        for line, value in enumerate((amount, f"-{amount}")):
            transactionline.append(
                {
                    "transaction": tid,
                    "id": str(line),
                    "linesequencenumber": line + 1,
                    "item": None,
                    "quantity": None,
                    "location": None,
                    "foreignamount": value,
                    "lastmodifieddate": iso(setup),
                }
            )
    netsuite = {
        "subsidiary": subsidiary,
        "currency": currency,
        "account": account,
        "location": location,
        "item": item,
        "customer": [],
        "transaction": transaction,
        "transactionline": transactionline,
        "aggregateitemlocation": aggregate,
        "pricing": pricing,
    }
    return inventory, listings, netsuite, inventory_drift, listing_drift
