"""Fixtures for the reverse ETL tests: the NetSuite sandbox over HTTP and a real DuckDB warehouse."""

from __future__ import annotations

from pathlib import Path

import pytest
from sync_support import desired_rows, write_models


@pytest.fixture(scope="session")
def seller():
    from sandbox.generator import generate_seller

    return generate_seller(3, "tiny")


@pytest.fixture
def netsuite(seller):
    """A running NetSuite sandbox (concurrency limit 5)."""
    from sandbox.http import RunningServer
    from sandbox.netsuite import NetSuiteSandbox

    server = RunningServer(NetSuiteSandbox(seller=seller, concurrency_limit=5)).start()
    yield server
    server.stop()


@pytest.fixture
def warehouse(tmp_path, seller) -> Path:
    path = tmp_path / "warehouse.duckdb"
    write_models(path, desired_rows(seller))
    return path
