-- Per settlement, straight from the loaded report: the amount rows add up to total-amount, or
-- the settlement is NOT balanced and is listed as a settlement_variance exception.
with

settlements as (
    select * from {{ ref('stg_amazon__settlements') }}
),

lines as (
    select * from {{ ref('stg_amazon__settlement_lines') }}
),

statuses as (
    select * from {{ ref('fct_settlements') }}
),

exceptions as (
    select * from {{ ref('rpt_exceptions') }}
    where exception_type = 'settlement_variance'
),

row_sums as (
    select
        settlement_id,
        sum(amount) as row_sum
    from lines
    group by settlement_id
),

final as (
    select
        settlements.settlement_id,
        settlements.reported_total,
        coalesce(row_sums.row_sum, 0) as row_sum,
        statuses.status
    from settlements
    left join row_sums
        on settlements.settlement_id = row_sums.settlement_id
    left join statuses
        on settlements.settlement_id = statuses.settlement_id
    left join exceptions
        on settlements.settlement_id = exceptions.settlement_id
    where settlements.reported_total <> coalesce(row_sums.row_sum, 0)
        and (
            statuses.status is distinct from 'variance'
            or exceptions.settlement_id is null
        )
)

select * from final
