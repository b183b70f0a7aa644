with

source as (
    select * from {{ source('raw_amazon', 'inventory_summaries') }}
),

marketplaces as (
    select * from {{ ref('marketplace_accounts') }}
),

renamed as (
    select
        source.marketplace_id
        || '-' || source.seller_sku
        || '-' || cast(source.snapshot_date as varchar) as inventory_snapshot_id,
        source.snapshot_date,
        source.marketplace_id,
        marketplaces.marketplace_code,
        source.seller_sku as sku,
        source.fn_sku,
        source.asin,
        cast(coalesce(source.fulfillable_quantity, 0) as integer) as fulfillable_quantity,
        cast(coalesce(source.inbound_working_quantity, 0) as integer) as inbound_working_quantity,
        cast(coalesce(source.inbound_shipped_quantity, 0) as integer) as inbound_shipped_quantity,
        cast(coalesce(source.inbound_receiving_quantity, 0) as integer) as inbound_receiving_quantity,
        cast(coalesce(source.reserved_quantity, 0) as integer) as reserved_quantity,
        cast(coalesce(source.unfulfillable_quantity, 0) as integer) as unfulfillable_quantity,
        cast(coalesce(source.total_quantity, 0) as integer) as total_quantity,
        source.last_updated_at
    from source
    left join marketplaces
        on source.marketplace_id = marketplaces.marketplace_id
),

final as (
    select * from renamed
)

select * from final
