"""NetSuite extraction settings: which SuiteQL tables, their columns, keys and paging limits.

Connection and auth settings (NETSUITE_URL, NETSUITE_AUTH, ...) belong to `client.py`; this
module only says *what* to read. Columns follow docs/contracts.md (`raw_netsuite`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

# SuiteQL over REST: at most 1,000 rows a page and 100,000 results a query.
PAGE_SIZE = 1000
MAX_QUERY_RESULTS = 100_000
# Each keyset slice stays well under the 100,000 cap; the next slice starts after its last key.
SLICE_ROWS = 90_000

ID = "id"  # column kinds used to type the string values SuiteQL returns
INT = "int"
MONEY = "money"
TEXT = "text"
TIMESTAMP = "timestamp"
DATE = "date"


@dataclass(frozen=True)
class Table:
    """One SuiteQL table: contract columns with kinds, merge key, optional SQL source for joins."""

    name: str
    columns: dict[str, str]
    key: tuple[str, ...] = ("id",)
    # `FROM ...` clause and column expressions when the table needs a join (transactionline).
    source: str | None = None
    expressions: dict[str, str] | None = None
    merge_key: str | None = None  # replace all rows of this parent on reload (removed lines vanish)

    def expr(self, column: str) -> str:
        return (self.expressions or {}).get(column, column)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "subsidiary",
            {"id": ID, "name": TEXT, "currency": ID, "country": TEXT, "lastmodifieddate": TIMESTAMP},
        ),
        Table("currency", {"id": ID, "symbol": TEXT, "name": TEXT, "lastmodifieddate": TIMESTAMP}),
        Table(
            "account",
            {
                "id": ID,
                "acctnumber": TEXT,
                "fullname": TEXT,
                "accttype": TEXT,
                "externalid": TEXT,
                "lastmodifieddate": TIMESTAMP,
            },
        ),
        Table(
            "location",
            {
                "id": ID,
                "name": TEXT,
                "externalid": TEXT,
                "subsidiary": ID,
                "isinactive": TEXT,
                "lastmodifieddate": TIMESTAMP,
            },
        ),
        Table(
            "item",
            {
                "id": ID,
                "itemid": TEXT,
                "displayname": TEXT,
                "itemtype": TEXT,
                "externalid": TEXT,
                "isinactive": TEXT,
                "lastmodifieddate": TIMESTAMP,
            },
        ),
        Table(
            "customer",
            {
                "id": ID,
                "entityid": TEXT,
                "companyname": TEXT,
                "externalid": TEXT,
                "subsidiary": ID,
                "currency": ID,
                "lastmodifieddate": TIMESTAMP,
            },
        ),
        Table(
            "transaction",
            {
                "id": ID,
                "tranid": TEXT,
                "type": TEXT,
                "externalid": TEXT,
                "entity": ID,
                "trandate": DATE,
                "currency": ID,
                "memo": TEXT,
                "foreigntotal": MONEY,
                "lastmodifieddate": TIMESTAMP,
            },
        ),
        Table(
            "transactionline",
            {
                "transaction": ID,
                "id": ID,
                "linesequencenumber": INT,
                "item": ID,
                "quantity": INT,
                "location": ID,
                "foreignamount": MONEY,
                "lastmodifieddate": TIMESTAMP,
            },
            key=("transaction", "id"),
            # Lines carry no modification date of their own in the contract: the parent's decides.
            source="transactionline tl JOIN transaction t ON t.id = tl.transaction",
            expressions={
                "transaction": "tl.transaction",
                "id": "tl.id",
                "linesequencenumber": "tl.linesequencenumber",
                "item": "tl.item",
                "quantity": "tl.quantity",
                "location": "tl.location",
                "foreignamount": "tl.foreignamount",
                "lastmodifieddate": "t.lastmodifieddate",
            },
            merge_key="transaction",
        ),
        Table(
            "aggregateitemlocation",
            {
                "item": ID,
                "location": ID,
                "quantityonhand": INT,
                "quantityavailable": INT,
                "lastmodifieddate": TIMESTAMP,
            },
            key=("item", "location"),
        ),
        Table(
            "pricing",
            {
                "item": ID,
                "pricelevel": ID,
                "pricelevelname": TEXT,
                "currency": ID,
                "unitprice": MONEY,
                "lastmodifieddate": TIMESTAMP,
            },
            key=("item", "pricelevel", "currency"),
            # Prices are part of the item record: the item's modification date decides, and an
            # item's prices are replaced together (a removed price disappears).
            source="pricing p JOIN item i ON i.id = p.item JOIN pricelevel pl ON pl.id = p.pricelevel",
            expressions={
                "item": "p.item",
                "pricelevel": "p.pricelevel",
                "pricelevelname": "pl.name",
                "currency": "p.currency",
                "unitprice": "p.unitprice",
                "lastmodifieddate": "i.lastmodifieddate",
            },
            merge_key="item",
        ),
    )
}


@dataclass(frozen=True)
class NetSuiteSettings:
    tables: tuple[str, ...] = tuple(TABLES)
    page_size: int = PAGE_SIZE
    slice_rows: int = SLICE_ROWS
    # Re-read rows modified this long before the last cursor value (clock skew, slow commits).
    lookback: timedelta = timedelta(minutes=10)

    def __post_init__(self) -> None:
        unknown = [t for t in self.tables if t not in TABLES]
        if unknown:
            raise ValueError(f"unknown NetSuite table(s) {', '.join(unknown)}; known: {', '.join(TABLES)}")
        if not 0 < self.page_size <= PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{PAGE_SIZE}")
        if self.slice_rows % self.page_size or not self.page_size <= self.slice_rows < MAX_QUERY_RESULTS:
            raise ValueError(f"slice_rows must be a multiple of page_size below {MAX_QUERY_RESULTS}")

    @classmethod
    def from_env(cls) -> NetSuiteSettings:
        lookback = os.environ.get("NETSUITE_LOOKBACK_SECONDS")
        return cls(lookback=timedelta(seconds=float(lookback)) if lookback else cls.lookback)
