with

source as (
    select * from {{ source('raw_netsuite', 'account') }}
),

renamed as (
    select
        cast(id as varchar) as account_id,
        externalid as account_external_id,
        acctnumber as account_number,
        fullname as account_name,
        accttype as account_type,
        lastmodifieddate as last_modified_at
    from source
),

final as (
    select * from renamed
)

select * from final
