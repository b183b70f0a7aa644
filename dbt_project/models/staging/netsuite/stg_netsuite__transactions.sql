with

source as (
    select * from {{ source('raw_netsuite', 'transaction') }}
),

renamed as (
    select
        cast(id as varchar) as transaction_id,
        externalid as transaction_external_id,
        tranid as transaction_number,
        type as transaction_type,
        cast(entity as varchar) as customer_id,
        cast(currency as varchar) as currency_id,
        memo,
        {{ to_money('foreigntotal') }} as foreign_total,
        cast(trandate as date) as transaction_date,
        lastmodifieddate as last_modified_at
    from source
),

final as (
    select * from renamed
)

select * from final
