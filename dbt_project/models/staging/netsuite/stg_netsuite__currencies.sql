with

source as (
    select * from {{ source('raw_netsuite', 'currency') }}
),

renamed as (
    select
        cast(id as varchar) as currency_id,
        symbol as currency_code,
        name as currency_name,
        lastmodifieddate as last_modified_at
    from source
),

final as (
    select * from renamed
)

select * from final
