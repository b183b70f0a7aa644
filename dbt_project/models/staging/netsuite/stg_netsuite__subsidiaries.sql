with

source as (
    select * from {{ source('raw_netsuite', 'subsidiary') }}
),

renamed as (
    select
        cast(id as varchar) as subsidiary_id,
        name as subsidiary_name,
        cast(currency as varchar) as currency_id,
        country,
        lastmodifieddate as last_modified_at
    from source
),

final as (
    select * from renamed
)

select * from final
