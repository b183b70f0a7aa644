with

source as (
    select * from {{ source('raw_netsuite', 'customer') }}
),

renamed as (
    select
        cast(id as varchar) as customer_id,
        externalid as customer_external_id,
        entityid as entity_name,
        companyname as company_name,
        cast(subsidiary as varchar) as subsidiary_id,
        cast(currency as varchar) as currency_id,
        lastmodifieddate as last_modified_at
    from source
),

final as (
    select * from renamed
)

select * from final
