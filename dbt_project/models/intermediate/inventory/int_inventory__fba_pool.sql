-- FBA pool: Amazon is master. Latest FBA snapshot per marketplace and SKU (fulfillable units)
-- against NetSuite's available quantity at the marketplace's FBA virtual location.
with

snapshots as (
    select * from {{ ref('stg_amazon__inventory_summaries') }}
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

marketplaces as (
    select * from {{ ref('marketplace_accounts') }}
),

latest as (
    select
        snapshots.*,
        max(snapshot_date) over (partition by marketplace_id) as latest_snapshot_date
    from snapshots
),

amazon as (
    select
        latest.marketplace_code,
        latest.sku,
        latest.snapshot_date,
        latest.fulfillable_quantity,
        latest.reserved_quantity,
        latest.unfulfillable_quantity,
        latest.last_updated_at,
        marketplaces.fba_location as location_external_id
    from latest
    inner join marketplaces
        on latest.marketplace_code = marketplaces.marketplace_code
    where latest.snapshot_date = latest.latest_snapshot_date
),

netsuite as (
    select
        marketplaces.marketplace_code,
        items.sku,
        items.item_id,
        locations.location_external_id,
        item_locations.quantity_available,
        item_locations.last_modified_at
    from item_locations
    inner join items
        on item_locations.item_id = items.item_id
    inner join locations
        on item_locations.location_id = locations.location_id
    inner join marketplaces
        on locations.location_external_id = marketplaces.fba_location
),

joined as (
    select
        'FBA' as pool,
        coalesce(amazon.marketplace_code, netsuite.marketplace_code) as marketplace_code,
        coalesce(amazon.location_external_id, netsuite.location_external_id) as location_external_id,
        coalesce(amazon.sku, netsuite.sku) as sku,
        'amazon' as master_system,
        amazon.snapshot_date,
        cast(coalesce(amazon.fulfillable_quantity, 0) as integer) as amazon_quantity,
        cast(netsuite.quantity_available as integer) as netsuite_quantity,
        amazon.last_updated_at as amazon_updated_at,
        netsuite.last_modified_at as netsuite_updated_at
    from amazon
    full outer join netsuite
        on amazon.marketplace_code = netsuite.marketplace_code
        and amazon.sku = netsuite.sku
),

final as (
    select
        joined.*,
        items.item_id as netsuite_item_id
    from joined
    left join items
        on joined.sku = items.sku
)

select * from final
