"""A large seller for the full-build benchmark: a year of orders and its settlement files, flat memory.

The demo seller (`generate_seller`) holds every order in a list and the SP-API sandbox deep-copies
it into a dict and scans all orders for every page: fine for 2,000 orders, impossible for a
million. Here each order is a pure function of (seed, index) — `Plan.order(i)` — so:

* `write_year` (two worker processes, one per core) draws every order once, writes the V2
  settlement files of the orders it shipped (every 14 days per marketplace, lines exactly as the
  demo seller's, `item_lines`) and each order's `searchOrders` JSON (the datasets LedgerBridge
  asks for, `PRERENDERED`) to a file, and returns the sort index of the orders API:
  (last_updated_at, order_id) per order, with where its JSON is and the fields searches filter on;
* `LargeAmazonSandbox` is the normal sandbox with that index as its `by_update` (bisect to the
  cursor, walk one page) and the orders themselves regenerated on demand; a `searchOrders` page
  splices the pre-rendered JSON, so serving a page costs the sandbox ~100 file reads, not ~100
  order renderings (which would make the sandbox, not LedgerBridge, the bottleneck at a few
  thousand orders/s). Everything else (LWA, inventory, listings, the Reports API with the small
  seller's settlements, NetSuite) is the normal sandbox over a "small" seller whose catalog and
  NetSuite account the large orders use.

Rate limits: Amazon's searchOrders quota is 0.0056 requests/s with a burst of 20, 100 orders a
page: a year of 1,000,000 orders (10,000 pages) takes (10,000 - 20) / 0.0056 s = 20.6 days to
page through at that rate, so no first load of a million orders fits in minutes against the real
API (a backfill that large goes through order reports, or runs for days). The sandbox here serves
with rate limits off (`RATE_LIMIT_SCALE`), and the benchmark prints so.

Timeline (T0 = when the plan is made, whole seconds): the year's orders are purchased in
[T0 - 366 d, T0 - 1 d) and described as of T0 - 1 d; the full ingest runs "as of" T0 - 1 d
(`run_amazon(now=...)`), so the next day's orders ([T0 - 1 d, T0 - 10 min), described as of
T0 - 5 min) are new data for the incremental run, together with one new settlement (US, the 14 days
up to T0 - 1 h). `python -m benchmarks.large_seller PLAN.json` serves both sandboxes in their own
process and prints one JSON line with the environment; it stops when its stdin closes.
"""

from __future__ import annotations

import json
import pickle
import random
import sys
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

CODES = ("US", "CA", "UK", "DE", "AU")
RATE_LIMIT_SCALE = 0  # the sandbox's rate_limit_scale: 0 = no rate limits (see the module docstring)
# The includedData LedgerBridge sends (ingestion.amazon.V2026_INCLUDED); other sets are rendered live.
PRERENDERED = frozenset({"PROCEEDS", "FULFILLMENT", "RECIPIENT"})
PERIOD = timedelta(days=14)
YEAR_PERIODS = 26  # 26 x 14 days = 364 days of settlements per marketplace
SETTLEMENT_BASE = 30_000_000_000
WORKER_CODES = (("US", "UK", "AU"), ("CA", "DE"))  # ~60/40: US rows carry withheld tax lines


class Meta(NamedTuple):
    """What the sandbox knows of a plan order without regenerating it."""

    index: int  # Plan.order(index)
    worker: int  # its searchOrders JSON is in Plan.orders_json_path(worker)...
    offset: int  # ...at this offset
    length: int
    marketplace_id: str
    status: str
    channel: str


