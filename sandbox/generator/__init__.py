"""The deterministic seller generator: a demo Amazon seller and its NetSuite account from one seed.

    from sandbox.generator import generate_seller, write_settlement_v2
    seller = generate_seller(seed=7, scale="small", today=date(2026, 11, 23))

The SP-API and NetSuite sandboxes serve its output; benchmarks use the streaming writers
(`write_large_settlement_v2`, `iter_orders`) whose memory does not grow with the row count.
"""

from sandbox.generator.catalog import iter_orders
from sandbox.generator.files import (
    LEGACY_HEADER,
    V2_HEADER,
    legacy_amount_key,
    settlement_legacy_rows,
    settlement_v2_rows,
    settlement_v2_text,
    write_settlement_files,
    write_settlement_legacy,
    write_settlement_v2,
)
from sandbox.generator.marketplaces import (
    MARKETPLACES,
    Marketplace,
    format_amount,
    format_datetime,
    format_posted_date,
    marketplace_by_currency,
    marketplace_by_name,
)
from sandbox.generator.seller import Seller, generate_seller
from sandbox.generator.settlements import UNKNOWN_FEE
from sandbox.generator.stream import iter_settlement_v2_rows, settlement_total, write_large_settlement_v2

__all__ = [
    "LEGACY_HEADER",
    "MARKETPLACES",
    "UNKNOWN_FEE",
    "V2_HEADER",
    "Marketplace",
    "Seller",
    "format_amount",
    "format_datetime",
    "format_posted_date",
    "generate_seller",
    "iter_orders",
    "iter_settlement_v2_rows",
    "legacy_amount_key",
    "marketplace_by_currency",
    "marketplace_by_name",
    "settlement_legacy_rows",
    "settlement_total",
    "settlement_v2_rows",
    "settlement_v2_text",
    "write_large_settlement_v2",
    "write_settlement_files",
    "write_settlement_legacy",
    "write_settlement_v2",
]
