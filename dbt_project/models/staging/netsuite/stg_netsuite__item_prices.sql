with

source as (
    select * from {{ source('raw_netsuite', 'pricing') }}
),

renamed as (
    select
        cast(item as varchar) || '-' || cast(pricelevel as varchar) || '-' || cast(currency as varchar)
            as item_price_id,
        cast(item as varchar) as item_id,
        cast(pricelevel as varchar) as price_level_id,
        pricelevelname as price_level_name,
        cast(currency as varchar) as currency_id,
        {{ to_money('unitprice') }} as unit_price
    from source
),

final as (
    select * from renamed
)

select * from final
