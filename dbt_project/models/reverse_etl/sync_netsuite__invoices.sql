-- Desired NetSuite invoices (`order` mode, merchant-fulfilled orders shipped): the revenue
-- document billed from the sales order; settlement customer payments are applied to it.
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
            ('entity', ns_ref('customer_external_id')),
            ('createdFrom', ns_ref('netsuite_external_id')),
            ('subsidiary', 'subsidiary_ref'),
            ('currency', 'currency_ref'),
            ('tranDate', 'cast(last_updated_date as varchar)'),
            ('otherRefNum', 'order_id'),
            ('memo', 'memo'),
            ('location', ns_ref('location_external_id')),
            ('shippingCost', json_money('shipping_amount')),
            ('item', "json_object('items', items)"),
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
