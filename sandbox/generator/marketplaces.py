"""The five marketplaces of the demo seller and how each formats amounts and dates in settlement files.

Amazon writes settlement files in the marketplace's locale: `1.234,56` and `DD.MM.YYYY` on Amazon.de,
`1,234.56` with dotted dates on Amazon.co.uk, ISO 8601 with offset on Amazon.ca (see docs/contracts.md,
"Marketplaces"). The writers here produce exactly those formats so the parsers get real variety.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal


@dataclass(frozen=True)
class Marketplace:
    code: str
    marketplace_id: str
    name: str  # the settlement `marketplace-name`
    currency: str
    country: str
    decimal_comma: bool  # `1.234,56`
    date_style: str  # "iso_offset" | "utc" | "dotted"
    thousands_separator: str = ""  # "," for UK (`1,234.56`), "." for DE, "" = none (`1234.56`)


MARKETPLACES: dict[str, Marketplace] = {
    "US": Marketplace("US", "ATVPDKIKX0DER", "Amazon.com", "USD", "US", False, "utc"),
    "CA": Marketplace("CA", "A2EUQ1WTGCTBG2", "Amazon.ca", "CAD", "CA", False, "iso_offset"),
    "UK": Marketplace("UK", "A1F83G8C2ARO7P", "Amazon.co.uk", "GBP", "GB", False, "dotted", ","),
    "DE": Marketplace("DE", "A1PA6795UKMFR9", "Amazon.de", "EUR", "DE", True, "dotted", "."),
    "AU": Marketplace("AU", "A39IBJ37TRP1C6", "Amazon.com.au", "AUD", "AU", False, "dotted"),
}

CENT = Decimal("0.01")


def format_amount(amount: Decimal, mp: Marketplace) -> str:
    """`1234.56`, `1,234.56` or `1.234,56` depending on the marketplace."""
    text = f"{abs(amount.quantize(CENT)):.2f}"
    whole, frac = text.split(".")
    if mp.thousands_separator:
        groups = []
        while len(whole) > 3:
            groups.insert(0, whole[-3:])
            whole = whole[:-3]
        groups.insert(0, whole)
        whole = mp.thousands_separator.join(groups)
    sign = "-" if amount < 0 else ""
    return f"{sign}{whole}{',' if mp.decimal_comma else '.'}{frac}"


def format_datetime(moment: datetime, mp: Marketplace) -> str:
    """Header dates and `posted-date-time` in the marketplace's style (always UTC)."""
    moment = moment.astimezone(UTC)
    if mp.date_style == "utc":
        return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    if mp.date_style == "dotted":
        return moment.strftime("%d.%m.%Y %H:%M:%S UTC")
    return iso_offset(moment)


def format_posted_date(moment: datetime, mp: Marketplace) -> str:
    """`posted-date`: `MM/DD/YY` (US), `DD.MM.YYYY` (dotted), full ISO 8601 with offset (CA)."""
    moment = moment.astimezone(UTC)
    if mp.date_style == "utc":
        return moment.strftime("%m/%d/%y")
    if mp.date_style == "dotted":
        return moment.strftime("%d.%m.%Y")
    return iso_offset(moment)


def iso_offset(moment: datetime) -> str:
    """`2026-07-17T07:06:34+00:00`, the legacy flat file style."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def marketplace_by_name(name: str) -> Marketplace:
    for mp in MARKETPLACES.values():
        if mp.name == name:
            return mp
    raise KeyError(f"unknown marketplace name {name!r}")


def marketplace_by_currency(currency: str) -> Marketplace:
    for mp in MARKETPLACES.values():
        if mp.currency == currency:
            return mp
    raise KeyError(f"unknown settlement currency {currency!r}")
