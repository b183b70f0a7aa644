"""The push never follows a failing build: reverse-ETL assets refuse unless the last audit passed."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration import parts, publish
from orchestration.definitions import defs


def _push_keys() -> list[dg.AssetKey]:
    graph = defs.resolve_asset_graph()
    return [k for k in graph.materializable_asset_keys if graph.get(k).group_name == "reverse_etl_push"]


def _run_push(calls: list[bool]) -> dg.ExecuteInProcessResult:
    job = defs.resolve_job_def("full_pipeline_job")
    with dg.instance_for_test() as instance:
        return job.execute_in_process(instance=instance, asset_selection=_push_keys(), raise_on_error=False)


@pytest.fixture()
def fake_engine(lb_paths: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Stands in for reverse_etl.sync (tested in tests/reverse_etl): records the call and an outcome."""
    calls: list[bool] = []

    def push(dry_run: bool = False, progress=None) -> None:  # noqa: ANN001
        calls.append(dry_run)
        with duckdb.connect(str(lb_paths["warehouse"])) as con:
            con.execute("create schema if not exists reverse_etl")
            con.execute(
                "create table if not exists reverse_etl.sync_records (record_type varchar, external_id varchar, "
                "status varchar, source_model varchar)"
            )
            con.execute(
                "insert into reverse_etl.sync_records values "
                "('journalEntry', 'amz-je-1', 'pushed', 'model.ledgerbridge.sync_netsuite__journal_entries')"
            )

    monkeypatch.setattr(parts, "push", push)
    duckdb.connect(str(lb_paths["warehouse"])).close()
    return calls


def test_push_refuses_after_a_failing_build(fake_engine: list[bool]) -> None:
    assert _push_keys(), "every reverse_etl.sync_* model has a push asset"
    publish.record_audit(
        passed=False, failures=["assert_settlements_balance (fail)"], published=False, build_id="b1"
    )
    result = _run_push(fake_engine)
    assert not result.success
    assert fake_engine == []  # nothing was sent
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "push blocked" in failure.step_failure_data.error.message


def test_push_runs_after_a_passing_build(fake_engine: list[bool]) -> None:
    publish.record_audit(passed=True, failures=[], published=True, build_id="b2")
    result = _run_push(fake_engine)
    assert result.success and fake_engine == [False]
    pushed = {
        e.asset_key.to_user_string(): e.step_materialization_data.materialization.metadata["pushed"].value
        for e in result.get_asset_materialization_events()
    }
    assert pushed.get("netsuite/journal_entries") == 1


def test_push_command_refuses_after_a_failing_build_but_previews(
    lb_paths: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from orchestration.cli import main
    from reverse_etl import sync

    sent: list[bool] = []
    monkeypatch.setattr(sync, "push_command", lambda args, progress: sent.append(args.dry_run) or 0)

    assert main(["push"]) == 1
    assert "no build yet" in capsys.readouterr().err
    publish.record_audit(
        passed=False, failures=["assert_journal_entries_balance (fail)"], published=False, build_id="b3"
    )
    assert main(["push"]) == 1
    err = capsys.readouterr().err
    assert "push blocked: the last build failed (assert_journal_entries_balance (fail))" in err
    assert sent == []
    assert main(["push", "--dry-run"]) == 0
    assert sent == [True]
    publish.record_audit(passed=True, failures=[], published=True, build_id="b4")
    assert main(["push"]) == 0
    assert sent == [True, False]
