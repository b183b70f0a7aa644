"""Sensors: finance drops a settlement file in the inbox and the settlements job is asked to run, once."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from orchestration import parts
from orchestration.definitions import defs


def _evaluate(name: str, cursor: str | None) -> dg.SensorResult:
    sensor = defs.resolve_sensor_def(name)
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, cursor=cursor)
        return sensor.evaluate_tick(context)


def test_new_inbox_file_triggers_one_settlements_run(lb_paths: dict[str, Path]) -> None:
    empty = _evaluate("settlement_inbox_sensor", None)
    assert empty.run_requests == [] and "no new file" in (empty.skip_message or "")

    settlement = lb_paths["inbox"] / "14827193021.v2.txt"
    settlement.write_text("settlement-id\tsettlement-start-date\n14827193021\t2026-07-01 00:00:00 UTC\n")
    (lb_paths["inbox"] / "14827193022.v2.txt.part").write_text("still downloading")  # ignored

    first = _evaluate("settlement_inbox_sensor", empty.cursor)
    assert len(first.run_requests) == 1
    request = first.run_requests[0]
    assert request.tags["ledgerbridge/inbox_files"] == "14827193021.v2.txt"
    assert request.job_name in (None, "settlements_job")
    assert defs.resolve_sensor_def("settlement_inbox_sensor").job_name == "settlements_job"
    assert "14827193021.v2.txt" in json.loads(first.cursor)

    # Evaluated again with the cursor it left: the same file asks for nothing.
    second = _evaluate("settlement_inbox_sensor", first.cursor)
    assert second.run_requests == []

    # The file is replaced by a corrected download: that is new again.
    settlement.write_text("settlement-id\tsettlement-start-date\n14827193021\t2026-07-02 00:00:00 UTC\n")
    third = _evaluate("settlement_inbox_sensor", second.cursor)
    assert len(third.run_requests) == 1 and third.run_requests[0].run_key != request.run_key


def test_reports_api_sensor_requests_a_run_per_new_settlement_report(
    lb_paths: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    listed = ["R-100", "R-101"]
    monkeypatch.setattr(parts, "list_settlement_report_ids", lambda: list(listed))
    first = _evaluate("settlement_report_sensor", None)
    assert (
        len(first.run_requests) == 1
        and "R-100,R-101" in first.run_requests[0].tags["ledgerbridge/settlement_reports"]
    )
    assert _evaluate("settlement_report_sensor", first.cursor).run_requests == []
    listed.append("R-102")
    third = _evaluate("settlement_report_sensor", first.cursor)
    assert third.run_requests[0].tags["ledgerbridge/settlement_reports"] == "R-102"


def test_the_triggered_run_imports_the_dropped_file(lb_paths: dict[str, Path]) -> None:
    from sandbox.generator import generate_seller
    from sandbox.generator.files import write_settlement_files

    seller = generate_seller(seed=7, scale="tiny")
    [dropped] = write_settlement_files(seller.settlements[:1], lb_paths["inbox"], layout="legacy")
    tick = _evaluate("settlement_inbox_sensor", None)
    [request] = tick.run_requests

    import_keys = [
        dg.AssetKey(["raw_amazon", t]) for t in ("settlements", "settlement_lines", "settlement_rejections")
    ]
    job = defs.resolve_job_def("settlements_job")
    with dg.instance_for_test() as instance:
        # The run the sensor asked for, limited to its import step (the dbt part is tested in tests/dbt).
        result = job.execute_in_process(
            instance=instance,
            run_config=request.run_config,
            tags=request.tags,
            asset_selection=import_keys,
            raise_on_error=False,
        )
        assert result.success
        [run] = instance.get_runs()
        assert run.tags["ledgerbridge/inbox_files"] == dropped.name
    assert not dropped.exists() and (lb_paths["inbox"] / "processed" / dropped.name).exists()
    import duckdb

    with duckdb.connect(str(lb_paths["warehouse"]), read_only=True) as con:
        loaded = con.execute("select settlement_id, source from raw_amazon.settlements").fetchall()
    assert loaded == [(seller.settlements[0]["settlement_id"], "file")]
    # The file left the inbox, so the next tick asks for nothing.
    assert _evaluate("settlement_inbox_sensor", tick.cursor).run_requests == []
