-- Every order item with the NetSuite item its SKU maps to (item name/number = seller SKU) and
-- the NetSuite location that ships it: the marketplace's FBA virtual location or the warehouse.
with

order_items as (
    select * from {{ ref('stg_amazon__order_items') }}
),

orders as (
    select * from {{ ref('stg_amazon__orders') }}
),

items as (
    select * from {{ ref('stg_netsuite__items') }}
    where not is_inactive
),

marketplaces as (
    select * from {{ ref('marketplace_accounts') }}
),

settings as (
    select * from {{ ref('int_ledgerbridge__settings') }}
),

final as (
    select
        order_items.order_line_id,
        order_items.order_id,
        order_items.order_item_id,
        orders.marketplace_code,
        orders.fulfillment_channel,
        order_items.sku,
        order_items.asin,
        items.item_id as netsuite_item_id,
        items.item_external_id as netsuite_item_external_id,
        items.item_id is not null as is_mapped,
        case
            when orders.fulfillment_channel = 'AFN' then marketplaces.fba_location
            else settings.warehouse_location
        end as location_external_id,
        order_items.quantity_ordered,
        order_items.quantity_shipped,
        order_items.item_price,
        order_items.item_tax,
        order_items.shipping_price,
        order_items.shipping_tax,
        order_items.promotion_discount,
        {{ to_money(
            'order_items.item_price + order_items.item_tax + order_items.shipping_price'
            ~ ' + order_items.shipping_tax - order_items.promotion_discount'
        ) }} as line_total,
        coalesce(order_items.currency, orders.currency) as currency,
        order_items.last_updated_at
    from order_items
    inner join orders
        on order_items.order_id = orders.order_id
    cross join settings
    left join items
        on order_items.sku = items.sku
    left join marketplaces
        on orders.marketplace_code = marketplaces.marketplace_code
)

select * from final
