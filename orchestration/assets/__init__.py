"""Asset factories: ingestion (dlt + settlement import), dbt, publish + reports, reverse-ETL push."""
