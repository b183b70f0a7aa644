-- Desired NetSuite item fulfillments: FBA orders Amazon has shipped relieve the FBA virtual
-- location's stock (inventory and COGS), separate from the settlement. The payload is the body of
-- the sales-order transform (salesOrder/{id}/!transform/itemFulfillment) without item lines: an
-- order Amazon reports Shipped is shipped whole, so NetSuite fulfils every open line at the line's
-- location (naming lines would need NetSuite's own orderLine ids, which only NetSuite knows).
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
)

select * from final
