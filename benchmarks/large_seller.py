"""A large seller for the full-build benchmark: a year of orders and its settlement files, flat memory.

The demo seller (`generate_seller`) holds every order in a list and the SP-API sandbox deep-copies
it into a dict and scans all orders for every page: fine for 2,000 orders, impossible for a
million. Here each order is a pure function of (seed, index) — `Plan.order(i)` — so:

* `write_year` (two worker processes, one per core) draws every order once, writes the V2
  settlement files of the orders it shipped (every 14 days per marketplace, lines exactly as the
  demo seller's, `item_lines`), and returns the compact sort index of the orders API:
  (last_updated_at, order_id) per order;
* `LargeAmazonSandbox` serves `searchOrders` / `getOrders` from that index (bisect to the cursor,
  then regenerate the ~100 orders of the page), so the sandbox's memory and CPU per page do not
  grow with the year. Everything else (LWA, inventory, listings, the Reports API with the small
  seller's settlements, NetSuite) is the normal sandbox over a "small" seller whose catalog and
  NetSuite account the large orders use.

Timeline (T0 = when the plan is made, whole seconds): the year's orders are purchased in
[T0 - 366 d, T0 - 1 d) and described as of T0 - 1 d; the full ingest runs "as of" T0 - 1 d
(`run_amazon(now=...)`), so the next day's orders ([T0 - 1 d, T0 - 10 min), described as of
T0 - 5 min) are new data for the incremental run, together with one new settlement (US, the 14 days
up to T0 - 1 h). `python -m benchmarks.large_seller PLAN.json` serves both sandboxes in their own
process and prints one JSON line with the environment; it stops when its stdin closes.
"""

from __future__ import annotations

import bisect
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
from typing import Any

CODES = ("US", "CA", "UK", "DE", "AU")
PERIOD = timedelta(days=14)
YEAR_PERIODS = 26  # 26 x 14 days = 364 days of settlements per marketplace
SETTLEMENT_BASE = 30_000_000_000
WORKER_CODES = (("US", "UK", "AU"), ("CA", "DE"))  # ~60/40: US rows carry withheld tax lines


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


def _write_worker(args: tuple[Plan, tuple[str, ...]]) -> tuple[list[tuple], int, int]:
    """Draw every order of `codes`, write their settlements; return (index keys, files, rows)."""
    from sandbox.generator.files import write_settlement_v2
    from sandbox.generator.marketplaces import MARKETPLACES
    from sandbox.generator.settlements import item_lines

    plan, codes = args
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
        keys.append((order["last_updated_at"], order["order_id"], i))
        code = order["marketplace_code"]
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
    return keys, files, rows


