"""The end-to-end story's fixtures: both sandboxes on ephemeral ports, a fresh warehouse, the CLI.

Everything goes over real HTTP: the CLI talks to the sandboxes as it would to Amazon and NetSuite,
and the tests look at what NetSuite holds through the sandbox's REST API and its `/_sandbox/...`
introspection endpoints, never through the sandbox's Python objects.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

SEED = 7
# The tiny seller's US orders only (FBA + MFN, the unmapped SKUs), to keep the module fast; the
# settlement reports still cover every marketplace, the UK one with the planted unknown fee too.
MARKETPLACES = "US"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class Pipeline:
    """One installation: sandboxes, environment and warehouse, driven through `ledgerbridge`."""

    sandboxes: Any
    warehouse: Path
    netsuite_url: str
    amazon_url: str

    def run(self, *argv: str) -> int:
        from orchestration.cli import main

        return main(list(argv))

    def sandbox(self, base: str, path: str, method: str = "GET") -> Any:
        with urllib.request.urlopen(urllib.request.Request(base + path, method=method), timeout=30) as r:
            body = r.read()
        return json.loads(body) if body else None

    def clear_requests(self) -> None:
        for base in (self.netsuite_url, self.amazon_url):
            self.sandbox(base, "/_sandbox/requests", "DELETE")

    def writes(self, base: str | None = None) -> list[dict[str, Any]]:
        """Write requests logged since the last clear (the LWA token exchange is not a write)."""
        requests = self.sandbox(base or self.netsuite_url, "/_sandbox/requests")["requests"]
        return [
            r for r in requests if r["method"] in WRITE_METHODS and not r["path"].endswith("/auth/o2/token")
        ]

    def netsuite_records(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Every record written through the REST API: type -> externalId -> record."""
        held = self.sandbox(self.netsuite_url, "/_sandbox/records")
        return {t: {r.get("externalId"): r for r in v["items"]} for t, v in held.items()}

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def netsuite_client(self):
        from ingestion.netsuite.client import NetSuiteClient

        return NetSuiteClient.from_env()


@pytest.fixture(scope="module")
def start_pipeline(tmp_path_factory):
    """Factory: a fresh pair of sandboxes + warehouse, with the environment pointing at them."""
    from sandbox.cli import Sandboxes

    started: list[tuple[Any, pytest.MonkeyPatch]] = []

    def start(name: str) -> Pipeline:
        root = tmp_path_factory.mktemp(name)
        sandboxes = Sandboxes(seed=SEED, scale="tiny", key_dir=root / "keys").start()
        patch = pytest.MonkeyPatch()
        started.append((sandboxes, patch))
        for key, value in sandboxes.env().items():
            patch.setenv(key, value)
        patch.setenv("AMAZON_MARKETPLACES", MARKETPLACES)
        patch.setenv("LEDGERBRIDGE_WAREHOUSE", str(root / "warehouse.duckdb"))
        patch.setenv("LEDGERBRIDGE_INBOX", str(root / "inbox"))
        patch.setenv("LEDGERBRIDGE_REPORTS", str(root / "reports"))
        patch.setenv("LEDGERBRIDGE_PUBLISHED", str(root / "published.duckdb"))
        return Pipeline(sandboxes, root / "warehouse.duckdb", sandboxes.netsuite.url, sandboxes.amazon.url)

    yield start
    for sandboxes, patch in reversed(started):
        patch.undo()
        sandboxes.stop()
