with

source as (
    select * from {{ source('raw_amazon', 'order_items') }}
),

renamed as (
    select
        order_id || '-' || order_item_id as order_line_id,
        order_id,
        order_item_id,
        sku,
        asin,
        cast(coalesce(quantity_ordered, 0) as integer) as quantity_ordered,
        cast(coalesce(quantity_shipped, 0) as integer) as quantity_shipped,
        {{ to_money('coalesce(item_price_amount, 0)') }} as item_price,
        {{ to_money('coalesce(item_tax_amount, 0)') }} as item_tax,
        {{ to_money('coalesce(shipping_price_amount, 0)') }} as shipping_price,
        {{ to_money('coalesce(shipping_tax_amount, 0)') }} as shipping_tax,
        {{ to_money('coalesce(promotion_discount_amount, 0)') }} as promotion_discount,
        currency,
        last_updated_at
    from source
),

final as (
    select * from renamed
)

select * from final
