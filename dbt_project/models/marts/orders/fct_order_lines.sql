{#- One Amazon order item with its NetSuite item (null when the SKU is unmapped: see
    rpt_exceptions, type unmapped_sku). Incremental per order (unique_key order_id): a build
    recomputes only the candidate orders (macros/order_facts.sql, order_fact_candidates): new or
    updated at Amazon (loaded since the last build) or with a SKU whose NetSuite item changed;
    every order when a seed or the accounting mode changed. It compares their lines with the table
    and rewrites the orders whose lines differ, logging them for the order sync models. The table
    always equals a full rebuild. -#}
{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='replace_units',
        unit_row_column='order_line_id',
        on_schema_change='sync_all_columns',
        log_unit_changes=true,
        post_hook="{{ record_order_fact_build(['items']) }}",
    )
}}
-- depends_on: {{ ref('int_order_lines__mapped') }} {{ ref('stg_amazon__orders') }} {{ ref('stg_amazon__order_items') }}
-- depends_on: {{ ref('stg_netsuite__items') }} {{ ref('int_ledgerbridge__settings') }} {{ ref('marketplace_accounts') }}

{%- set full_sql = "select * from " ~ ref('int_order_lines__mapped') %}

with

{% if is_incremental() %}
{%- set rebuild = columns_changed(full_sql) %}
{%- set state = read_incremental_state([this.identifier]).get(this.identifier, {}) %}
{%- if rebuild or order_facts_need_everything(state) %}
current_lines as (
    {{ full_sql }}
),

changed as (
    {{ changed_units('current_lines', 'order_id', rebuild=rebuild) }}
),
{%- else %}
candidates as (
    {{ order_fact_candidates(['items'], state) }}
),

current_lines as (
    {{ order_lines_mapped(scope='candidates') }}
),

changed as (
    {{ changed_units('current_lines', 'order_id', scope='candidates') }}
),
{%- endif %}

final as (
    -- an order whose lines all went gets one placeholder row (order_line_id null): see replace_units
    select *
    from changed
    left join current_lines using (order_id)
)
{% else %}
final as (
    {{ full_sql }}
)
{% endif %}

select * from final
