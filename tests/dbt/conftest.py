"""Fixtures for the dbt project tests: a generated seller, its settlement files imported with the
real loader, and the dbt project built on copies of that warehouse (once per accounting mode).

dbt runs as a subprocess (`.venv/bin/dbt`), each with its own target and log directory under
tmp, so the tests never touch `dbt_project/target` or a developer's warehouse.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT_DIR = ROOT / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")
sys.path.insert(0, str(Path(__file__).parent))

from raw_loader import load_raw  # noqa: E402


@dataclass
class DbtRun:
    returncode: int
    output: str
    results: list[dict] = field(default_factory=list)

    def statuses(self) -> dict[str, str]:
        """unique_id -> status (pass / fail / error / success / skipped) of every node run."""
        return {r["unique_id"]: r["status"] for r in self.results}

    def status_of(self, name: str) -> str:
        matches = [status for uid, status in self.statuses().items() if uid.split(".")[-1] == name]
        assert matches, f"{name} was not run:\n{self.output[-3000:]}"
        return matches[0]


def run_dbt(args: list[str], warehouse: Path, work_dir: Path, project_dir: Path = PROJECT_DIR) -> DbtRun:
    """Run dbt against `warehouse`; artifacts and logs go to `work_dir`."""
    work_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "LEDGERBRIDGE_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    command = [
        str(DBT),
        *args,
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
        "--target-path",
        str(work_dir / "target"),
        "--log-path",
        str(work_dir / "logs"),
    ]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    results_file = work_dir / "target" / "run_results.json"
    results = json.loads(results_file.read_text())["results"] if results_file.exists() else []
    results_file.unlink(missing_ok=True)
    return DbtRun(done.returncode, done.stdout + done.stderr, results)


@dataclass
class RawWarehouse:
    """The generated seller loaded into raw_amazon / raw_netsuite, and the files it came from."""

    seller: object
    path: Path
    settlement_files: dict[str, Path]


@pytest.fixture(scope="session")
def seller():
    """The tiny demo seller (5 marketplaces, ~65 settlements, planted unmapped fee and SKUs)."""
    from sandbox.generator import generate_seller

    return generate_seller(seed=7, scale="tiny")


@pytest.fixture(scope="session")
def raw_warehouse(seller, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RawWarehouse]:
    from sandbox.generator import write_settlement_v2

    root = tmp_path_factory.mktemp("raw")
    files: dict[str, Path] = {}
    for settlement in seller.settlements:
        path = root / "inbox" / f"settlement-{settlement['settlement_id']}.txt"
        path.parent.mkdir(exist_ok=True)
        write_settlement_v2(settlement, path)
        files[settlement["settlement_id"]] = path
    warehouse = root / "warehouse.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEDGERBRIDGE_WAREHOUSE", str(warehouse))
        from ingestion.amazon.settlements import load_settlements

        result = load_settlements([(path.name, path) for path in files.values()], source="file")
    assert len(result.loaded) == len(files), result.summary()
    load_raw(seller, warehouse)
    yield RawWarehouse(seller, warehouse, files)


@dataclass
class BuiltWarehouse:
    mode: str
    path: Path
    run: DbtRun
    settlement_files: dict[str, Path]
    work_dir: Path


def _copy_warehouse(source: Path, target_dir: Path) -> Path:
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / "warehouse.duckdb"
    shutil.copyfile(source, target)
    return target


@pytest.fixture(scope="session")
def reimported_settlement(raw_warehouse: RawWarehouse) -> str:
    """The settlement the order-mode build re-imports with one line fewer (late correction)."""
    return sorted(
        s for s in raw_warehouse.settlement_files if s != raw_warehouse.seller.unknown_fee_settlement_id
    )[5]


@pytest.fixture(scope="session")
def built_warehouse(
    raw_warehouse: RawWarehouse, reimported_settlement: str, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], BuiltWarehouse]:
    """`built_warehouse(mode)`: the project built in that accounting mode (cached per session).

    `summary` builds the raw warehouse from scratch. `order` starts from the summary build (so
    the incremental models run incrementally), after re-importing one settlement file with a
    line removed and its total corrected: the build must switch mode and replace that
    settlement's lines.
    """
    built: dict[str, BuiltWarehouse] = {}

    def build(mode: str) -> BuiltWarehouse:
        if mode in built:
            return built[mode]
        work = tmp_path_factory.mktemp(f"build-{mode}")
        files = dict(raw_warehouse.settlement_files)
        if mode == "summary":
            path = _copy_warehouse(raw_warehouse.path, work)
        else:
            path = _copy_warehouse(build("summary").path, work)
            files[reimported_settlement] = _reimport_with_one_line_less(
                raw_warehouse, reimported_settlement, path, work
            )
        run = run_dbt(["build", "--vars", json.dumps({"accounting_mode": mode})], path, work)
        built[mode] = BuiltWarehouse(mode, path, run, files, work)
        return built[mode]

    return build


def _reimport_with_one_line_less(raw: RawWarehouse, settlement_id: str, warehouse: Path, work: Path) -> Path:
    """Write the settlement again without its last fee line (total corrected) and import it."""
    from sandbox.generator import write_settlement_v2

    settlement = next(s for s in raw.seller.settlements if s["settlement_id"] == settlement_id)
    fee = next(line for line in reversed(settlement["lines"]) if line["amount_type"] == "ItemFees")
    lines = [line for line in settlement["lines"] if line is not fee]
    corrected = {**settlement, "lines": lines, "total_amount": settlement["total_amount"] - fee["amount"]}
    path = work / f"settlement-{settlement_id}-corrected.txt"
    write_settlement_v2(corrected, path)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEDGERBRIDGE_WAREHOUSE", str(warehouse))
        from ingestion.amazon.settlements import load_settlements

        result = load_settlements([(path.name, path)], source="file")
    assert [o.status for o in result.outcomes] == ["replaced"], result.summary()
    return path
