-- FBM pool: NetSuite is master. Available units at the warehouse location against the quantity
-- each marketplace's MFN listing shows (and the offer price against the NetSuite price level).
with

listings as (
    select * from {{ ref('stg_amazon__listings_items') }}
    where coalesce(fulfillment_channel, 'MFN') in ('MFN', 'DEFAULT')
),

items as (
    select * from {{ ref('stg_netsuite__items') }}
    where not is_inactive
),

locations as (
    select * from {{ ref('stg_netsuite__locations') }}
),

item_locations as (
    select * from {{ ref('stg_netsuite__item_locations') }}
),

prices as (
    select * from {{ ref('stg_netsuite__item_prices') }}
),

netsuite_references as (
    select * from {{ ref('int_netsuite__references') }}
),

settings as (
    select * from {{ ref('int_ledgerbridge__settings') }}
),

warehouse_stock as (
    select
        item_locations.item_id,
        item_locations.quantity_available,
        item_locations.last_modified_at
    from item_locations
    inner join locations
        on item_locations.location_id = locations.location_id
    cross join settings
    where locations.location_external_id = settings.warehouse_location
),

final as (
    select
        'FBM' as pool,
        listings.marketplace_code,
        settings.warehouse_location as location_external_id,
        listings.sku,
        'netsuite' as master_system,
        cast(null as date) as snapshot_date,
        cast(coalesce(listings.listed_quantity, 0) as integer) as amazon_quantity,
        cast(warehouse_stock.quantity_available as integer) as netsuite_quantity,
        listings.last_updated_at as amazon_updated_at,
        warehouse_stock.last_modified_at as netsuite_updated_at,
        items.item_id as netsuite_item_id,
        listings.marketplace_id,
        listings.listed_price,
        prices.unit_price as netsuite_price,
        listings.currency
    from listings
    cross join settings
    left join items
        on listings.sku = items.sku
    left join warehouse_stock
        on items.item_id = warehouse_stock.item_id
    left join netsuite_references
        on listings.marketplace_code = netsuite_references.marketplace_code
    left join prices
        on items.item_id = prices.item_id
        and netsuite_references.currency_id = prices.currency_id
        and prices.price_level_name = settings.price_level
)

select * from final