def write_year(plan: Plan, workers: int = 2) -> dict[str, Any]:
    """Settlement files + the orders index (cached in the workdir: a second call reuses them)."""
    import multiprocessing

    done = Path(plan.workdir) / "year.done.json"
    if done.exists() and plan.index_path().exists():
        return json.loads(done.read_text())
    Path(plan.workdir).mkdir(parents=True, exist_ok=True)
    jobs = [(plan, codes) for codes in WORKER_CODES]
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
    """The SP-API sandbox over the small seller, whose Orders API serves the plan's orders."""
    from sandbox.amazon import AmazonSandbox
    from sandbox.amazon_orders import whole_seconds

    class LazyOrders(dict):
        """order_id -> order; the plan's orders are regenerated on demand, others live in the dict."""

        def __init__(self, ids: dict[str, int]) -> None:
            super().__init__()
            self.ids = ids

        def __missing__(self, order_id: str) -> dict:
            i = self.ids.get(order_id)
            if i is None:
                raise KeyError(order_id)
            return plan.order(i)

        def get(self, order_id: str, default: Any = None) -> Any:
            try:
                return self[order_id]
            except KeyError:
                return default

        def __contains__(self, order_id: object) -> bool:
            return dict.__contains__(self, order_id) or order_id in self.ids

    class LargeAmazonSandbox(AmazonSandbox):
        def __init__(self) -> None:
            super().__init__(seller=plan.base, **options)
            with plan.index_path().open("rb") as handle:
                keys = pickle.load(handle)
            small = self.orders
            self.orders = LazyOrders({k[1]: k[2] for k in keys})
            self.index = [(k[0], k[1]) for k in keys]
            del keys
            for order in small.values():
                self.add_order(order)

        def add_order(self, order: dict) -> dict:
            added = super().add_order(order)
            stored = dict.__getitem__(self.orders, added["order_id"])
            bisect.insort(self.index, (stored["last_updated_at"], stored["order_id"]))
            return added

        def touch_order(self, order_id: str, at: datetime | None = None, **changes: Any) -> dict:
            with self.lock:
                order = self.orders[order_id]
                before = (order["last_updated_at"], order_id)
                dict.__setitem__(self.orders, order_id, order)
                self.index.pop(bisect.bisect_left(self.index, before))
            changed = super().touch_order(order_id, at, **changes)
            with self.lock:
                bisect.insort(self.index, (changed["last_updated_at"], order_id))
            return changed

        def _select(self, query: dict) -> tuple[list[dict], str | None]:
            from sandbox.amazon_common import parse_time
            from sandbox.amazon_shapes import iso

            if query["field"] != "last_updated_at":
                return super()._select(query)
            after = whole_seconds({"a": parse_time(query["after"], "after")})["a"]
            before = parse_time(query["before"], "before")
            if query.get("cursor"):
                start = (parse_time(query["cursor"][0], "cursor"), query["cursor"][1])
                position = bisect.bisect_right(self.index, start)
            else:
                position = bisect.bisect_left(self.index, (after, ""))
            page: list[dict] = []
            size = query["size"]
            while position < len(self.index) and len(page) <= size:
                moment, order_id = self.index[position]
                position += 1
                if moment > before or moment < after:
                    if moment > before:
                        break
                    continue
                order = self.orders[order_id]
                if (
                    order["marketplace_id"] in query["marketplaces"]
                    and (not query["statuses"] or order["status"] in query["statuses"])
                    and (not query["channels"] or order["fulfillment_channel"] in query["channels"])
                ):
                    page.append(order)
            token = None
            if len(page) > size:
                page = page[:size]
                last = page[-1]
                from sandbox.amazon_common import encode_token

                token = encode_token(
                    query["kind"], {**query, "cursor": [iso(last["last_updated_at"]), last["order_id"]]}
                )
            return page, token

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
    amazon_app = large_amazon_sandbox(plan, rate_limit_scale=0)
    netsuite_app = NetSuiteSandbox(seller=plan.base)
    amazon = RunningServer(amazon_app).start()
    netsuite = RunningServer(netsuite_app).start()
    env = sandbox_env(amazon.url, netsuite.url, credentials)
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


def sandbox_env(amazon_url: str, netsuite_url: str, credentials: Any) -> dict[str, str]:
    """The variables that point ingestion, dbt and the push at these sandboxes (TBA auth)."""
    return {
        "AMAZON_SP_API_URL": amazon_url,
        "AMAZON_LWA_URL": amazon_url,
        "AMAZON_LWA_CLIENT_ID": credentials.LWA_CLIENT_ID,
        "AMAZON_LWA_CLIENT_SECRET": credentials.LWA_CLIENT_SECRET,
        "AMAZON_REFRESH_TOKEN": credentials.REFRESH_TOKEN,
        "AMAZON_SELLER_ID": credentials.SELLER_ID,
        "AMAZON_MARKETPLACES": ",".join(CODES),
        "NETSUITE_URL": netsuite_url,
        "NETSUITE_ACCOUNT_ID": credentials.NETSUITE_ACCOUNT_ID,
        "NETSUITE_AUTH": "tba",
        "NETSUITE_CONSUMER_KEY": credentials.CONSUMER_KEY,
        "NETSUITE_CONSUMER_SECRET": credentials.CONSUMER_SECRET,
        "NETSUITE_TOKEN_ID": credentials.TOKEN_ID,
        "NETSUITE_TOKEN_SECRET": credentials.TOKEN_SECRET,
    }


if __name__ == "__main__":
    sys.exit(serve(sys.argv[1]))
