-- Desired Amazon MFN listings: NetSuite is master for merchant stock and price. payload is one
-- JSON_LISTINGS_FEED message (PATCH); the engine numbers the messages of a feed.
with

pools as (
    select * from {{ ref('fct_inventory_pools') }}
    where pool = 'FBM'
        and is_mapped
),

marketplaces as (
    select * from {{ ref('marketplace_accounts') }}
),

listings as (
    select
        pools.marketplace_code,
        marketplaces.marketplace_id,
        marketplaces.currency,
        pools.sku,
        greatest(coalesce(pools.netsuite_quantity, 0), 0) as quantity,
        pools.amazon_quantity as listed_quantity,
        pools.netsuite_price as price,
        pools.listed_price
    from pools
    inner join marketplaces
        on pools.marketplace_code = marketplaces.marketplace_code
),

patches as (
    select
        *,
        json_object(
            'op', 'replace',
            'path', '/attributes/fulfillment_availability',
            'value', json_array(json_object('fulfillment_channel_code', 'DEFAULT', 'quantity', quantity))
        ) as quantity_patch,
        case
            when price is not null then json_object(
                'op', 'replace',
                'path', '/attributes/purchasable_offer',
                'value', json_array(json_object(
                    'marketplace_id', marketplace_id,
                    'currency', currency,
                    'audience', 'ALL',
                    'our_price', json_array(json_object(
                        'schedule', json_array(json_object('value_with_tax', {{ json_money('price') }}))
                    ))
                ))
            )
        end as price_patch
    from listings
),

final as (
    select
        'amz-lst-' || marketplace_code || '-' || sku as external_id,
        'listingsFeedMessage' as record_type,
        {{ json_text(json_object_of([
            ('sku', 'sku'),
            ('operationType', "'PATCH'"),
            ('productType', "'PRODUCT'"),
            ('patches', 'case when price_patch is null then json_array(quantity_patch) '
                ~ 'else json_array(quantity_patch, price_patch) end'),
        ])) }} as payload,
        cast(null as varchar) as depends_on,
        marketplace_id,
        marketplace_code,
        sku,
        quantity,
        listed_quantity,
        price,
        listed_price,
        currency
    from patches
)

select * from final
