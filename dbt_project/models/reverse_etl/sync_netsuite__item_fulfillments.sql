-- Desired NetSuite item fulfillments: FBA orders Amazon has shipped relieve the FBA virtual
-- location's stock (inventory and COGS), separate from the settlement. The payload is the body of
-- the sales-order transform (salesOrder/{id}/!transform/itemFulfillment) without item lines: an
-- order Amazon reports Shipped is shipped whole, so NetSuite fulfils every open line at the line's
-- location (naming lines would need NetSuite's own orderLine ids, which only NetSuite knows).
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

{%- call order_sync_model("orders.netsuite_record_type = 'salesOrder' and orders.fulfillment_channel = 'AFN' and orders.order_status = 'Shipped' and orders.quantity_shipped > 0") %}
select
    'amz-if-' || order_id as external_id,
    'itemFulfillment' as record_type,
    {{ json_text(json_object_of([
        ('tranDate', 'cast(last_updated_date as varchar)'),
        ('shipStatus', "'C'"),
        ('memo', "'Shipped by Amazon: ' || memo"),
    ])) }} as payload,
    netsuite_external_id as depends_on,
    order_id,
    marketplace_code,
    location_external_id,
    quantity_shipped
from documents
{%- endcall %}
