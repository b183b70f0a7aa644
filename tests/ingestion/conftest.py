"""Shared fixtures of the ingestion tests: a warehouse in tmp_path."""

from __future__ import annotations

import pytest


@pytest.fixture
def warehouse(tmp_path, monkeypatch):
    """A fresh warehouse file (dlt pipeline state goes next to it) and inbox under tmp_path."""
    path = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("LEDGERBRIDGE_WAREHOUSE", str(path))
    monkeypatch.setenv("LEDGERBRIDGE_INBOX", str(tmp_path / "inbox"))
    return path
