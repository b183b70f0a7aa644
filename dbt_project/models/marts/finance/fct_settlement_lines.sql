{#- One settlement amount row, classified. Incremental per settlement (unique_key settlement_id,
    delete+insert: a reprocessed settlement's rows are replaced as a whole, so a re-imported file
    with fewer lines leaves none behind). A build classifies only the settlements that are new or
    were re-imported (loaded_at changed), plus the settlements whose refunds refer to an order whose
    `Order` rows moved (they arrived in, or left, a new or re-imported settlement: the refund's
    original settlement may change). When a seed or the accounting mode changed (config_version),
    every settlement is reclassified. What the last build classified is read from its record in
    incremental_state (the post-hook), not from the table's millions of rows. `dbt build
    --full-refresh` rebuilds the table from scratch. -#}
{{
    config(
        materialized='incremental',
        unique_key='settlement_id',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        post_hook="{{ record_settlement_classification() }}",
    )
}}
-- depends_on: {{ ref('int_settlement_lines__classified') }} {{ ref('stg_amazon__settlements') }}

{%- set settlement_ids = none -%}
{%- if is_incremental() and execute -%}
    {%- set settlement_ids = settlements_to_reclassify() -%}
{%- endif %}

{{ classify_settlement_lines(settlement_ids) }}
