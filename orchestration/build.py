"""`ledgerbridge build` and `ledgerbridge status`: write-audit-publish from the command line.

build: dbt build (models + tests) -> Great Expectations on raw and mart tables (Data Docs) -> when
every blocking test and suite passed, publish the marts for finance and refresh the dbt docs.
A failing build prints one line naming what failed, records the failed audit, publishes nothing
and exits non-zero. status: reads the published copy (read-only) and the last audit.
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Callable

import duckdb

from ingestion.config import published_path, reports_dir, warehouse_path
from orchestration import dbt_cli, publish, quality, summary
from orchestration.cli import CommandError

Progress = Callable[[str], None]


def _describe(failures: list[str], limit: int = 5) -> str:
    shown = ", ".join(failures[:limit])
    more = f" (+{len(failures) - limit} more)" if len(failures) > limit else ""
    return f"{shown}{more}"


def run_build(mode: str | None, progress: Progress, full_refresh: bool = False) -> publish.Published:
    """The whole write-audit-publish; raises CommandError (after recording the audit) when blocked.

    dbt builds incrementally (the large marts and sync models add what changed; see
    dbt_project/README.md); `full_refresh` rebuilds every model from scratch, and validates every
    row in Great Expectations.
    """
    build_id = uuid.uuid4().hex
    # GX's import and project set-up (~6 s of CPU) run while dbt does, in this otherwise idle
    # process; they never open the warehouse, which dbt holds. validate_tables waits for them.
    quality.prepare_in_background()
    dbt_cli.ensure_manifest()
    notes = ([f"accounting mode {mode}"] if mode else []) + (["full refresh"] if full_refresh else [])
    detail = f" ({', '.join(notes)})" if notes else ""
    progress(f"dbt build{detail} into {warehouse_path()}")
    done = dbt_cli.run_dbt(dbt_cli.build_args(mode, full_refresh=full_refresh))
    results = dbt_cli.read_run_results()
    failures = [dbt_cli.describe_failure(r) for r in dbt_cli.blocking_failures(results)]
    if done.returncode != 0 and not failures:
        tail = (done.stdout + done.stderr).strip().splitlines()[-1:] or ["no output"]
        failures = [f"dbt exited {done.returncode}: {tail[0]}"]
    tests = [r for r in results if r.resource_type == "test"]
    progress(
        f"dbt: {len(results) - len(tests)} nodes built, {len(tests)} tests, {len(failures)} blocking failures"
    )

    progress(
        f"Great Expectations: validating {len(quality.SUITES)} tables (Data Docs: {quality.data_docs_dir()})"
    )
    for result in quality.validate_tables(full=True) if full_refresh else quality.validate_tables():
        progress(("ok   " if result.success else "FAIL ") + result.summary())
        if result.table.startswith("marts.") and not result.success:
            failures.append(f"GX {result.table}: {_describe(result.failed_expectations) or result.error}")

    if failures:
        publish.record_audit(passed=False, failures=failures, published=False, build_id=build_id)
        raise CommandError(
            f"{len(failures)} blocking check(s) failed, nothing published: {_describe(failures)}"
        )

    published = publish.publish(build_id=build_id)
    publish.record_audit(passed=True, failures=[], published=True, build_id=build_id)
    progress(f"published {len(published.tables)} tables to {published.path}")
    docs = reports_dir() / "dbt_docs"
    try:
        if dbt_cli.docs_current(docs):
            progress(f"dbt docs: {docs / 'index.html'} (unchanged: same models and warehouse columns)")
        else:
            progress(f"dbt docs: {dbt_cli.generate_docs(docs, force=True)}")  # just checked: stale
    except RuntimeError as exc:  # docs are a report, not a gate
        progress(f"dbt docs not generated: {exc}")
    return published


def build_command(args: argparse.Namespace, progress: Progress) -> int:
    published = run_build(
        getattr(args, "mode", None), progress, full_refresh=getattr(args, "full_refresh", False)
    )
    print(f"build passed; published {published.path} at {published.published_at.isoformat()}")
    return 0


def status_lines() -> list[str]:
    """What `ledgerbridge status` prints, read from the published copy (opened read-only)."""
    audit = publish.last_audit()
    last = publish.last_publish()
    lines = []
    if audit is not None:
        verdict = "passed" if audit.passed else f"FAILED ({_describe(audit.failures, 3)})"
        lines.append(f"last build: {audit.audited_at.isoformat()} {verdict}")
    if last is None:
        lines.append(f"published: nothing yet ({published_path()}); run `ledgerbridge build`")
        return lines
    lines.append(f"published: {last.published_at.isoformat()} -> {last.path}")
    with duckdb.connect(str(last.path), read_only=True) as con:
        lines.append("settlements: " + summary.format_counts(summary.settlements_by_status(con), "not built"))
        lines.append(
            "open exceptions: " + summary.format_counts(summary.exceptions_by_type(con), "not built")
        )
    lines.append(_last_push_line())
    return lines


def _last_push_line() -> str:
    """The push runs after publish, so its outcome is read from the warehouse (read-only) when free."""
    sources = [(warehouse_path(), ""), (published_path(), " (as of the last publish; the warehouse is busy)")]
    for path, note in sources:
        try:
            with duckdb.connect(str(path), read_only=True) as con:
                outcomes = summary.push_outcomes(con)
                at = summary.last_push_at(con)
        except duckdb.Error:
            continue
        if outcomes is None:
            return f"last push: never{note}"
        per_type = "; ".join(f"{t}: {summary.format_counts(s, '')}" for t, s in outcomes.items()) or "nothing"
        return f"last push: {at} — {per_type}{note}"
    return "last push: unknown (warehouse and published copy unreadable)"


def status_command(args: argparse.Namespace, progress: Progress) -> int:
    for line in status_lines():
        print(line)
    return 0


def push_command(args: argparse.Namespace, progress: Progress) -> int:
    """`ledgerbridge push [--dry-run]`: the reverse-ETL engine, behind the same gate as in Dagster.

    A real push needs the last build to have passed its blocking checks (its audit in
    `audit.builds`); a dry run only writes previews, so it is allowed after a failing build too.
    """
    from reverse_etl import sync

    if not args.dry_run:
        audit = publish.last_audit()
        if audit is None:
            raise CommandError("push blocked: no build yet — run `ledgerbridge build` first")
        if not audit.passed:
            raise CommandError(
                f"push blocked: the last build failed ({_describe(audit.failures, 3)}); "
                "fix it and run `ledgerbridge build` (or preview with `push --dry-run`)"
            )
    return sync.push_command(args, progress)
