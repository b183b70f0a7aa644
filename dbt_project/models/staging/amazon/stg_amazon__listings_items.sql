with

source as (
    select * from {{ source('raw_amazon', 'listings_items') }}
),

marketplaces as (
    select * from {{ ref('marketplace_accounts') }}
),

renamed as (
    select
        source.marketplace_id || '-' || source.seller_sku as listing_id,
        source.marketplace_id,
        marketplaces.marketplace_code,
        source.seller_sku as sku,
        source.asin,
        source.fulfillment_channel,
        cast(source.quantity as integer) as listed_quantity,
        {{ to_money('source.price_amount') }} as listed_price,
        source.currency,
        source.status,
        source.last_updated_at
    from source
    left join marketplaces
        on source.marketplace_id = marketplaces.marketplace_id
),

final as (
    select * from renamed
)

select * from final
