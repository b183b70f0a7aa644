-- Desired NetSuite invoices (`order` mode, merchant-fulfilled orders shipped): the revenue
-- document billed from the sales order; settlement customer payments are applied to it.
-- NetSuite makes an invoice of a sales order by transforming it (salesOrder/{id}/!transform/invoice,
-- see reverse_etl/netsuite/records.py): the payload is the transform body, without item lines, so
-- NetSuite bills every line still unbilled at the order's rates (a shipped order is billed whole;
-- naming lines would need NetSuite's own orderLine ids, which only NetSuite knows).
with

documents as (
    select * from {{ ref('int_orders__netsuite_payloads') }}
    where netsuite_record_type = 'salesOrder'
        and fulfillment_channel = 'MFN'
        and order_status = 'Shipped'
        and exists (
            select 1 from {{ ref('int_ledgerbridge__settings') }} as settings
            where settings.accounting_mode = 'order'
        )
),

final as (
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
)

select * from final
