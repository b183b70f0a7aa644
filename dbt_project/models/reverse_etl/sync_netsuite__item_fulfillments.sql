-- Desired NetSuite item fulfillments: FBA orders Amazon has shipped relieve the FBA virtual
-- location's stock (inventory and COGS), separate from the settlement.
with

documents as (
    select * from {{ ref('int_orders__netsuite_payloads') }}
    where netsuite_record_type = 'salesOrder'
        and fulfillment_channel = 'AFN'
        and order_status = 'Shipped'
        and quantity_shipped > 0
),

final as (
    select
        'amz-if-' || order_id as external_id,
        'itemFulfillment' as record_type,
        {{ json_text(json_object_of([
            ('createdFrom', ns_ref('netsuite_external_id')),
            ('tranDate', 'cast(last_updated_date as varchar)'),
            ('shipStatus', "'C'"),
            ('memo', "'Shipped by Amazon: ' || memo"),
            ('item', "json_object('items', fulfillment_items)"),
        ])) }} as payload,
        netsuite_external_id as depends_on,
        order_id,
        marketplace_code,
        location_external_id,
        quantity_shipped
    from documents
)

select * from final
