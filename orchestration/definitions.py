"""The one Dagster code location: wiring only; logic lives in ingestion/, dbt_project/, reverse_etl/."""

import dagster as dg

defs = dg.Definitions(assets=[])
