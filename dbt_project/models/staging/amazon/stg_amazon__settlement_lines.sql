with

source as (
    select * from {{ source('raw_amazon', 'settlement_lines') }}
),

renamed as (
    select
        settlement_id || '-' || cast(line_number as varchar) as settlement_line_id,
        settlement_id,
        cast(line_number as integer) as line_number,
        cast(source_row as integer) as source_row,
        transaction_type,
        nullif(order_id, '') as order_id,
        nullif(merchant_order_id, '') as merchant_order_id,
        nullif(adjustment_id, '') as adjustment_id,
        nullif(shipment_id, '') as shipment_id,
        nullif(marketplace_name, '') as marketplace_name,
        amount_type,
        amount_description,
        {{ to_money('amount') }} as amount,
        currency,
        nullif(fulfillment_id, '') as fulfillment_id,
        nullif(order_item_code, '') as order_item_code,
        nullif(merchant_order_item_id, '') as merchant_order_item_id,
        nullif(merchant_adjustment_item_id, '') as merchant_adjustment_item_id,
        nullif(sku, '') as sku,
        cast(quantity_purchased as integer) as quantity_purchased,
        nullif(promotion_id, '') as promotion_id,
        extra,
        posted_date,
        posted_at
    from source
),

final as (
    select * from renamed
)

select * from final
