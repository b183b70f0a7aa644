"""Amazon Seller Central: the SP-API dlt source (`source`) and the settlement loader (`settlements`).

`amazon_source` and the source's other names are importable from here as before, but load lazily:
the settlement import (`ingestion.amazon.settlements`) then starts without dlt and the SP-API
client (~0.7 s of a day's 1.2 s import).
"""

from __future__ import annotations

from typing import Any

_SOURCE_NAMES = frozenset(
    {
        "ORDERS_BATCH",
        "PREFETCH_PAGES",
        "V2026_INCLUDED",
        "amazon_source",
        "inventory_summaries_resource",
        "orders_resource",
        "prefetched",
    }
)


def __getattr__(name: str) -> Any:
    if name in _SOURCE_NAMES:  # other names (submodules) fail fast, so `from . import x` stays cheap
        from ingestion.amazon import source

        return getattr(source, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_SOURCE_NAMES})
