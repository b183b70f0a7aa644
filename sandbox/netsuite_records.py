"""REST record rules of the NetSuite sandbox: which types exist, what each requires, and how a
record shows up in the SuiteQL tables.

Pure functions over plain dicts (no HTTP, no storage) so the rules read in one place. A rule
broken raises `RecordError`, which the app renders in NetSuite's error shape.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
MAX_INVENTORY_LINES = 10_000  # NetSuite documents no figure; the sandbox refuses more than this


@dataclass(frozen=True)
class TransactionType:
    code: str  # transaction.type in SuiteQL
    sublist: str  # the line sublist's name in the REST record
    prefix: str  # tranid prefix when the client gives none


TRANSACTIONS: dict[str, TransactionType] = {
    "salesOrder": TransactionType("SalesOrd", "item", "SO"),
    "cashSale": TransactionType("CashSale", "item", "CS"),
    "invoice": TransactionType("CustInvc", "item", "INV"),
    "itemFulfillment": TransactionType("ItemShip", "item", "IF"),
    "customerPayment": TransactionType("CustPymt", "apply", "PYMT"),
    "creditMemo": TransactionType("CustCred", "item", "CM"),
    "customerRefund": TransactionType("CustRfnd", "apply", "RFND"),
    "journalEntry": TransactionType("Journal", "line", "JE"),
    "inventoryAdjustment": TransactionType("InvAdjst", "inventory", "IA"),
}
ENTITIES = {"customer": "customer", "inventoryItem": "item"}  # record type -> SuiteQL table
RECORD_TYPES = [*ENTITIES, *TRANSACTIONS]
TRANSFORMS = {"salesOrder": {"itemFulfillment", "cashSale", "invoice"}}

# Body fields that reference another record, and the SuiteQL table that must hold it.
REFERENCES = {
    "entity": "customer",
    "customer": "customer",
    "account": "account",
    "item": "item",
    "location": "location",
    "adjLocation": "location",
    "subsidiary": "subsidiary",
    "currency": "currency",
    "createdFrom": "transaction",
    "doc": "transaction",
}
MONEY = {"debit", "credit", "rate", "amount", "payment", "total"}
QUANTITIES = {"quantity", "adjustQtyBy"}


class RecordError(Exception):
    def __init__(self, status: int, code: str, detail: str, path: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.path = status, code, detail, path


def canonical_type(name: str) -> str | None:
    """REST record names are camelCase, but NetSuite also answers the lower-case ids."""
    return {t.lower(): t for t in RECORD_TYPES}.get(name.lower())


def table_of(record_type: str) -> str:
    return ENTITIES.get(record_type, "transaction")


def parse_body(body: bytes) -> dict[str, Any]:
    """JSON with floats read as Decimal, so 19.99 stays 19.99."""
    if not body:
        return {}
    try:
        data = json.loads(body.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordError(400, "INVALID_CONTENT", f"Invalid content in the request body: {exc}.") from exc
    if not isinstance(data, dict):
        raise RecordError(400, "INVALID_CONTENT", "The request body must be a JSON object.")
    return data


def money(value: Any, path: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal)):
        raise RecordError(400, "INVALID_PARAMETER", f"Invalid number {value!r} for field {path}.", path)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise RecordError(
            400, "INVALID_PARAMETER", f"Invalid number {value!r} for field {path}.", path
        ) from exc
    if not number.is_finite():
        raise RecordError(400, "INVALID_PARAMETER", f"Invalid number {value!r} for field {path}.", path)
    return str(number)


def quantity(value: Any, path: str) -> int:
    number = Decimal(money(value, path))
    if number != number.to_integral_value():
        raise RecordError(
            400, "INVALID_PARAMETER", f"Quantity {value!r} in {path} must be a whole number.", path
        )
    return int(number)


def parse_date(value: Any, path: str) -> str:
    try:
        return dt.datetime.strptime(str(value)[:10], "%Y-%m-%d").date().isoformat()
    except ValueError as exc:
        raise RecordError(
            400, "INVALID_PARAMETER", f"Invalid date value {value!r} for {path}; use YYYY-MM-DD.", path
        ) from exc


Resolver = Callable[[str, Any, str], str]  # (table, reference value, error path) -> internal id


def normalize(record_type: str, body: dict[str, Any], resolve: Resolver) -> dict[str, Any]:
    """Resolve references to `{"id": ...}`, money to exact decimal strings, number sublist lines."""
    record: dict[str, Any] = {}
    for key, value in body.items():
        if key in {"id", "links"}:
            continue
        if isinstance(value, dict) and "items" in value:
            lines = value["items"]
            if not isinstance(lines, list):
                raise RecordError(400, "INVALID_PARAMETER", f"{key}.items must be a list.", f"{key}.items")
            if key == "inventory" and len(lines) > MAX_INVENTORY_LINES:
                raise RecordError(
                    400,
                    "USER_ERROR",
                    f"An inventory adjustment may have at most {MAX_INVENTORY_LINES} lines; got {len(lines)}.",
                    "inventory.items",
                )
            items = [_line(key, i, line, resolve) for i, line in enumerate(lines)]
            # NetSuite numbers sublist lines on save; `line` is how PATCH and transforms address them.
            taken = {int(x["line"]) for x in items if x.get("line") is not None}
            for line in items:
                if line.get("line") is None:
                    line["line"] = max(taken, default=0) + 1
                    taken.add(line["line"])
                else:
                    line["line"] = int(line["line"])
            record[key] = {"items": items}
        else:
            record[key] = _field(key, value, key, resolve)
    if record_type == "customer" or record_type == "inventoryItem":
        return record
    if "tranDate" in record:
        record["tranDate"] = parse_date(record["tranDate"], "tranDate")
    return record


def _line(sublist: str, index: int, line: Any, resolve: Resolver) -> dict[str, Any]:
    path = f"{sublist}.items[{index}]"
    if not isinstance(line, dict):
        raise RecordError(400, "INVALID_PARAMETER", f"{path} must be an object.", path)
    out = {key: _field(key, value, f"{path}.{key}", resolve) for key, value in line.items()}
    return out


def _field(key: str, value: Any, path: str, resolve: Resolver) -> Any:
    if value is None:
        return None
    if key in REFERENCES and not (isinstance(value, dict) and "items" in value):
        return {"id": resolve(REFERENCES[key], value, path)}
    if key in MONEY:
        return money(value, path)
    if key in QUANTITIES:
        return quantity(value, path)
    if isinstance(value, Decimal):
        return str(value)
    return value


def _required(record: dict[str, Any], field: str, path: str | None = None) -> None:
    if record.get(field) in (None, "", {}):
        raise RecordError(400, "FIELD_PARAM_REQD", f"Please enter a value for [{field}].", path or field)


def _lines(record: dict[str, Any], sublist: str) -> list[dict[str, Any]]:
    lines = (record.get(sublist) or {}).get("items") or []
    if not lines:
        raise RecordError(
            400,
            "USER_ERROR",
            "You must enter at least one line item for this transaction.",
            f"{sublist}.items",
        )
    return lines


def validate(record_type: str, record: dict[str, Any]) -> None:
    """The required fields and business rules NetSuite enforces on save (a practical subset)."""
    if record_type == "customer":
        _required(record, "companyName")
        _required(record, "subsidiary")
        return
    if record_type == "inventoryItem":
        _required(record, "itemId")
        return
    kind = TRANSACTIONS[record_type]
    if record_type == "journalEntry":
        _required(record, "subsidiary")
        debit = credit = Decimal(0)
        for i, line in enumerate(_lines(record, "line")):
            _required(line, "account", f"line.items[{i}].account")
            debit += Decimal(line.get("debit") or 0)
            credit += Decimal(line.get("credit") or 0)
        if debit.quantize(CENT, ROUND_HALF_UP) != credit.quantize(CENT, ROUND_HALF_UP):
            raise RecordError(
                400,
                "USER_ERROR",
                f"The transaction is out of balance: total debits {debit} do not equal total credits {credit}.",
                "line.items",
            )
        return
    if record_type == "inventoryAdjustment":
        _required(record, "subsidiary")
        _required(record, "account")
        for i, line in enumerate(_lines(record, "inventory")):
            _required(line, "item", f"inventory.items[{i}].item")
            _required(line, "adjustQtyBy", f"inventory.items[{i}].adjustQtyBy")
            if not line.get("location") and not record.get("adjLocation"):
                raise RecordError(
                    400,
                    "FIELD_PARAM_REQD",
                    "Please enter a value for [location].",
                    f"inventory.items[{i}].location",
                )
        return
    if record_type in {"customerPayment", "customerRefund"}:
        _required(record, "customer")
        return
    _required(record, "entity")
    for i, line in enumerate(_lines(record, kind.sublist)):
        _required(line, "item", f"item.items[{i}].item")
        if record_type == "itemFulfillment" and not line.get("location"):
            raise RecordError(
                400, "USER_ERROR", "Please enter value(s) for: Items list: Location", f"item.items[{i}]"
            )


def line_amount(line: dict[str, Any]) -> Decimal | None:
    if line.get("amount") is not None:
        return Decimal(line["amount"])
    if line.get("rate") is not None and line.get("quantity") is not None:
        return (Decimal(line["rate"]) * line["quantity"]).quantize(CENT, ROUND_HALF_UP)
    return None


def _ref(value: Any) -> str | None:
    return value.get("id") if isinstance(value, dict) else None


def project(record_type: str, rid: str, record: dict[str, Any], now: str) -> dict[str, list[dict[str, Any]]]:
    """The SuiteQL rows one record stands for (table -> rows), all stamped `lastmodifieddate = now`."""
    eid = record.get("externalId")
    if record_type == "customer":
        row = {
            "id": rid,
            "entityid": record.get("entityId") or record.get("companyName") or eid or rid,
            "companyname": record.get("companyName"),
            "externalid": eid,
            "subsidiary": _ref(record.get("subsidiary")),
            "currency": _ref(record.get("currency")),
            "lastmodifieddate": now,
        }
        return {"customer": [row]}
    if record_type == "inventoryItem":
        row = {
            "id": rid,
            "itemid": record.get("itemId"),
            "displayname": record.get("displayName"),
            "itemtype": "InvtPart",
            "externalid": eid,
            "isinactive": "T" if record.get("isInactive") in (True, "T", "true") else "F",
            "lastmodifieddate": now,
        }
        return {"item": [row]}
    kind = TRANSACTIONS[record_type]
    lines = (record.get(kind.sublist) or {}).get("items") or []
    rows, total = [], Decimal(0)
    for number, line in enumerate(lines, start=1):
        if record_type == "journalEntry":
            amount = Decimal(line.get("debit") or 0) - Decimal(line.get("credit") or 0)
            total += Decimal(line.get("debit") or 0)
        elif record_type == "inventoryAdjustment":
            amount = None
        elif kind.sublist == "apply":
            amount = (
                Decimal(line["amount"])
                if line.get("amount") is not None and line.get("apply", True)
                else None
            )
            total += amount or 0
        else:
            amount = line_amount(line)
            total += amount or 0
        qty = line.get("adjustQtyBy") if record_type == "inventoryAdjustment" else line.get("quantity")
        location = _ref(line.get("location")) or (
            _ref(record.get("adjLocation"))
            if record_type == "inventoryAdjustment"
            else _ref(record.get("location"))
        )
        rows.append(
            {
                "transaction": rid,
                "id": str(number),
                "linesequencenumber": str(number),
                "item": _ref(line.get("item")),
                "quantity": qty,
                "location": location,
                "foreignamount": None if amount is None else str(amount),
                "lastmodifieddate": now,
            }
        )
    if record.get("payment") is not None:
        total = Decimal(record["payment"])
    elif record.get("total") is not None:
        total = Decimal(record["total"])
    header = {
        "id": rid,
        "tranid": record.get("tranId") or f"{kind.prefix}{rid}",
        "type": kind.code,
        "externalid": eid,
        "entity": _ref(record.get("entity")) or _ref(record.get("customer")),
        "trandate": record.get("tranDate"),
        "currency": _ref(record.get("currency")),
        "memo": record.get("memo"),
        "foreigntotal": None if record_type in {"itemFulfillment", "inventoryAdjustment"} else str(total),
        "lastmodifieddate": now,
    }
    return {"transaction": [header], "transactionline": rows}


def inventory_effects(record_type: str, record: dict[str, Any]) -> list[tuple[str, str, int]]:
    """(item, location, delta) changes to on-hand quantity this record causes."""
    if record_type == "itemFulfillment":
        lines = (record.get("item") or {}).get("items") or []
        return [(_ref(x["item"]), _ref(x["location"]), -int(x.get("quantity") or 0)) for x in lines]
    if record_type == "inventoryAdjustment":
        lines = (record.get("inventory") or {}).get("items") or []
        header = _ref(record.get("adjLocation"))
        return [(_ref(x["item"]), _ref(x.get("location")) or header, int(x["adjustQtyBy"])) for x in lines]
    return []


def transformed(
    source: dict[str, Any], source_id: str, to_type: str, body: dict[str, Any], done: dict[int, int]
) -> dict[str, Any]:
    """The body of a record made by `!transform` from a sales order.

    Lines start as the order's lines with the quantity not yet fulfilled (or billed) — `done`
    maps order line -> quantity already on earlier fulfillments (or bills); body lines given as
    `{"orderLine": n, ...}` override quantity/location, `itemreceive: false` or quantity 0 drops
    a line. Nothing left to do is an error, as in NetSuite.
    """
    overrides = {}
    for i, line in enumerate((body.get("item") or {}).get("items") or []):
        if "orderLine" not in line:
            raise RecordError(
                400, "INVALID_PARAMETER", "Each item line needs orderLine.", f"item.items[{i}].orderLine"
            )
        overrides[int(line["orderLine"])] = line
    lines = []
    for order_line in (source.get("item") or {}).get("items") or []:
        number = int(order_line["line"])
        remaining = int(order_line.get("quantity") or 0) - done.get(number, 0)
        override = overrides.get(number, {})
        if override.get("itemreceive") is False or override.get("itemReceive") is False:
            continue
        qty = int(override["quantity"]) if override.get("quantity") is not None else remaining
        if qty <= 0:
            continue
        if qty > remaining:
            raise RecordError(
                400,
                "USER_ERROR",
                f"Line {number}: quantity {qty} exceeds the remaining quantity {remaining} on the sales order.",
                "item.items",
            )
        new = {"orderLine": number, "item": order_line["item"], "quantity": qty}
        location = override.get("location") or order_line.get("location") or source.get("location")
        if location is not None:
            new["location"] = location
        if to_type != "itemFulfillment":
            ordered = int(order_line.get("quantity") or 0)
            if order_line.get("rate") is not None:
                new["rate"] = order_line["rate"]
            amount = line_amount(order_line)
            if amount is not None and ordered:
                new["amount"] = str((amount * qty / ordered).quantize(CENT, ROUND_HALF_UP))
        lines.append(new)
    if not lines:
        action = "fulfill" if to_type == "itemFulfillment" else "bill"
        raise RecordError(
            400,
            "USER_ERROR",
            f"You can not initialize {to_type.lower()}: the sales order has nothing left to {action}.",
        )
    record = {k: source[k] for k in ("entity", "subsidiary", "currency", "memo") if source.get(k) is not None}
    record.update({k: v for k, v in body.items() if k != "item"})
    record["createdFrom"] = {"id": source_id}
    record["item"] = {"items": lines}
    return record
