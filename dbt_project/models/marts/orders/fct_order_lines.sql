{#- One Amazon order item with its NetSuite item (null when the SKU is unmapped: see
    rpt_exceptions, type unmapped_sku). Incremental per order (unique_key order_id, delete+insert):
    a build computes every order's lines (joins only, no aggregation), compares them with the table
    and rewrites only the orders whose lines differ (new orders, orders Amazon updated, orders whose
    SKU got a NetSuite item), so the table always equals a full rebuild. -#}
{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='replace_units',
        unit_row_column='order_line_id',
        on_schema_change='sync_all_columns',
    )
}}

with

lines as (
    select * from {{ ref('int_order_lines__mapped') }}
),

{% if is_incremental() %}
changed as (
    {{ changed_units('lines', 'order_id', "select * from " ~ ref('int_order_lines__mapped')) }}
),

final as (
    -- an order whose lines all went gets one placeholder row (order_line_id null): see replace_units
    select *
    from changed
    left join lines using (order_id)
)
{% else %}
final as (
    select * from lines
)
{% endif %}

select * from final
