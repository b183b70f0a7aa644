with

source as (
    select * from {{ source('raw_amazon', 'settlements') }}
),

marketplaces as (
    select * from {{ ref('marketplace_accounts') }}
),

renamed as (
    select
        source.settlement_id,
        coalesce(by_name.marketplace_code, by_currency.marketplace_code) as marketplace_code,
        source.marketplace_name,
        source.currency,
        {{ to_money('source.total_amount') }} as reported_total,
        {{ to_money('source.line_sum') }} as file_line_sum,
        cast(source.line_count as integer) as line_count,
        source.layout,
        source.source as load_source,
        source.source_name,
        source.file_sha256,
        source.replaced_sha256,
        source.period_start_at,
        source.period_end_at,
        source.deposit_at,
        source.loaded_at
    from source
    left join marketplaces as by_name
        on source.marketplace_name = by_name.marketplace_name
    -- a settlement whose marketplace-name is empty is identified by its currency
    left join marketplaces as by_currency
        on source.currency = by_currency.currency
),

final as (
    select * from renamed
)

select * from final
