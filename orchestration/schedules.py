"""Schedules: orders every 15 minutes, inventory hourly, settlements daily (stopped until turned on)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg

CRONS = {
    "orders_job": "*/15 * * * *",
    "inventory_job": "0 * * * *",
    "settlements_job": "30 6 * * *",  # Amazon posts settlements overnight; finance reads them in the morning
}


def build_schedules(jobs: Mapping[str, Any]) -> list[dg.ScheduleDefinition]:
    return [
        dg.ScheduleDefinition(
            name=f"{name.removesuffix('_job')}_schedule",
            job=jobs[name],
            cron_schedule=cron,
            execution_timezone="UTC",
            default_status=dg.DefaultScheduleStatus.STOPPED,
        )
        for name, cron in CRONS.items()
        if name in jobs
    ]
