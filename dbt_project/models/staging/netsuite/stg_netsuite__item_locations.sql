with

source as (
    select * from {{ source('raw_netsuite', 'aggregateitemlocation') }}
),

renamed as (
    select
        cast(item as varchar) || '-' || cast(location as varchar) as item_location_id,
        cast(item as varchar) as item_id,
        cast(location as varchar) as location_id,
        cast(coalesce(quantityonhand, 0) as decimal(18, 4)) as quantity_on_hand,
        cast(coalesce(quantityavailable, 0) as decimal(18, 4)) as quantity_available,
        lastmodifieddate as last_modified_at
    from source
),

final as (
    select * from renamed
)

select * from final
