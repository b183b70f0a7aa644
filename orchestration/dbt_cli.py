"""dbt from Python: where the project is, which dbt runs it, its arguments and what its results mean.

Shared by the Dagster dbt assets and `ledgerbridge build`, so both run dbt the same way and judge
the same test results as blocking. No Dagster imports.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingestion.config import warehouse_path

PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
TARGET_DIR = PROJECT_DIR / "target"
MANIFEST = TARGET_DIR / "manifest.json"
# The project's own files whose change makes the manifest stale.
_SOURCE_DIRS = ("models", "macros", "tests", "seeds", "snapshots", "analyses")


def dbt_executable() -> str:
    """The dbt installed next to this Python (dagster-dbt would otherwise look it up on PATH)."""
    local = Path(sys.executable).parent / "dbt"
    return str(local) if local.exists() else (shutil.which("dbt") or "dbt")


def dbt_env() -> dict[str, str]:
    """The environment dbt runs with: the absolute warehouse path, so dbt and Dagster share one file."""
    return {**os.environ, "LEDGERBRIDGE_WAREHOUSE": str(warehouse_path())}


def build_args(mode: str | None = None, select: Sequence[str] = ()) -> list[str]:
    """Arguments of `dbt build`; `mode` overrides the accounting mode of the settings seed."""
    args = ["build"]
    if select:
        args += ["--select", *select]
    if mode:
        args += ["--vars", json.dumps({"accounting_mode": mode})]
    return args


def _newest_source_mtime() -> float:
    newest = (PROJECT_DIR / "dbt_project.yml").stat().st_mtime
    for name in _SOURCE_DIRS:
        folder = PROJECT_DIR / name
        if folder.exists():
            for path in folder.rglob("*"):
                if path.is_file():
                    newest = max(newest, path.stat().st_mtime)
    return newest


def run_dbt(args: Sequence[str], quiet: bool = False) -> subprocess.CompletedProcess[str]:
    """Run dbt in the project directory; output is captured and returned."""
    command = [dbt_executable(), *args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    if quiet:
        command.insert(1, "--quiet")
    return subprocess.run(
        command, cwd=PROJECT_DIR, env=dbt_env(), capture_output=True, text=True, check=False
    )


def ensure_manifest() -> Path:
    """Install packages and parse the project when the manifest is missing or older than the sources."""
    packages = PROJECT_DIR / "packages.yml"
    if packages.exists() and not (PROJECT_DIR / "dbt_packages").exists():
        run_dbt(["deps"], quiet=True)
    if not MANIFEST.exists() or MANIFEST.stat().st_mtime < _newest_source_mtime():
        done = run_dbt(["parse"], quiet=True)
        if done.returncode != 0 or not MANIFEST.exists():
            raise RuntimeError(f"dbt parse failed: {(done.stdout + done.stderr).strip()[-2000:]}")
    return MANIFEST


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    name: str
    resource_type: str
    status: str
    message: str
    failures: int | None

    @property
    def blocks(self) -> bool:
        """A model that failed to build, or a test that failed at severity error."""
        if self.resource_type == "test" or self.resource_type == "unit_test":
            return self.status in ("fail", "error")
        return self.status == "error"


def read_run_results(target_dir: Path = TARGET_DIR) -> list[NodeResult]:
    path = target_dir / "run_results.json"
    if not path.exists():
        return []
    data: Mapping[str, Any] = json.loads(path.read_text())
    results = []
    for item in data.get("results", []):
        unique_id = item["unique_id"]
        parts = unique_id.split(".")
        results.append(
            NodeResult(
                unique_id=unique_id,
                name=parts[-1] if parts[0] != "test" else parts[2],
                resource_type=parts[0],
                status=str(item.get("status")),
                message=str(item.get("message") or ""),
                failures=item.get("failures"),
            )
        )
    return results


def blocking_failures(results: Sequence[NodeResult]) -> list[NodeResult]:
    return [r for r in results if r.blocks]


def generate_docs(output_dir: Path) -> Path:
    """`dbt docs generate --static`, copied to `output_dir/index.html` (one self-contained page)."""
    done = run_dbt(["docs", "generate", "--static"], quiet=True)
    static = TARGET_DIR / "static_index.html"
    if done.returncode != 0 or not static.exists():
        raise RuntimeError(f"dbt docs generate failed: {(done.stdout + done.stderr).strip()[-2000:]}")
    output_dir.mkdir(parents=True, exist_ok=True)
    for name in ("static_index.html", "manifest.json", "catalog.json"):
        if (TARGET_DIR / name).exists():
            shutil.copy2(TARGET_DIR / name, output_dir / name)
    shutil.copy2(static, output_dir / "index.html")
    return output_dir / "index.html"
