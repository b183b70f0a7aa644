"""Sensors: a new settlement file in the inbox folder, a new settlement in the Reports API list.

Both keep what they have already seen in the sensor cursor, so each file or report triggers one
run; the run itself (the settlements job) imports whatever is new.
"""

import hashlib
import json
from pathlib import Path
from typing import Any

import dagster as dg

from ingestion.config import inbox_dir
from orchestration import parts
from orchestration.assets.ingestion import settlement_import_run_config

_IGNORED_SUFFIXES = (".tmp", ".part", ".crdownload")


def inbox_fingerprints(folder: Path) -> dict[str, str]:
    """name -> size:mtime of every settlement file in the inbox (hidden and partial files skipped)."""
    if not folder.is_dir():
        return {}
    found = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and not path.name.startswith(".") and not path.name.endswith(_IGNORED_SUFFIXES):
            stat = path.stat()
            found[path.name] = f"{stat.st_size}:{stat.st_mtime_ns}"
    return found


def _inbox_sensor(job: Any) -> dg.SensorDefinition:
    @dg.sensor(
        name="settlement_inbox_sensor",
        job=job,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Runs the settlements job when a new or changed file appears in the inbox folder.",
    )
    def settlement_inbox_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
        present = inbox_fingerprints(inbox_dir())
        new = {name: fp for name, fp in present.items() if seen.get(name) != fp}
        # The cursor only remembers files still in the inbox, so it stays small.
        cursor = json.dumps(present, sort_keys=True)
        if not new:
            return dg.SensorResult(skip_reason=f"no new file in {inbox_dir()}", cursor=cursor)
        run_key = hashlib.sha256(json.dumps(new, sort_keys=True).encode()).hexdigest()[:16]
        request = dg.RunRequest(
            run_key=f"inbox-{run_key}",
            run_config=settlement_import_run_config(from_inbox=True, from_reports_api=False),
            tags={"ledgerbridge/trigger": "inbox", "ledgerbridge/inbox_files": ",".join(sorted(new))[:250]},
        )
        return dg.SensorResult(run_requests=[request], cursor=cursor)

    return settlement_inbox_sensor


def _reports_sensor(job: Any) -> dg.SensorDefinition:
    @dg.sensor(
        name="settlement_report_sensor",
        job=job,
        minimum_interval_seconds=15 * 60,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Runs the settlements job when the SP-API Reports API lists a settlement report not seen before.",
    )
    def settlement_report_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        seen = set(json.loads(context.cursor)) if context.cursor else set()
        try:
            listed = parts.list_settlement_report_ids()
        except parts.PartUnavailable as exc:
            return dg.SensorResult(skip_reason=str(exc))
        new = sorted(set(listed) - seen)
        cursor = json.dumps(sorted(seen | set(listed)))
        if not new:
            return dg.SensorResult(skip_reason="no new settlement report", cursor=cursor)
        request = dg.RunRequest(
            run_config=settlement_import_run_config(from_inbox=False, from_reports_api=True),
            run_key=f"reports-{'-'.join(new)}"[:200],
            tags={
                "ledgerbridge/trigger": "reports_api",
                "ledgerbridge/settlement_reports": ",".join(new)[:250],
            },
        )
        return dg.SensorResult(run_requests=[request], cursor=cursor)

    return settlement_report_sensor


def build_sensors(jobs: dict[str, Any]) -> list[dg.SensorDefinition]:
    job = jobs.get("settlements_job")
    return [_inbox_sensor(job), _reports_sensor(job)] if job else []
