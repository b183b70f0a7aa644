"""Schedules: orders every 15 minutes, inventory hourly, settlements daily (stopped until turned on).

`LEDGERBRIDGE_ORDERS_CRON` sets the orders cadence (e.g. `* * * * *` for fresher sales orders in
NetSuite). A tick while the previous run of the same job is still queued or running is skipped, so
a cadence shorter than a run never piles runs up: the next tick after the run ends starts the next.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import dagster as dg

ORDERS_CRON_ENV = "LEDGERBRIDGE_ORDERS_CRON"
CRONS = {
    "orders_job": "*/15 * * * *",
    "inventory_job": "0 * * * *",
    "settlements_job": "30 6 * * *",  # Amazon posts settlements overnight; finance reads them in the morning
}
# job -> the env var that overrides its cron.
CRON_ENV = {"orders_job": ORDERS_CRON_ENV}
# A run in one of these has not finished: a new tick of its schedule waits for it.
UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def crons(env: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The cron of each job's schedule: the default, or the env var that overrides it."""
    return {job: (env.get(CRON_ENV.get(job, ""), "").strip() or cron) for job, cron in CRONS.items()}


def _schedule(name: str, job: Any, cron: str) -> dg.ScheduleDefinition:
    def run_unless_one_is_unfinished(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        unfinished = context.instance.get_run_records(
            dg.RunsFilter(job_name=job.name, statuses=UNFINISHED), limit=1
        )
        if unfinished:
            run = unfinished[0].dagster_run
            return dg.SkipReason(
                f"run {run.run_id[:8]} of {job.name} is still {run.status.value.lower()}; "
                "the next tick after it ends starts a new one"
            )
        return dg.RunRequest(tags={"ledgerbridge/trigger": "schedule"})

    schedule_name = f"{name.removesuffix('_job')}_schedule"
    env_var = CRON_ENV.get(name)
    try:
        return dg.ScheduleDefinition(
            name=schedule_name,
            job=job,
            cron_schedule=cron,
            execution_fn=run_unless_one_is_unfinished,
            execution_timezone="UTC",
            default_status=dg.DefaultScheduleStatus.STOPPED,
            description=f"{job.name} on `{cron}` (UTC); skips a tick while its previous run is unfinished."
            + (f" Cadence: {env_var}." if env_var else ""),
        )
    except dg.DagsterInvalidDefinitionError as exc:
        source = f"{env_var}={cron!r}" if env_var and os.environ.get(env_var) else repr(cron)
        raise ValueError(f"{schedule_name}: invalid cron {source} (five fields, e.g. '* * * * *')") from exc


def build_schedules(jobs: Mapping[str, Any]) -> list[dg.ScheduleDefinition]:
    return [_schedule(name, jobs[name], cron) for name, cron in crons().items() if name in jobs]
