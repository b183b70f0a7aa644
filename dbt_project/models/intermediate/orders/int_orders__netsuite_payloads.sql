-- The parts every NetSuite order document shares (customer, subsidiary, currency, location,
-- item lines), built once for sales orders, cash sales and invoices.
with

orders as (
    select * from {{ ref('fct_orders') }}
    where is_ready_for_netsuite
),

order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

netsuite_references as (
    select * from {{ ref('int_netsuite__references') }}
),

item_lines as (
    select
        order_id,
        {{ json_array_agg(
            json_object_of([
                ('item', "json_object('id', netsuite_item_id)"),
                ('quantity', 'quantity_ordered'),
                ('amount', json_money('item_price - promotion_discount')),
                ('location', ns_ref('location_external_id')),
            ]),
            'order_item_id'
        ) }} as items,
        {{ json_array_agg(
            json_object_of([
                ('item', "json_object('id', netsuite_item_id)"),
                ('quantity', 'quantity_shipped'),
                ('location', ns_ref('location_external_id')),
                ('itemReceive', 'true'),
            ]),
            'order_item_id'
        ) }} as fulfillment_items,
        sum(item_price - promotion_discount) as item_amount,
        sum(shipping_price) as shipping_amount,
        sum(item_tax + shipping_tax) as tax_amount
    from order_lines
    where is_mapped
    group by order_id
),

final as (
    select
        orders.order_id,
        orders.marketplace_code,
        orders.fulfillment_channel,
        orders.order_status,
        orders.netsuite_record_type,
        orders.netsuite_external_id,
        orders.customer_external_id,
        orders.location_external_id,
        orders.currency,
        orders.quantity_shipped,
        {{ utc_date('orders.purchased_at') }} as order_date,
        {{ utc_date('orders.last_updated_at') }} as last_updated_date,
        netsuite_references.clearing_account,
        {{ ns_id_or_name('netsuite_references.subsidiary_id', 'netsuite_references.subsidiary_name') }}
            as subsidiary_ref,
        {{ ns_id_or_name('netsuite_references.currency_id', 'netsuite_references.currency') }} as currency_ref,
        item_lines.items,
        item_lines.fulfillment_items,
        {{ to_money('item_lines.item_amount') }} as item_amount,
        {{ to_money('item_lines.shipping_amount') }} as shipping_amount,
        {{ to_money('item_lines.tax_amount') }} as tax_amount,
        'Amazon ' || orders.marketplace_code || ' order ' || orders.order_id
        || case when orders.fulfillment_channel = 'AFN' then ' (FBA)' else ' (merchant fulfilled)' end as memo
    from orders
    inner join item_lines
        on orders.order_id = item_lines.order_id
    inner join netsuite_references
        on orders.marketplace_code = netsuite_references.marketplace_code
)

select * from final
