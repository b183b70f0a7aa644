"""Amazon source settings, read from the environment (docs/contracts.md, "Configuration").

Unset credentials fall back to the sandbox's demo values so `ledgerbridge ingest` works against
`ledgerbridge sandbox serve` out of the box. Everything else is a plain constant here so the
source, the client and the tests agree on one place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta

from sandbox import credentials as demo

DEFAULT_SP_API_URL = "http://127.0.0.1:8765"
DEFAULT_LWA_URL = "http://127.0.0.1:8765"
LWA_TOKEN_PATH = "/auth/o2/token"

# code -> marketplace id (docs/contracts.md, "Marketplaces")
MARKETPLACE_IDS: dict[str, str] = {
    "US": "ATVPDKIKX0DER",
    "CA": "A2EUQ1WTGCTBG2",
    "UK": "A1F83G8C2ARO7P",
    "DE": "A1PA6795UKMFR9",
    "AU": "A39IBJ37TRP1C6",
}
DEFAULT_MARKETPLACES = ("US", "CA", "UK", "DE", "AU")

ORDERS_API_VERSIONS = ("v2026", "v0")
SETTLEMENT_REPORT_TYPE = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
LISTINGS_REPORT_TYPE = "GET_MERCHANT_LISTINGS_ALL_DATA"
# Marketplaces whose flat files write `1.234,56`; the others write `1,234.56`.
DECIMAL_COMMA_MARKETPLACES = frozenset({"DE"})
# Amazon lists reports (settlements included) for 90 days after creation, no longer.
REPORTS_LISTABLE = timedelta(days=90)
# getOrders/searchOrders refuse a `LastUpdatedBefore` later than two minutes before now.
ORDERS_END_MARGIN = timedelta(minutes=2)


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _number(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with full jitter for throttling and transient failures."""

    tries: int = 6
    base_delay: float = 1.0  # seconds before the 2nd try; doubles each time
    max_delay: float = 30.0


@dataclass(frozen=True)
class ReportPolling:
    """How long to wait for a requested report: polls back off from `first_delay` to `max_delay`."""

    first_delay: float = 0.5
    max_delay: float = 60.0
    timeout: float = 1800.0  # total seconds of waiting before giving up


@dataclass(frozen=True)
class AmazonSettings:
    sp_api_url: str = DEFAULT_SP_API_URL
    lwa_url: str = DEFAULT_LWA_URL
    client_id: str = demo.LWA_CLIENT_ID
    client_secret: str = field(default=demo.LWA_CLIENT_SECRET, repr=False)
    refresh_token: str = field(default=demo.REFRESH_TOKEN, repr=False)
    seller_id: str = demo.SELLER_ID
    marketplaces: tuple[str, ...] = DEFAULT_MARKETPLACES
    orders_api: str = "v2026"
    store_buyer_pii: bool = False
    # First load reaches this far back (Amazon keeps orders for about two years).
    initial_history: timedelta = timedelta(days=730)
    # Re-read this much before the last cursor value: late updates and clock skew.
    orders_lookback: timedelta = timedelta(hours=1)
    settlements_lookback: timedelta = timedelta(days=3)
    page_size: int = 100
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    report_polling: ReportPolling = field(default_factory=ReportPolling)
    timeout: float = 60.0

    def __post_init__(self) -> None:
        unknown = [code for code in self.marketplaces if code not in MARKETPLACE_IDS]
        if unknown:
            raise ValueError(
                f"AMAZON_MARKETPLACES: unknown marketplace code(s) {', '.join(unknown)}; "
                f"known: {', '.join(MARKETPLACE_IDS)}"
            )
        if self.orders_api not in ORDERS_API_VERSIONS:
            raise ValueError(
                f"AMAZON_ORDERS_API must be one of {', '.join(ORDERS_API_VERSIONS)}, not {self.orders_api!r}"
            )

    @property
    def marketplace_ids(self) -> dict[str, str]:
        return {code: MARKETPLACE_IDS[code] for code in self.marketplaces}

    @classmethod
    def from_env(cls) -> AmazonSettings:
        env = os.environ.get
        codes = tuple(
            c.strip().upper()
            for c in env("AMAZON_MARKETPLACES", ",".join(DEFAULT_MARKETPLACES)).split(",")
            if c.strip()
        )
        return cls(
            sp_api_url=(env("AMAZON_SP_API_URL") or DEFAULT_SP_API_URL).rstrip("/"),
            lwa_url=(env("AMAZON_LWA_URL") or DEFAULT_LWA_URL).rstrip("/"),
            client_id=env("AMAZON_LWA_CLIENT_ID") or demo.LWA_CLIENT_ID,
            client_secret=env("AMAZON_LWA_CLIENT_SECRET") or demo.LWA_CLIENT_SECRET,
            refresh_token=env("AMAZON_REFRESH_TOKEN") or demo.REFRESH_TOKEN,
            seller_id=env("AMAZON_SELLER_ID") or demo.SELLER_ID,
            marketplaces=codes,
            orders_api=(env("AMAZON_ORDERS_API") or "v2026").strip().lower(),
            store_buyer_pii=_flag("AMAZON_STORE_BUYER_PII"),
            initial_history=timedelta(days=_number("AMAZON_INITIAL_HISTORY_DAYS", 730)),
            orders_lookback=timedelta(seconds=_number("AMAZON_ORDERS_LOOKBACK_SECONDS", 3600)),
            retry=RetryPolicy(
                tries=int(_number("AMAZON_RETRY_TRIES", 6)),
                base_delay=_number("AMAZON_RETRY_BASE_SECONDS", 1.0),
                max_delay=_number("AMAZON_RETRY_MAX_SECONDS", 30.0),
            ),
        )
