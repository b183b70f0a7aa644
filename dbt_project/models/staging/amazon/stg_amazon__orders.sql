with

source as (
    select
        *,
        {{ optional_column(source('raw_amazon', 'orders'), 'buyer_email', alias='buyer_email_if_stored') }}
    from {{ source('raw_amazon', 'orders') }}
),

marketplaces as (
    select * from {{ ref('marketplace_accounts') }}
),

renamed as (
    select
        source.order_id,
        source.marketplace_id,
        marketplaces.marketplace_code,
        source.order_status,
        source.fulfillment_channel,
        source.sales_channel,
        source.ship_country,
        coalesce(source.is_business_order, false) as is_business_order,
        source.buyer_email_if_stored as buyer_email,
        {{ to_money('source.order_total_amount') }} as order_total,
        source.currency,
        source.purchased_at,
        source.last_updated_at
    from source
    left join marketplaces
        on source.marketplace_id = marketplaces.marketplace_id
),

final as (
    select * from renamed
)

select * from final
