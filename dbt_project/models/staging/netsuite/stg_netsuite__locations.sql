with

source as (
    select * from {{ source('raw_netsuite', 'location') }}
),

renamed as (
    select
        cast(id as varchar) as location_id,
        externalid as location_external_id,
        name as location_name,
        cast(subsidiary as varchar) as subsidiary_id,
        coalesce(cast(isinactive as varchar) in ('T', 'true', 'True'), false) as is_inactive,
        lastmodifieddate as last_modified_at
    from source
),

final as (
    select * from renamed
)

select * from final
