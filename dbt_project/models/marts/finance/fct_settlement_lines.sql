{#- One settlement amount row, classified. Incremental: a settlement is (re)processed when it is
    new, was re-imported (its lines are replaced as a whole, so a file with fewer lines leaves
    none behind), when the GL mapping / settings changed (classification_version), or when a
    refund in it could not yet be linked to its original settlement. -#}
{{
    config(
        materialized='incremental',
        unique_key='settlement_id',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
    )
}}

with

classified as (
    select * from {{ ref('int_settlement_lines__classified') }}
),

{% if is_incremental() %}
processed as (
    select distinct
        settlement_id,
        loaded_at,
        classification_version
    from {{ this }}
),

unlinked as (
    select distinct settlement_id
    from {{ this }}
    where refunded_order_id is not null
        and original_settlement_id is null
),

changed as (
    select distinct classified.settlement_id
    from classified
    left join processed
        on classified.settlement_id = processed.settlement_id
        and classified.loaded_at is not distinct from processed.loaded_at
        and classified.classification_version = processed.classification_version
    where processed.settlement_id is null
    union
    select settlement_id from unlinked
),

selected as (
    select classified.*
    from classified
    inner join changed
        on classified.settlement_id = changed.settlement_id
),
{% else %}
selected as (
    select * from classified
),
{% endif %}

final as (
    select * from selected
)

select * from final
