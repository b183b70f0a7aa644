-- One Amazon order and its NetSuite counterpart. Incremental: an order is (re)processed when
-- Amazon updated it (3-day look-back for late-arriving rows), or while it is still open on the
-- NetSuite side (not there yet, unmapped SKU, not yet settled), or when the settings changed.
{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
    )
}}

with

orders as (
    select * from {{ ref('int_orders__matched_to_netsuite') }}
),

{% if is_incremental() %}
existing as (
    select * from {{ this }}
),

watermark as (
    select max(last_updated_at) as last_updated_at from existing
),

changed as (
    select orders.order_id
    from orders
    left join existing
        on orders.order_id = existing.order_id
    cross join watermark
    where existing.order_id is null
        or orders.last_updated_at >= {{ dbt.dateadd('day', -3, 'watermark.last_updated_at') }}
        or not existing.exists_in_netsuite
        or existing.has_unmapped_sku
        or not existing.is_settled
        or existing.accounting_mode <> orders.accounting_mode
        or existing.customer_strategy <> orders.customer_strategy
),

selected as (
    select orders.*
    from orders
    inner join changed
        on orders.order_id = changed.order_id
),
{% else %}
selected as (
    select * from orders
),
{% endif %}

final as (
    select * from selected
)

select * from final
