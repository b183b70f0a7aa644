{#- One settlement: reported vs computed total and its status. `blocked` = a line has no GL
    mapping (nothing is journaled or pushed until finance maps it); `variance` = the amount rows
    do not add up to the reported total-amount; else `balanced`. -#}
with

settlements as (
    select * from {{ ref('stg_amazon__settlements') }}
),

lines as (
    select * from {{ ref('fct_settlement_lines') }}
),

marketplaces as (
    select * from {{ ref('marketplace_accounts') }}
),

settings as (
    select * from {{ ref('int_ledgerbridge__settings') }}
),

line_totals as (
    select
        settlement_id,
        count(*) as line_count,
        sum(amount) as computed_total,
        sum(case when not is_mapped then 1 else 0 end) as unmapped_line_count,
        {{ dbt.bool_or('is_split_settlement') }} as is_split_settlement
    from lines
    group by settlement_id
),

joined as (
    select
        settlements.settlement_id,
        settlements.marketplace_code as marketplace,
        settlements.marketplace_name,
        settlements.currency,
        settlements.period_start_at,
        settlements.period_end_at,
        settlements.deposit_at,
        {{ utc_date('settlements.deposit_at') }} as deposit_date,
        {{ utc_date('settlements.period_end_at') }} as posting_date,
        settlements.reported_total,
        {{ to_money('coalesce(line_totals.computed_total, 0)') }} as computed_total,
        settlements.file_line_sum,
        coalesce(line_totals.line_count, 0) as line_count,
        settlements.line_count as reported_line_count,
        coalesce(line_totals.unmapped_line_count, 0) as unmapped_line_count,
        coalesce(line_totals.is_split_settlement, false) as is_split_settlement,
        settlements.layout,
        settlements.load_source,
        settlements.source_name,
        settlements.file_sha256,
        settlements.loaded_at,
        marketplaces.clearing_account,
        marketplaces.bank_account,
        marketplaces.subsidiary,
        settings.settlement_variance_tolerance,
        settings.accounting_mode
    from settlements
    cross join settings
    left join line_totals
        on settlements.settlement_id = line_totals.settlement_id
    left join marketplaces
        on settlements.marketplace_code = marketplaces.marketplace_code
),

final as (
    select
        settlement_id,
        marketplace,
        marketplace_name,
        currency,
        period_start_at,
        period_end_at,
        deposit_at,
        deposit_date,
        posting_date,
        reported_total,
        computed_total,
        {{ to_money('reported_total - computed_total') }} as variance,
        file_line_sum,
        line_count,
        reported_line_count,
        unmapped_line_count,
        case
            when unmapped_line_count > 0 then 'blocked'
            when abs(reported_total - computed_total) > settlement_variance_tolerance
                or (file_line_sum is not null and file_line_sum <> computed_total)
                or (reported_line_count is not null and reported_line_count <> line_count)
                or clearing_account is null
                then 'variance'
            else 'balanced'
        end as status,
        'amz-je-' || settlement_id || case
            when is_split_settlement then '-' || {{ period_suffix('posting_date') }}
            else ''
        end as deposit_entry_external_id,
        is_split_settlement,
        clearing_account,
        bank_account,
        subsidiary,
        accounting_mode,
        layout,
        load_source,
        source_name,
        file_sha256,
        loaded_at
    from joined
)

select * from final
