"""dbt from Python: where the project is, which dbt runs it, its arguments and what its results mean.

Shared by the Dagster dbt assets and `ledgerbridge build`, so both run dbt the same way and judge
the same test results as blocking. No Dagster imports.
"""

from __future__ import annotations

import hashlib
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


def build_args(mode: str | None = None, select: Sequence[str] = (), full_refresh: bool = False) -> list[str]:
    """Arguments of `dbt build`; `mode` overrides the accounting mode of the settings seed;
    `full_refresh` rebuilds the incremental models from scratch instead of adding what changed.

    Without the unit tests: they test the models' SQL on fixed rows, not the data, so they run in
    development and CI (`dbt test --resource-type unit_test`, tests/dbt/test_unit_tests.py), not
    on every production build (dbt's recommendation)."""
    args = ["build"]
    if select:
        args += ["--select", *select]
    if mode:
        args += ["--vars", json.dumps({"accounting_mode": mode})]
    args += ["--exclude-resource-type", "unit_test"]
    if full_refresh:
        args.append("--full-refresh")
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
    compiled_code: str = ""  # a test's query: the rows it returns are its failures

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
                compiled_code=str(item.get("compiled_code") or ""),
            )
        )
    return results


def failing_rows(result: NodeResult, warehouse: Path | None = None, limit: int = 3) -> str:
    """The first rows a failed test returns, as `column=value` text: which column has nulls, which
    key is duplicated ("" when not a failed test or when they cannot be read). dbt itself prints only
    how many rows failed; this saves the on-call engineer a trip to the compiled SQL."""
    if result.resource_type != "test" or result.status != "fail" or not result.compiled_code.strip():
        return ""
    import duckdb

    try:
        with duckdb.connect(str(warehouse or warehouse_path()), read_only=True) as con:
            cursor = con.execute(f"select * from ({result.compiled_code}) as failing limit {limit + 1}")
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
    except duckdb.Error:
        return ""
    shown = "; ".join(", ".join(f"{n}={v}" for n, v in zip(names, row, strict=True)) for row in rows[:limit])
    return shown + ("; ..." if len(rows) > limit else "")


def describe_failure(result: NodeResult, warehouse: Path | None = None) -> str:
    """One blocking failure as the build reports it: name, status, and a failed test's first rows."""
    rows = failing_rows(result, warehouse)
    return f"{result.name} ({result.status}: {rows})" if rows else f"{result.name} ({result.status})"


def blocking_failures(results: Sequence[NodeResult]) -> list[NodeResult]:
    return [r for r in results if r.blocks]


# Manifest keys that change with every parse, compile or run without changing what the docs show
# (the macros a node's compiled SQL called depend on whether it ran incrementally; paths depend on
# how dbt was invoked; hook indexes on the command).
_VOLATILE_KEYS = frozenset(
    {
        "metadata",
        "created_at",
        "compiled_code",
        "compiled",
        "extra_ctes",
        "extra_ctes_injected",
        "compiled_path",
        "build_path",
        "root_path",
        "index",
    }
)
DOCS_FINGERPRINT = ".fingerprint"


def _stable(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {
            k: _stable(v, k)
            for k, v in value.items()
            if k not in _VOLATILE_KEYS and not (key == "depends_on" and k == "macros")
        }
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def docs_fingerprint(manifest: Path | None = None, warehouse: Path | None = None) -> str | None:
    """What the dbt docs are made of: the project as parsed (the manifest without its run metadata
    and compiled SQL) and the warehouse's tables and columns (the catalog). None when unknown."""
    manifest = manifest or MANIFEST
    warehouse = warehouse or warehouse_path()
    if not manifest.exists() or not warehouse.exists():
        return None
    digest = hashlib.sha256(json.dumps(_stable(json.loads(manifest.read_text())), sort_keys=True).encode())
    import duckdb

    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            columns = con.execute(
                "select table_schema, table_name, column_name, data_type from information_schema.columns "
                "where table_catalog = current_database() order by 1, 2, ordinal_position"
            ).fetchall()
    except duckdb.Error:
        return None
    digest.update(json.dumps(columns).encode())
    return digest.hexdigest()


def docs_current(output_dir: Path) -> bool:
    """True when `output_dir` holds docs generated from the same manifest and warehouse columns:
    regenerating them (a full catalog of the warehouse) would produce the same page."""
    stored = output_dir / DOCS_FINGERPRINT
    if not (output_dir / "index.html").exists() or not stored.exists():
        return False
    return stored.read_text().strip() == (docs_fingerprint() or "unknown")


def generate_docs(output_dir: Path, force: bool = False) -> Path:
    """`dbt docs generate --static`, copied to `output_dir/index.html` (one self-contained page);
    skipped (the page kept) when `docs_current`, unless `force`."""
    if not force and docs_current(output_dir):
        return output_dir / "index.html"
    fingerprint = docs_fingerprint()
    done = run_dbt(["docs", "generate", "--static"], quiet=True)
    static = TARGET_DIR / "static_index.html"
    if done.returncode != 0 or not static.exists():
        raise RuntimeError(f"dbt docs generate failed: {(done.stdout + done.stderr).strip()[-2000:]}")
    output_dir.mkdir(parents=True, exist_ok=True)
    for name in ("static_index.html", "manifest.json", "catalog.json"):
        if (TARGET_DIR / name).exists():
            shutil.copy2(TARGET_DIR / name, output_dir / name)
    shutil.copy2(static, output_dir / "index.html")
    (output_dir / DOCS_FINGERPRINT).write_text(fingerprint or "unknown")
    return output_dir / "index.html"
