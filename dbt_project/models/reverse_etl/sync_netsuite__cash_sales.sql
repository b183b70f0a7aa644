-- Desired NetSuite cash sales (`order` mode, FBA orders Amazon shipped): the revenue document,
-- deposited to the marketplace's Amazon clearing account where the settlement picks it up.
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

{%- call order_sync_model("orders.netsuite_record_type = 'cashSale' and orders.order_status = 'Shipped'") %}
select
    netsuite_external_id as external_id,
    'cashSale' as record_type,
    {{ json_text(json_object_of([
        ('entity', ns_ref('customer_external_id')),
        ('subsidiary', 'subsidiary_ref'),
        ('currency', 'currency_ref'),
        ('tranDate', 'cast(last_updated_date as varchar)'),
        ('otherRefNum', 'order_id'),
        ('memo', 'memo'),
        ('location', ns_ref('location_external_id')),
        ('undepFunds', 'false'),
        ('account', ns_ref('clearing_account')),
        ('shippingCost', json_money('shipping_amount')),
        ('item', "json_object('items', items)"),
    ])) }} as payload,
    customer_external_id as depends_on,
    order_id,
    marketplace_code,
    item_amount,
    shipping_amount,
    tax_amount
from documents
{%- endcall %}
