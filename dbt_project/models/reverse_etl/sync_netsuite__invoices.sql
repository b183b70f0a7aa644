-- Desired NetSuite invoices (`order` mode, merchant-fulfilled orders shipped): the revenue
-- document billed from the sales order; settlement customer payments are applied to it.
-- NetSuite makes an invoice of a sales order by transforming it (salesOrder/{id}/!transform/invoice,
-- see reverse_etl/netsuite/records.py): the payload is the transform body, without item lines, so
-- NetSuite bills every line still unbilled at the order's rates (a shipped order is billed whole;
-- naming lines would need NetSuite's own orderLine ids, which only NetSuite knows).
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

{%- call order_sync_model("orders.netsuite_record_type = 'salesOrder' and orders.fulfillment_channel = 'MFN' and orders.order_status = 'Shipped' and settings.accounting_mode = 'order'") %}
select
    'amz-inv-' || order_id as external_id,
    'invoice' as record_type,
    {{ json_text(json_object_of([
        ('tranDate', 'cast(last_updated_date as varchar)'),
        ('otherRefNum', 'order_id'),
        ('memo', 'memo'),
    ])) }} as payload,
    netsuite_external_id as depends_on,
    order_id,
    marketplace_code,
    item_amount,
    shipping_amount,
    tax_amount
from documents
{%- endcall %}
