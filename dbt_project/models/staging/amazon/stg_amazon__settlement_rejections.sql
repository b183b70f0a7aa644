with

source as (
    select * from {{ source('raw_amazon', 'settlement_rejections') }}
),

renamed as (
    select
        file_sha256,
        file_name,
        settlement_id,
        cast(row_number as integer) as row_number,
        field,
        error,
        rejected_at
    from source
),

final as (
    select * from renamed
)

select * from final
