"""Each test gets its own warehouse, published copy, inbox and reports folder (env vars, tmp_path)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture()
def lb_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    paths = {
        "warehouse": tmp_path / "data" / "warehouse.duckdb",
        "published": tmp_path / "data" / "published.duckdb",
        "inbox": tmp_path / "inbox",
        "reports": tmp_path / "reports",
    }
    paths["warehouse"].parent.mkdir(parents=True)
    paths["inbox"].mkdir()
    monkeypatch.setenv("LEDGERBRIDGE_WAREHOUSE", str(paths["warehouse"]))
    monkeypatch.setenv("LEDGERBRIDGE_PUBLISHED", str(paths["published"]))
    monkeypatch.setenv("LEDGERBRIDGE_INBOX", str(paths["inbox"]))
    monkeypatch.setenv("LEDGERBRIDGE_REPORTS", str(paths["reports"]))
    return paths
