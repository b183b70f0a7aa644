with

source as (
    select * from {{ source('raw_netsuite', 'item') }}
),

renamed as (
    select
        cast(id as varchar) as item_id,
        externalid as item_external_id,
        itemid as sku,
        displayname as item_name,
        itemtype as item_type,
        coalesce(cast(isinactive as varchar) in ('T', 'true', 'True'), false) as is_inactive,
        lastmodifieddate as last_modified_at
    from source
),

final as (
    select * from renamed
)

select * from final
