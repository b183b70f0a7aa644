"""What a data engineer and an auditor open: the Dagster UI's asset graph, and the Data Docs.

Starts `dagster-webserver` on the project's workspace.yaml, renders pages in headless Chromium
(the UI is a JavaScript app, so assertions are on the DOM after it rendered) and keeps a
screenshot under reports/screenshots/.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import requests

from orchestration import quality

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "reports" / "screenshots"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="headless Chromium (/usr/bin/chromium) is not installed"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


MARTS = (
    "fct_orders",
    "fct_order_lines",
    "fct_settlements",
    "fct_settlement_lines",
    "fct_settlement_journal_lines",
    "fct_inventory_pools",
    "rpt_exceptions",
)


def _chromium(tmp_path: Path, url: str, *extra: str) -> str:
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium'}", "--window-size=1400,900", "--virtual-time-budget=15000",
        *extra, url,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture()
def webserver(tmp_path: Path, lb_paths: dict[str, Path]) -> Iterator[str]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    port = _free_port()
    log = (tmp_path / "webserver.log").open("w")
    process = subprocess.Popen(
        [str(bin_dir / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        status = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                status = _graphql(
                    url, "{ workspaceOrError { ... on Workspace { locationEntries { loadStatus } } } }"
                )
                entries = status["workspaceOrError"]["locationEntries"]
                if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                    break
            except requests.RequestException:
                pass
            time.sleep(1)
        else:
            pytest.fail(
                f"webserver did not load the code location: {status}; log: {(tmp_path / 'webserver.log').read_text()[-3000:]}"
            )
        _graphql(url, "mutation { setNuxSeen }")  # the first-visit newsletter dialog would cover the graph
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _graphql(url: str, query: str) -> dict:
    response = requests.post(f"{url}/graphql", json={"query": query}, timeout=10)
    response.raise_for_status()
    return response.json()["data"]


def _rendered(tmp_path: Path, url: str, text: str, attempts: int = 4) -> str:
    """The DOM once the app rendered `text` (a loaded machine may need more than one virtual-time budget)."""
    dom = ""
    for _ in range(attempts):
        dom = _chromium(tmp_path, url, "--dump-dom")
        if text in dom:
            return dom
    return dom


def test_asset_graph_renders_in_chromium(webserver: str, tmp_path: Path) -> None:
    page = f"{webserver}/locations/ledgerbridge/asset-groups/marts"
    graph = _rendered(tmp_path, page, "rpt_exceptions")
    # Graph nodes, drawn by the JS app; only those inside the window are drawn, so which marts show
    # depends on the layout.
    assert [mart for mart in MARTS if mart in graph]
    # The lineage graph is wider than one screen; the group's list view names every mart.
    dom = _rendered(tmp_path, f"{page}/list", "fct_settlements")
    assert "fct_settlements" in dom and "fct_orders" in dom
    assert "Join the Dagster community" not in dom
    publish_dom = _rendered(
        tmp_path, f"{webserver}/locations/ledgerbridge/asset-groups/publish", "finance_marts"
    )
    assert "finance_marts" in publish_dom

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "asset_graph_marts.png"
    shot.unlink(missing_ok=True)
    _chromium(tmp_path, page, f"--screenshot={shot}")
    assert shot.stat().st_size > 20_000  # a rendered graph, not a blank page


def test_data_docs_index_renders_in_chromium(lb_paths: dict[str, Path], tmp_path: Path) -> None:
    with duckdb.connect(str(lb_paths["warehouse"])) as con:
        con.execute("create schema marts")
        con.execute("create table marts.fct_orders as select 'O' || i as order_id from range(10) t(i)")
    [result] = quality.validate_tables(["marts.fct_orders"])
    assert result.success
    index = lb_paths["reports"] / "data_docs" / "index.html"
    dom = _chromium(tmp_path, index.as_uri(), "--dump-dom")
    assert "marts.fct_orders" in dom
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "data_docs_index.png"
    _chromium(tmp_path, index.as_uri(), f"--screenshot={shot}")
    assert shot.exists()
    shutil.copy2(index, tmp_path / "index.html")  # kept with the test's tmp files for inspection
