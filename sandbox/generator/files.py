"""Write a settlement as Amazon's flat files: V2 (one row per amount) and the legacy 36-column file.

Both start with the header, then the summary row (only the first six fields filled), then the
lines with those six fields empty, as real files do. Amounts and dates use the marketplace's
format. Encoding, BOM and line endings are parameters so parsers can be tested against the
variations found in the wild (python-amazon-sp-api hands out latin-1, Excel adds a BOM, CRLF).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from sandbox.generator.marketplaces import (
    MARKETPLACES,
    Marketplace,
    format_amount,
    format_datetime,
    format_posted_date,
    iso_offset,
)

# Both layouts open with the summary fields and the transaction's identifiers.
_COMMON_HEADER = [
    "settlement-id",
    "settlement-start-date",
    "settlement-end-date",
    "deposit-date",
    "total-amount",
    "currency",
    "transaction-type",
    "order-id",
    "merchant-order-id",
    "adjustment-id",
    "shipment-id",
    "marketplace-name",
]
V2_HEADER = [
    *_COMMON_HEADER,
    "amount-type",
    "amount-description",
    "amount",
    "fulfillment-id",
    "posted-date",
    "posted-date-time",
    "order-item-code",
    "merchant-order-item-id",
    "merchant-adjustment-item-id",
    "sku",
    "quantity-purchased",
    "promotion-id",
]
LEGACY_HEADER = [
    *_COMMON_HEADER,
    "shipment-fee-type",
    "shipment-fee-amount",
    "order-fee-type",
    "order-fee-amount",
    "fulfillment-id",
    "posted-date",
    "order-item-code",
    "merchant-order-item-id",
    "merchant-adjustment-item-id",
    "sku",
    "quantity-purchased",
    "price-type",
    "price-amount",
    "item-related-fee-type",
    "item-related-fee-amount",
    "misc-fee-amount",
    "other-fee-amount",
    "other-fee-reason-description",
    "promotion-id",
    "promotion-type",
    "promotion-amount",
    "direct-payment-type",
    "direct-payment-amount",
    "other-amount",
]
# amount-type -> legacy column family ("<family>-type" / "<family>-amount").
LEGACY_FAMILY = {
    "ItemPrice": "price",
    "ItemFees": "item-related-fee",
    "Promotion": "promotion",
    "ShipmentFees": "shipment-fee",
    "OrderFees": "order-fee",
    "DirectPayment": "direct-payment",
    # Amount types the legacy file has no family for travel as item-related fees named by what V2
    # calls the amount-type or description (real V1 files show `Cost of Advertising` there).
    "ItemWithheldTax": "item-related-fee",
    "Cost of Advertising": "item-related-fee",
}
FAMILY_AMOUNT_TYPE = {
    "price": "ItemPrice",
    "item-related-fee": "ItemFees",
    "promotion": "Promotion",
    "shipment-fee": "ShipmentFees",
    "order-fee": "OrderFees",
    "direct-payment": "DirectPayment",
}


def legacy_amount_key(line: dict) -> tuple[str, str]:
    """(amount_type, amount_description) a parser following docs/contracts.md recovers from the
    legacy row written for `line`. Equal to the V2 pair except for `ItemWithheldTax` lines
    (-> ItemFees / MarketplaceFacilitatorTax-…), advertising (-> ItemFees / Cost of Advertising)
    and amount types outside the legacy families (-> other-transaction / description)."""
    family = LEGACY_FAMILY.get(line["amount_type"])
    if family is None:
        return "other-transaction", line["amount_description"]
    if line["amount_type"] == "Cost of Advertising":
        return "ItemFees", "Cost of Advertising"
    return FAMILY_AMOUNT_TYPE[family], line["amount_description"]


def _marketplace(settlement: dict, marketplace: Marketplace | str | None) -> Marketplace:
    if isinstance(marketplace, Marketplace):
        return marketplace
    return MARKETPLACES[marketplace or settlement["marketplace_code"]]


def _summary(settlement: dict, mp: Marketplace, header: list[str], date_format) -> list[str]:
    row = dict.fromkeys(header, "")
    row.update(
        {
            "settlement-id": settlement["settlement_id"],
            "settlement-start-date": date_format(settlement["start_at"]),
            "settlement-end-date": date_format(settlement["end_at"]),
            "deposit-date": date_format(settlement["deposit_at"]),
            "total-amount": format_amount(settlement["total_amount"], mp),
            "currency": settlement["currency"],
        }
    )
    return [row[name] for name in header]


def _common(line: dict, settlement: dict) -> dict[str, str]:
    qty = line["quantity_purchased"]
    return {
        "settlement-id": settlement["settlement_id"],
        "transaction-type": line["transaction_type"],
        "order-id": line["order_id"],
        "merchant-order-id": line["merchant_order_id"],
        "adjustment-id": line["adjustment_id"],
        "shipment-id": line["shipment_id"],
        "marketplace-name": line["marketplace_name"],
        "fulfillment-id": line["fulfillment_id"],
        "order-item-code": line["order_item_code"],
        "merchant-order-item-id": line["merchant_order_item_id"],
        "merchant-adjustment-item-id": line["merchant_adjustment_item_id"],
        "sku": line["sku"],
        "quantity-purchased": "" if qty is None else str(qty),
        "promotion-id": line["promotion_id"],
    }


def settlement_v2_rows(settlement: dict, marketplace: Marketplace | str | None = None) -> Iterable[list[str]]:
    """Header, summary row, then one row per amount line (lists of strings)."""
    mp = _marketplace(settlement, marketplace)
    yield V2_HEADER
    yield _summary(settlement, mp, V2_HEADER, lambda d: format_datetime(d, mp))
    for line in settlement["lines"]:
        row = _common(line, settlement)
        row.update(
            {
                "amount-type": line["amount_type"],
                "amount-description": line["amount_description"],
                "amount": format_amount(line["amount"], mp),
                "posted-date": format_posted_date(line["posted_at"], mp),
                "posted-date-time": format_datetime(line["posted_at"], mp),
            }
        )
        yield [row.get(name, "") for name in V2_HEADER]


def settlement_legacy_rows(
    settlement: dict, marketplace: Marketplace | str | None = None
) -> Iterable[list[str]]:
    """Header, summary row, then one row per amount line in the column family of its amount type."""
    mp = _marketplace(settlement, marketplace)
    yield LEGACY_HEADER
    yield _summary(settlement, mp, LEGACY_HEADER, iso_offset)
    for line in settlement["lines"]:
        row = _common(line, settlement)
        row["posted-date"] = iso_offset(line["posted_at"])
        amount = format_amount(line["amount"], mp)
        family = LEGACY_FAMILY.get(line["amount_type"])
        if family is None:  # other-transaction and anything new: reason + amount
            row["other-fee-reason-description"] = line["amount_description"]
            row["other-fee-amount"] = amount
        else:
            row[f"{family}-type"] = legacy_amount_key(line)[1]
            row[f"{family}-amount"] = amount
        if line["amount_type"] != "Promotion":
            row["promotion-id"] = ""
        yield [row.get(name, "") for name in LEGACY_HEADER]


@contextmanager
def _binary_sink(target: IO | str | Path):
    if isinstance(target, str | Path):
        with open(target, "wb") as handle:
            yield handle, False
    else:
        yield target, isinstance(target, io.TextIOBase)


def write_rows(
    rows: Iterable[list[str]],
    target: IO | str | Path,
    encoding: str = "utf-8",
    bom: bool = False,
    newline: str = "\n",
) -> None:
    """Tab-separated, unquoted (Amazon does not quote). Text handles get str, others bytes.
    Rows are written in batches so huge files stay fast without holding more than a batch."""
    with _binary_sink(target) as (handle, is_text):
        if bom:
            handle.write("\ufeff" if is_text else "\ufeff".encode(encoding))
        batch: list[str] = []
        for row in rows:
            batch.append("\t".join(row))
            if len(batch) >= 2048:
                _flush(handle, is_text, batch, encoding, newline)
        _flush(handle, is_text, batch, encoding, newline)


def _flush(handle: IO, is_text: bool, batch: list[str], encoding: str, newline: str) -> None:
    if batch:
        text = newline.join(batch) + newline
        handle.write(text if is_text else text.encode(encoding))
        batch.clear()


def write_settlement_v2(
    settlement: dict,
    fileobj_or_path: IO | str | Path,
    marketplace: Marketplace | str | None = None,
    encoding: str = "utf-8",
    bom: bool = False,
    newline: str = "\n",
) -> None:
    """The `GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2` document of `settlement`."""
    write_rows(settlement_v2_rows(settlement, marketplace), fileobj_or_path, encoding, bom, newline)


def write_settlement_legacy(
    settlement: dict,
    fileobj_or_path: IO | str | Path,
    marketplace: Marketplace | str | None = None,
    encoding: str = "utf-8",
    bom: bool = False,
    newline: str = "\n",
) -> None:
    """The legacy `GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE` (36 columns) document of `settlement`."""
    write_rows(settlement_legacy_rows(settlement, marketplace), fileobj_or_path, encoding, bom, newline)


def settlement_v2_text(settlement: dict, marketplace: Marketplace | str | None = None) -> str:
    """The V2 file as a string (what the Reports API sandbox serves)."""
    buffer = io.StringIO()
    write_settlement_v2(settlement, buffer, marketplace)
    return buffer.getvalue()


def write_settlement_files(
    settlements: Iterable[dict], directory: str | Path, layout: str = "v2", **options
) -> list[Path]:
    """Drop settlements into a folder as finance would (the `import-settlements` inbox):
    `<settlement_id>.<layout>.txt`, one file each. `options` go to the writer (encoding, bom, newline)."""
    writer = {"v2": write_settlement_v2, "legacy": write_settlement_legacy}[layout]
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for settlement in settlements:
        path = folder / f"{settlement['settlement_id']}.{layout}.txt"
        writer(settlement, path, **options)
        paths.append(path)
    return paths
