"""Shared fixtures of the ingestion tests: a warehouse in tmp_path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def warehouse(tmp_path, monkeypatch):
    """A fresh warehouse file (dlt pipeline state goes next to it) and inbox under tmp_path."""
    path = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("LEDGERBRIDGE_WAREHOUSE", str(path))
    monkeypatch.setenv("LEDGERBRIDGE_INBOX", str(tmp_path / "inbox"))
    return path


OPEN_READ_WRITE = "import duckdb, sys; duckdb.connect(sys.argv[1]).close()"


@pytest.fixture
def opens_in_another_process():
    """Whether another process can open the warehouse read-write, i.e. nothing here holds it open
    (DuckDB locks the file for the process that opened it)."""

    def check(path: Path) -> bool:
        done = subprocess.run([sys.executable, "-c", OPEN_READ_WRITE, str(path)], capture_output=True)
        return done.returncode == 0

    return check


@pytest.fixture
def netsuite(seller):
    """The NetSuite sandbox serving the test module's `seller`, over real HTTP."""
    from sandbox.http import RunningServer
    from sandbox.netsuite import NetSuiteSandbox

    app = NetSuiteSandbox(seller=seller)
    server = RunningServer(app).start()
    yield app, server
    server.stop()
