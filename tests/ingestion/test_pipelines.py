"""The dlt pipelines' DuckDB destination honours the warehouse settings."""

from __future__ import annotations

from ingestion.pipelines import amazon_pipeline


def test_dlt_loads_with_the_configured_duckdb_memory_limit(warehouse, monkeypatch):
    """LEDGERBRIDGE_DUCKDB_MEMORY_LIMIT caps DuckDB in dlt's loads too, not only in dbt."""
    monkeypatch.setenv("LEDGERBRIDGE_DUCKDB_MEMORY_LIMIT", "1GB")
    pipeline = amazon_pipeline()
    pipeline.run([{"id": 1}], table_name="probe")
    with pipeline.sql_client() as client:
        assert client.execute_sql("SELECT current_setting('memory_limit')") == [("953.6 MiB",)]  # 1 GB
