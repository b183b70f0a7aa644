with

source as (
    select * from {{ source('raw_netsuite', 'transactionline') }}
),

renamed as (
    select
        cast("transaction" as varchar) || '-' || cast(id as varchar) as transaction_line_id,
        cast("transaction" as varchar) as transaction_id,
        cast(id as varchar) as line_id,
        cast(linesequencenumber as integer) as line_sequence_number,
        cast(item as varchar) as item_id,
        cast(location as varchar) as location_id,
        cast(quantity as decimal(18, 4)) as quantity,
        {{ to_money('foreignamount') }} as foreign_amount,
        lastmodifieddate as last_modified_at
    from source
),

final as (
    select * from renamed
)

select * from final
