-- Desired NetSuite sales orders: merchant-fulfilled orders always; FBA orders too in `summary`
-- mode (inventory and COGS only: a sales order posts nothing, the settlement journal carries
-- the revenue).
-- Incremental per order: see macros/order_documents.sql (order_sync_model).
{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='replace_units',
        unit_row_column='external_id',
        on_schema_change='sync_all_columns',
        post_hook="{{ record_order_sync_build() }}",
    )
}}

{%- call order_sync_model("orders.netsuite_record_type = 'salesOrder'") %}
select
    netsuite_external_id as external_id,
    'salesOrder' as record_type,
    {{ json_text(json_object_of([
        ('entity', ns_ref('customer_external_id')),
        ('subsidiary', 'subsidiary_ref'),
        ('currency', 'currency_ref'),
        ('tranDate', 'cast(order_date as varchar)'),
        ('otherRefNum', 'order_id'),
        ('memo', 'memo'),
        ('location', ns_ref('location_external_id')),
        ('shippingCost', json_money('shipping_amount')),
        ('item', "json_object('items', items)"),
    ])) }} as payload,
    customer_external_id as depends_on,
    order_id,
    marketplace_code,
    fulfillment_channel,
    order_status,
    item_amount,
    shipping_amount,
    tax_amount
from documents
{%- endcall %}