@dataclass(frozen=True)
class Plan:
    seed: int
    n_orders: int  # the year's orders (all marketplaces)
    t0: str  # ISO, whole seconds UTC
    workdir: str

    @cached_property
    def now(self) -> datetime:
        return datetime.fromisoformat(self.t0)

    @property
    def year_end(self) -> datetime:
        return self.now - timedelta(days=1)

    @property
    def year_start(self) -> datetime:
        return self.now - timedelta(days=366)

    @property
    def day_orders(self) -> int:
        return max(5, -(-self.n_orders // 365))

    @property
    def total_orders(self) -> int:
        return self.n_orders + self.day_orders

    def save(self) -> Path:
        path = Path(self.workdir) / "plan.json"
        path.write_text(json.dumps(asdict(self)))
        return path

    @classmethod
    def load(cls, path: str | Path) -> Plan:
        return cls(**json.loads(Path(path).read_text()))

    # -- the seller ----------------------------------------------------------------------------
    @cached_property
    def base(self) -> Any:
        """The small demo seller as of the end of the year: catalog, NetSuite account, inventory."""
        from sandbox.generator import generate_seller

        return generate_seller(seed=self.seed, scale="small", today=self.year_end.date())

    @cached_property
    def pools(self) -> dict[str, list[dict]]:
        from sandbox.generator.catalog import skus_by_channel

        return skus_by_channel([c for c in self.base.catalog if c["netsuite_item_id"] is not None])

    @cached_property
    def catalog(self) -> dict[str, dict]:
        return {c["sku"]: c for c in self.base.catalog}

    def purchased_at(self, i: int) -> datetime:
        if i < self.n_orders:
            return self.year_start + (self.year_end - self.year_start) * i / self.n_orders
        day = timedelta(days=1) - timedelta(minutes=10)
        return self.year_end + day * (i - self.n_orders) / self.day_orders

    def order(self, i: int) -> dict:
        """Order number `i` (0 <= i < total_orders), the same dict shape as `Seller.orders`."""
        from sandbox.amazon_orders import whole_seconds
        from sandbox.generator.catalog import make_order, order_id
        from sandbox.generator.marketplaces import MARKETPLACES

        rng = random.Random(self.seed * 1_000_003 + i)
        code = CODES[i % len(CODES)]
        described = self.year_end if i < self.n_orders else self.now - timedelta(minutes=5)
        oid = order_id(rng, code, i)
        return whole_seconds(
            make_order(rng, MARKETPLACES[code], self.pools, oid, self.purchased_at(i), described)
        )

    # -- settlements ---------------------------------------------------------------------------
    def period_end(self, code: str, k: int) -> datetime:
        """End of settlement period k of a marketplace: 0..25 are the year's 14-day periods (staggered
        by an hour per marketplace); 26 is the incremental day's one-day US settlement."""
        if k >= YEAR_PERIODS:
            return self.now - timedelta(hours=1)
        stagger = timedelta(hours=CODES.index(code))
        return self.year_end - timedelta(hours=1) - stagger - PERIOD * (YEAR_PERIODS - 1 - k)

    def period_start(self, code: str, k: int) -> datetime:
        return self.period_end(code, k - 1) if k >= YEAR_PERIODS else self.period_end(code, k) - PERIOD

    def period_of(self, code: str, moment: datetime) -> int | None:
        first_start = self.period_end(code, 0) - PERIOD
        if moment < first_start:
            return None
        return min(int((moment - first_start) / PERIOD), YEAR_PERIODS)

    def settlement_id(self, code: str, k: int) -> str:
        return str(SETTLEMENT_BASE + self.seed * 10_000 + CODES.index(code) * 100 + k)

    def settlement_dir(self) -> Path:
        return Path(self.workdir) / "settlements"

    def incremental_dir(self) -> Path:
        return Path(self.workdir) / "incremental"

    def index_path(self) -> Path:
        return Path(self.workdir) / "orders.index.pickle"

    def orders_json_path(self, worker: int) -> Path:
        return Path(self.workdir) / f"orders.{worker}.json"


def _settlement(plan: Plan, code: str, k: int, lines: list[dict]) -> dict:
    from sandbox.generator.marketplaces import MARKETPLACES

    end = plan.period_end(code, k)
    lines.sort(key=lambda line: (line["posted_at"], line["order_id"], line["order_item_code"]))
    return {
        "settlement_id": plan.settlement_id(code, k),
        "marketplace_code": code,
        "currency": MARKETPLACES[code].currency,
        "start_at": plan.period_start(code, k),
        "end_at": end,
        "deposit_at": end + timedelta(days=1),
        "total_amount": sum((line["amount"] for line in lines), Decimal("0")),
        "lines": lines,
    }


def _write_worker(args: tuple[Plan, int]) -> tuple[list[tuple], int, int]:
    """Draw every order of worker `w`'s marketplaces, write their settlements and searchOrders JSON;
    return (index keys, files, rows)."""
    import orjson

    from sandbox.amazon_shapes import order_2026
    from sandbox.generator.files import write_settlement_v2
    from sandbox.generator.marketplaces import MARKETPLACES
    from sandbox.generator.settlements import item_lines

    plan, worker = args
    codes = WORKER_CODES[worker]
    rendered = plan.orders_json_path(worker).open("wb")
    keys: list[tuple] = []
    open_periods: dict[tuple[str, int], list[dict]] = defaultdict(list)
    files = rows = 0
    year_dir, day_dir = plan.settlement_dir(), plan.incremental_dir()
    year_dir.mkdir(parents=True, exist_ok=True)
    day_dir.mkdir(parents=True, exist_ok=True)

    def close(key: tuple[str, int]) -> None:
        nonlocal files, rows
        lines = open_periods.pop(key)
        code, k = key
        if k > YEAR_PERIODS or (k == YEAR_PERIODS and code != "US") or not lines:
            return
        settlement = _settlement(plan, code, k, lines)
        folder = day_dir if k == YEAR_PERIODS else year_dir
        write_settlement_v2(settlement, folder / f"{settlement['settlement_id']}.v2.txt")
        if k < YEAR_PERIODS:
            files += 1
            rows += len(lines)

    wanted = {CODES.index(c) for c in codes}
    for i in range(plan.total_orders):
        if i % len(CODES) not in wanted:
            continue
        order = plan.order(i)
        code = order["marketplace_code"]
        blob = orjson.dumps(order_2026(order, MARKETPLACES[code].name, set(PRERENDERED), []))
        keys.append(
            (
                order["last_updated_at"],
                order["order_id"],
                Meta(
                    i,
                    worker,
                    rendered.tell(),
                    len(blob),
                    order["marketplace_id"],
                    order["status"],
                    order["fulfillment_channel"],
                ),
            )
        )
        rendered.write(blob)
        shipped = order.get("shipped_at")
        if shipped is not None and order["status"] == "Shipped":
            k = plan.period_of(code, shipped)
            if k is not None and shipped < plan.period_end(code, k):
                mp = MARKETPLACES[code]
                bucket = open_periods[(code, k)]
                for item in order["items"]:
                    bucket.extend(item_lines(mp, order, item, "Order", shipped, plan.catalog))
        # Orders ship at most 72 h after purchase: periods ending 4 days ago are complete.
        horizon = order["purchased_at"] - timedelta(days=4)
        for key in [key for key in open_periods if key[0] == code and plan.period_end(*key) < horizon]:
            close(key)
    for key in list(open_periods):
        close(key)
    rendered.close()
    return keys, files, rows


def write_year(plan: Plan, workers: int = 2) -> dict[str, Any]:
    """Settlement files + the orders index (cached in the workdir: a second call reuses them)."""
    import multiprocessing

    done = Path(plan.workdir) / "year.done.json"
    if done.exists() and plan.index_path().exists() and plan.orders_json_path(0).exists():
        return json.loads(done.read_text())
    Path(plan.workdir).mkdir(parents=True, exist_ok=True)
    jobs = [(plan, worker) for worker in range(len(WORKER_CODES))]
    if workers > 1:
        with multiprocessing.get_context("fork").Pool(min(workers, len(jobs))) as pool:
            results = pool.map(_write_worker, jobs)
    else:
        results = [_write_worker(job) for job in jobs]
    keys = sorted(k for part in results for k in part[0])
    with plan.index_path().open("wb") as handle:
        pickle.dump(keys, handle, protocol=pickle.HIGHEST_PROTOCOL)
    summary = {
        "orders": plan.n_orders,
        "day_orders": plan.day_orders,
        "settlement_files": sum(r[1] for r in results),
        "settlement_rows": sum(r[2] for r in results),
    }
    done.write_text(json.dumps(summary))
    return summary


# -- the sandbox -----------------------------------------------------------------------------------


def large_amazon_sandbox(plan: Plan, **options: Any) -> Any:
    """The SP-API sandbox over the small seller, whose Orders API also serves the plan's orders."""
    import os

    import orjson

    from sandbox.amazon import AmazonSandbox
    from sandbox.http import Response

    class LazyOrders(dict):
        """order_id -> order: orders added or changed live in the dict, the plan's are regenerated."""

        def __init__(self, meta: dict[str, Meta]) -> None:
            super().__init__()
            self.meta = meta

        def __missing__(self, order_id: str) -> dict:
            meta = self.meta.get(order_id)
            if meta is None:
                raise KeyError(order_id)
            return plan.order(meta.index)

        def get(self, order_id: str, default: Any = None) -> Any:
            try:
                return self[order_id]
            except KeyError:
                return default

        def __contains__(self, order_id: object) -> bool:
            return dict.__contains__(self, order_id) or order_id in self.meta

    class LargeAmazonSandbox(AmazonSandbox):
        def __init__(self) -> None:
            super().__init__(seller=plan.base, **options)
            with plan.index_path().open("rb") as handle:
                keys = pickle.load(handle)
            small = self.orders
            self.orders = LazyOrders({order_id: meta for _, order_id, meta in keys})
            dict.update(self.orders, small)
            self.by_update = sorted([(k[0], k[1]) for k in keys] + self.by_update)
            del keys
            self.rendered = [os.open(plan.orders_json_path(w), os.O_RDONLY) for w in range(len(WORKER_CODES))]

        def _stored(self, order_id: str) -> Meta | None:
            """The plan order's metadata while it is as generated (not added, touched or shipped)."""
            return None if dict.__contains__(self.orders, order_id) else self.orders.meta.get(order_id)

        def _find(self, order_id: str) -> dict:
            with self.lock:  # an order about to change moves into the dict, where changes stick
                meta = self._stored(order_id)
                if meta is not None:
                    dict.__setitem__(self.orders, order_id, plan.order(meta.index))
            return super()._find(order_id)

        def touch_order(self, order_id: str, at: datetime | None = None, **changes: Any) -> dict:
            self._find(order_id)
            return super().touch_order(order_id, at, **changes)

        def _matches(self, key: tuple, query: dict, after: datetime, before: datetime) -> bool:
            meta = self._stored(key[1])
            if meta is None or query["field"] != "last_updated_at":
                return super()._matches(key, query, after, before)
            return (
                after <= key[0] <= before
                and meta.marketplace_id in query["marketplaces"]
                and (not query["statuses"] or meta.status in query["statuses"])
                and (not query["channels"] or meta.channel in query["channels"])
            )

        def _order_2026_json(self, order_id: str, included: set[str]) -> Any:
            meta = self._stored(order_id)
            if meta is None or included != PRERENDERED:
                return super()._order_2026_json(order_id, included)
            return orjson.Fragment(os.pread(self.rendered[meta.worker], meta.length, meta.offset))

        def _orders_response(self, body: dict) -> Response:
            return Response(200, orjson.dumps(body), {"Content-Type": "application/json"})

    return LargeAmazonSandbox()


def serve(plan_path: str) -> int:
    """Serve both sandboxes for a plan; print one JSON line (environment); stop when stdin closes.

    Commands on stdin (one per line, answered with one JSON line): `add_orders N` adds N new orders
    purchased now (for the freshness benchmark) and answers their ids.
    """
    from sandbox import credentials
    from sandbox.http import RunningServer
    from sandbox.netsuite import NetSuiteSandbox

    plan = Plan.load(plan_path)
    amazon_app = large_amazon_sandbox(plan, rate_limit_scale=RATE_LIMIT_SCALE)
    netsuite_app = NetSuiteSandbox(seller=plan.base)
    amazon = RunningServer(amazon_app).start()
    netsuite = RunningServer(netsuite_app).start()
    env = credentials.sandbox_env(amazon.url, netsuite.url, CODES)
    print(json.dumps(env), flush=True)
    serial = 0
    for line in sys.stdin:
        command = line.split()
        if command and command[0] == "add_orders":
            ids = []
            for _ in range(int(command[1])):
                serial += 1
                ids.append(add_fresh_order(amazon_app, plan, serial))
            print(json.dumps({"order_ids": ids}), flush=True)
    amazon.stop()
    netsuite.stop()
    return 0


def add_fresh_order(app: Any, plan: Plan, serial: int) -> str:
    """A new Unshipped order, purchased and last updated now (sandbox clock)."""
    from sandbox.generator.catalog import make_order, order_id
    from sandbox.generator.marketplaces import MARKETPLACES

    rng = random.Random(plan.seed * 7_919 + serial)
    now = app.now()
    order = make_order(
        rng,
        MARKETPLACES["US"],
        plan.pools,
        order_id(rng, "US", 9_000_000 + serial),
        now,
        now + timedelta(hours=1),
        channel="MFN",
    )
    order.update(status="Unshipped", shipped_at=None, last_updated_at=now)
    app.add_order(order)
    return order["order_id"]


if __name__ == "__main__":
    sys.exit(serve(sys.argv[1]))
