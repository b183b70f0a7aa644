"""Schedules: the orders cadence comes from LEDGERBRIDGE_ORDERS_CRON, a tick never piles runs up, and
the orders job does only what brings an order to NetSuite."""

from __future__ import annotations

import dagster as dg
import pytest

from orchestration.jobs import FLOWS, build_jobs
from orchestration.schedules import build_schedules

ALL_FLOW_KEYS = [key for _description, keys in FLOWS.values() for key in keys]


def _schedules() -> dict[str, dg.ScheduleDefinition]:
    return {s.name: s for s in build_schedules(build_jobs(ALL_FLOW_KEYS))}


def test_orders_cadence_is_every_15_minutes_unless_the_env_var_sets_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LEDGERBRIDGE_ORDERS_CRON", raising=False)
    default = _schedules()
    assert default["orders_schedule"].cron_schedule == "*/15 * * * *"
    assert all(s.default_status == dg.DefaultScheduleStatus.STOPPED for s in default.values())

    monkeypatch.setenv("LEDGERBRIDGE_ORDERS_CRON", "* * * * *")
    fast = _schedules()
    assert fast["orders_schedule"].cron_schedule == "* * * * *"
    assert fast["orders_schedule"].default_status == dg.DefaultScheduleStatus.STOPPED
    # Only the orders cadence moves.
    assert fast["inventory_schedule"].cron_schedule == "0 * * * *"
    assert fast["settlements_schedule"].cron_schedule == "30 6 * * *"


def test_an_invalid_orders_cron_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGERBRIDGE_ORDERS_CRON", "every minute")
    with pytest.raises(ValueError, match="LEDGERBRIDGE_ORDERS_CRON='every minute'"):
        _schedules()


def test_a_tick_is_skipped_while_the_previous_run_is_unfinished() -> None:
    schedule = _schedules()["orders_schedule"]
    with dg.instance_for_test() as instance:

        def tick() -> list[dg.RunRequest] | str | None:
            data = schedule.evaluate_tick(dg.build_schedule_context(instance=instance))
            return data.run_requests or data.skip_message

        [first] = tick()
        assert first.tags["ledgerbridge/trigger"] == "schedule"

        instance.add_run(dg.DagsterRun(job_name="orders_job", status=dg.DagsterRunStatus.SUCCESS))
        instance.add_run(dg.DagsterRun(job_name="inventory_job", status=dg.DagsterRunStatus.STARTED))
        assert len(tick()) == 1  # a finished orders run and another job's run do not hold it back

        running = dg.DagsterRun(job_name="orders_job", status=dg.DagsterRunStatus.STARTED)
        instance.add_run(running)
        skipped = tick()
        assert isinstance(skipped, str) and running.run_id[:8] in skipped and "started" in skipped


def test_the_orders_job_still_ends_in_the_gated_push_but_leaves_dbt_docs_alone() -> None:
    from orchestration.assets.publish import DBT_DOCS_KEY, PUBLISHED_KEY
    from orchestration.definitions import defs

    selected = defs.resolve_job_def("orders_job").asset_layer.selected_asset_keys
    assert dg.AssetKey(["raw_amazon", "orders"]) in selected
    assert {PUBLISHED_KEY, dg.AssetKey(["netsuite", "sales_orders"])} <= selected
    assert DBT_DOCS_KEY not in selected  # docs follow model changes: the other jobs rebuild them
    assert DBT_DOCS_KEY in defs.resolve_job_def("settlements_job").asset_layer.selected_asset_keys
