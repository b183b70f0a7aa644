{#- One Amazon order and its NetSuite counterpart. Incremental per order (unique_key order_id): a
    build recomputes only the candidate orders (macros/order_facts.sql, order_fact_candidates): new
    or updated at Amazon (loaded since the last build), touched by a changed NetSuite item, record
    or customer or by a new or re-imported settlement; every order when a seed or the accounting
    mode changed. It compares them with the table and rewrites the ones that differ, logging them
    for the order sync models. The table always equals a full rebuild. -#}
{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='replace_units',
        unit_row_column='netsuite_external_id',
        on_schema_change='sync_all_columns',
        log_unit_changes=true,
        post_hook="{{ record_order_fact_build(['items', 'settlements', 'transactions', 'customers']) }}",
    )
}}
-- depends_on: {{ ref('int_orders__matched_to_netsuite') }} {{ ref('int_order_lines__mapped') }}
-- depends_on: {{ ref('stg_amazon__orders') }} {{ ref('stg_amazon__order_items') }} {{ ref('stg_amazon__settlements') }}
-- depends_on: {{ ref('stg_amazon__settlement_lines') }} {{ ref('stg_netsuite__items') }}
-- depends_on: {{ ref('stg_netsuite__transactions') }} {{ ref('stg_netsuite__customers') }}
-- depends_on: {{ ref('int_ledgerbridge__settings') }} {{ ref('marketplace_accounts') }}

{%- set full_sql = "select * from " ~ ref('int_orders__matched_to_netsuite') %}

with

{% if is_incremental() %}
{%- set rebuild = columns_changed(full_sql) %}
{%- set state = read_incremental_state([this.identifier]).get(this.identifier, {}) %}
{%- if rebuild or order_facts_need_everything(state) %}
current_orders as (
    {{ full_sql }}
),

changed as (
    {{ changed_units('current_orders', 'order_id', rebuild=rebuild) }}
),
{%- else %}
candidates as (
    {{ order_fact_candidates(['items', 'settlements', 'transactions', 'customers'], state) }}
),

current_orders as (
    {{ orders_matched_to_netsuite(scope='candidates') }}
),

changed as (
    {{ changed_units('current_orders', 'order_id', scope='candidates') }}
),
{%- endif %}

final as (
    -- an order no longer in raw gets one placeholder row (netsuite_external_id null): see replace_units
    select *
    from changed
    left join current_orders using (order_id)
)
{% else %}
final as (
    {{ full_sql }}
)
{% endif %}

select * from final
