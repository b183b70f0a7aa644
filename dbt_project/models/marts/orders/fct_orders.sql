{#- One Amazon order and its NetSuite counterpart. Incremental per order (unique_key order_id): a
    build computes every order (joins and per-order sums, no JSON), compares with the table and
    rewrites only the orders that differ: new orders, orders Amazon updated (dlt merges them on
    order_id), orders that got a NetSuite record, customer or item, orders a new settlement paid,
    and every order when a seed or the accounting mode changed. The table always equals a full
    rebuild. -#}
{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='replace_units',
        unit_row_column='netsuite_external_id',
        on_schema_change='sync_all_columns',
    )
}}

with

orders as (
    select * from {{ ref('int_orders__matched_to_netsuite') }}
),

{% if is_incremental() %}
changed as (
    {{ changed_units('orders', 'order_id', "select * from " ~ ref('int_orders__matched_to_netsuite')) }}
),

final as (
    select *
    from changed
    left join orders using (order_id)
)
{% else %}
final as (
    select * from orders
)
{% endif %}

select * from final
