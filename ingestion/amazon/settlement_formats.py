"""The vocabulary of Amazon settlement flat files: layouts, column names, number and date formats.

Everything here produces DuckDB SQL fragments, because settlement files are parsed in bulk by
DuckDB (see `settlements.py`): a value is never turned into a Python float or datetime row by row.
Formats differ by marketplace (docs/contracts.md, "Marketplaces"), so the format of a column is
detected per file from its values, and then every value of that column must match it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

# --- layouts -------------------------------------------------------------------------------------

SUMMARY_COLUMNS = (
    "settlement-id",
    "settlement-start-date",
    "settlement-end-date",
    "deposit-date",
    "total-amount",
    "currency",
)
_SHARED = (
    "transaction-type",
    "order-id",
    "merchant-order-id",
    "adjustment-id",
    "shipment-id",
    "marketplace-name",
)

V2_COLUMNS = (
    *SUMMARY_COLUMNS,
    *_SHARED,
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
)

LEGACY_COLUMNS = (
    *SUMMARY_COLUMNS,
    *_SHARED,
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
)

OPTIONAL_COLUMNS = frozenset({"promotion-id"})


@dataclass(frozen=True)
class AmountFamily:
    """A legacy `*-amount` column, the amount_type it becomes and where its description comes from."""

    amount_column: str
    amount_type: str
    description_column: str | None  # None: the row's transaction-type describes it


# In header order of the legacy file; each non-empty amount becomes one settlement line.
LEGACY_AMOUNT_FAMILIES = (
    AmountFamily("shipment-fee-amount", "ShipmentFees", "shipment-fee-type"),
    AmountFamily("order-fee-amount", "OrderFees", "order-fee-type"),
    AmountFamily("price-amount", "ItemPrice", "price-type"),
    AmountFamily("item-related-fee-amount", "ItemFees", "item-related-fee-type"),
    AmountFamily("misc-fee-amount", "other-transaction", None),
    AmountFamily("other-fee-amount", "other-transaction", "other-fee-reason-description"),
    AmountFamily("promotion-amount", "Promotion", "promotion-type"),
    AmountFamily("direct-payment-amount", "DirectPayment", "direct-payment-type"),
    AmountFamily("other-amount", "other-transaction", None),
)


def required_columns(layout: str) -> tuple[str, ...]:
    columns = V2_COLUMNS if layout == "v2" else LEGACY_COLUMNS
    return tuple(c for c in columns if c not in OPTIONAL_COLUMNS)


def known_columns(layout: str) -> frozenset[str]:
    # posted-date-time is V2's, but a legacy file that carries it is understood too.
    return frozenset(V2_COLUMNS if layout == "v2" else (*LEGACY_COLUMNS, "posted-date-time"))


def detect_layout(header: list[str]) -> str | None:
    """`v2` (amount-type/amount-description/amount), `legacy` (wide *-amount columns), or None."""
    names = set(header)
    if {"amount-type", "amount"} & names:
        return "v2"
    if any(f.amount_column in names for f in LEGACY_AMOUNT_FAMILIES):
        return "legacy"
    return None


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def trimmed(expr: str) -> str:
    """SQL of `trim(expr)` that copies only the values with spaces around them.

    trim() builds a new string for every value, which costs more than the strptime or cast after
    it; files rarely pad values, so a prefix/suffix test first is five times cheaper.
    """
    return f"CASE WHEN prefix({expr}, ' ') OR suffix({expr}, ' ') THEN trim({expr}) ELSE {expr} END"


# --- amounts -------------------------------------------------------------------------------------
# An amount has an optional sign, digits optionally grouped by thousands, and at most two decimals.
# The decimal mark is the file's: the one under which every amount of the file reads as a number
# (`1.234,56` / `95,00` → ","; `1,234.56` / `19.67` → "."). A value readable under both marks has
# no separator at all, so the choice never changes a value.

DECIMAL_MARKS = (".", ",")


def amount_pattern(mark: str) -> str:
    thousands = "," if mark == "." else r"\."
    return rf"^[+-]?(\d{{1,3}}({thousands}\d{{3}})+|\d+)({re.escape(mark)}\d{{1,2}})?$"


def parse_amount(text: str, mark: str) -> Decimal | None:
    """One amount written with decimal `mark` as Decimal; None when it does not read under that mark."""
    value = text.strip()
    if not re.match(amount_pattern(mark), value):
        return None
    value = value.replace("," if mark == "." else ".", "")
    return Decimal(value.replace(",", ".") if mark == "," else value)


def amount_sql(expr: str, mark: str) -> str:
    """SQL turning a validated amount text into DECIMAL(18,2), straight from text (never a float)."""
    thousands = "," if mark == "." else "."
    cleaned = f"replace({trimmed(expr)}, {literal(thousands)}, '')"
    if mark == ",":
        cleaned = f"replace({cleaned}, ',', '.')"
    return f"CAST({cleaned} AS DECIMAL(18,2))"


# --- dates ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DateStyle:
    """One way Amazon writes a date. `timestamp` styles carry a time; the others are dates only."""

    name: str
    pattern: str  # full-match regex (Python and DuckDB) deciding the style from a value
    label: str  # as shown to the user
    timestamp: bool

    def timestamp_sql(self, expr: str) -> str:
        """SQL giving TIMESTAMPTZ (UTC) or NULL when a value does not parse in this style.

        A UTC wall-clock time becomes the instant through its epoch microseconds, which does not
        depend on the session's TimeZone (and skips the ICU time-zone conversion of a CAST).
        """
        v = trimmed(expr)
        if self.name == "iso":
            return f"TRY_CAST({v} AS TIMESTAMPTZ)"
        if self.name == "ymd_utc":
            return _utc(f"try_strptime({v}, '%Y-%m-%d %H:%M:%S UTC')")
        if self.name == "dmy_utc":
            return _utc(f"try_strptime({v}, '%d.%m.%Y %H:%M:%S UTC')")
        # a date-only value as a timestamp: midnight UTC
        return _utc(f"CAST({self.date_sql(expr)} AS TIMESTAMP)")

    def date_sql(self, expr: str) -> str:
        """SQL giving the DATE as written in the file (before any time-zone shift) or NULL."""
        v = trimmed(expr)
        if self.name in ("iso", "ymd_utc", "ymd"):
            return f"TRY_CAST(substr({v}, 1, 10) AS DATE)"
        if self.name == "dmy_utc":
            return f"CAST(try_strptime(substr({v}, 1, 10), '%d.%m.%Y') AS DATE)"
        if self.name == "dmy":
            return f"CAST(try_strptime({v}, '%d.%m.%Y') AS DATE)"
        raise ValueError(f"{self.label} dates need the two-digit resolution")


def _utc(timestamp_sql: str) -> str:
    """A TIMESTAMP read as UTC wall-clock time → TIMESTAMPTZ."""
    return f"make_timestamptz(epoch_us({timestamp_sql}))"


DATE_STYLES = (
    DateStyle(
        "iso", r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)", "ISO 8601", True
    ),
    DateStyle("ymd_utc", r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC", "YYYY-MM-DD HH:MM:SS UTC", True),
    DateStyle("dmy_utc", r"\d{1,2}\.\d{1,2}\.\d{4} \d{2}:\d{2}:\d{2} UTC", "DD.MM.YYYY HH:MM:SS UTC", True),
    DateStyle("dmy", r"\d{1,2}\.\d{1,2}\.\d{4}", "DD.MM.YYYY", False),
    DateStyle("ymd", r"\d{4}-\d{2}-\d{2}", "YYYY-MM-DD", False),
    DateStyle("two_digit", r"\d{1,2}/\d{1,2}/\d{2}", "MM/DD/YY or DD/MM/YY", False),
)


def detect_date_style(value: str) -> DateStyle | None:
    value = value.strip()
    for style in DATE_STYLES:
        if re.fullmatch(style.pattern, value):
            return style
    return None


def two_digit_sql(expr: str, day_first: bool) -> str:
    """A two-digit-year date read one way (DD/MM/YY when day_first, else MM/DD/YY); NULL if invalid."""
    fmt = "%d/%m/%y" if day_first else "%m/%d/%y"
    return f"CAST(try_strptime({trimmed(expr)}, '{fmt}') AS DATE)"
