{#- The ledger effect of every balanced settlement, on the clearing-account model: one line per
    GL account, category and document (aggregated per posting period), each against the
    marketplace's clearing account, plus the deposit (bank vs clearing for total-amount, reversed
    when the total is negative). entry_type says which NetSuite document posts the line: the
    summary `journal_entry`, or in `order` mode the `cash_sale` / `customer_payment` /
    `credit_memo` of the order. Per entry debits = credits; per settlement the clearing account
    nets to zero. Blocked and variance settlements get no lines. -#}
with

lines as (
    select * from {{ ref('fct_settlement_lines') }}
),

settlements as (
    select * from {{ ref('fct_settlements') }}
    where status = 'balanced'
),

settings as (
    select * from {{ ref('int_ledgerbridge__settings') }}
),

document_amounts as (
    select
        lines.settlement_id,
        lines.entry_external_id,
        lines.posting_route as entry_type,
        lines.posting_date,
        lines.posting_period,
        case
            when lines.posting_route = 'customer_payment' then settings.receivable_account
            else lines.gl_account
        end as gl_account,
        case
            when lines.posting_route = 'customer_payment' then 'receivable'
            else lines.category
        end as category,
        case
            when lines.posting_route = 'customer_payment' then 'Payment of order ' || max(lines.order_id)
            when lines.posting_route in ('cash_sale', 'credit_memo')
                then max(lines.mapping_memo) || ', order ' || max(lines.order_id)
            else max(lines.mapping_memo)
        end as memo,
        sum(lines.amount) as amount,
        count(*) as source_line_count,
        min(lines.line_number) as first_source_line,
        max(lines.line_number) as last_source_line
    from lines
    inner join settlements
        on lines.settlement_id = settlements.settlement_id
    cross join settings
    group by 1, 2, 3, 4, 5, 6, 7, lines.posting_route
),

account_lines as (
    select
        settlement_id,
        entry_external_id,
        entry_type,
        posting_date,
        posting_period,
        1 as line_kind,
        gl_account,
        category,
        memo,
        case when amount < 0 then -amount else 0 end as debit,
        case when amount > 0 then amount else 0 end as credit,
        source_line_count,
        first_source_line,
        last_source_line
    from document_amounts
    where amount <> 0
),

clearing_lines as (
    select
        account_lines.settlement_id,
        account_lines.entry_external_id,
        account_lines.entry_type,
        account_lines.posting_date,
        account_lines.posting_period,
        2 as line_kind,
        settlements.clearing_account as gl_account,
        'clearing' as category,
        'Clearing: ' || account_lines.memo as memo,
        account_lines.credit as debit,
        account_lines.debit as credit,
        account_lines.source_line_count,
        account_lines.first_source_line,
        account_lines.last_source_line
    from account_lines
    inner join settlements
        on account_lines.settlement_id = settlements.settlement_id
),

variance_lines as (
    -- Only when finance tolerates a variance: the difference goes to amazon-other.
    select
        settlement_id,
        deposit_entry_external_id as entry_external_id,
        'journal_entry' as entry_type,
        posting_date,
        {{ period_label('posting_date') }} as posting_period,
        3 as line_kind,
        clearing_account as gl_account,
        'clearing' as category,
        'Clearing: settlement variance (reported minus computed total)' as memo,
        case when variance > 0 then variance else 0 end as debit,
        case when variance < 0 then -variance else 0 end as credit,
        0 as source_line_count,
        cast(null as integer) as first_source_line,
        cast(null as integer) as last_source_line
    from settlements
    where variance <> 0
    union all
    select
        settlement_id,
        deposit_entry_external_id as entry_external_id,
        'journal_entry' as entry_type,
        posting_date,
        {{ period_label('posting_date') }} as posting_period,
        3 as line_kind,
        'amazon-other' as gl_account,
        'variance' as category,
        'Settlement variance (reported minus computed total)' as memo,
        case when variance < 0 then -variance else 0 end as debit,
        case when variance > 0 then variance else 0 end as credit,
        0 as source_line_count,
        cast(null as integer) as first_source_line,
        cast(null as integer) as last_source_line
    from settlements
    where variance <> 0
),

deposit_lines as (
    -- Bank vs clearing for total-amount; a negative settlement pulls the money back.
    select
        settlement_id,
        deposit_entry_external_id as entry_external_id,
        'journal_entry' as entry_type,
        posting_date,
        {{ period_label('posting_date') }} as posting_period,
        4 as line_kind,
        bank_account as gl_account,
        'deposit' as category,
        case
            when reported_total >= 0 then 'Amazon deposit of settlement ' || settlement_id
            else 'Amazon debit of settlement ' || settlement_id || ' (negative total)'
        end as memo,
        case when reported_total > 0 then reported_total else 0 end as debit,
        case when reported_total < 0 then -reported_total else 0 end as credit,
        0 as source_line_count,
        cast(null as integer) as first_source_line,
        cast(null as integer) as last_source_line
    from settlements
    where reported_total <> 0
    union all
    select
        settlement_id,
        deposit_entry_external_id as entry_external_id,
        'journal_entry' as entry_type,
        posting_date,
        {{ period_label('posting_date') }} as posting_period,
        5 as line_kind,
        clearing_account as gl_account,
        'clearing' as category,
        'Clearing: Amazon deposit of settlement ' || settlement_id as memo,
        case when reported_total < 0 then -reported_total else 0 end as debit,
        case when reported_total > 0 then reported_total else 0 end as credit,
        0 as source_line_count,
        cast(null as integer) as first_source_line,
        cast(null as integer) as last_source_line
    from settlements
    where reported_total <> 0
),

unioned as (
    select * from account_lines
    union all
    select * from clearing_lines
    union all
    select * from variance_lines
    union all
    select * from deposit_lines
),

numbered as (
    select
        *,
        row_number() over (
            partition by settlement_id, entry_external_id
            order by line_kind, gl_account, category, memo, debit, credit
        ) as line_number
    from unioned
),

final as (
    select
        numbered.settlement_id || '-' || numbered.entry_external_id || '-' || cast(numbered.line_number as varchar)
            as journal_line_id,
        numbered.settlement_id,
        numbered.entry_external_id,
        numbered.entry_type,
        numbered.line_number,
        numbered.gl_account,
        numbered.category,
        {{ to_money('numbered.debit') }} as debit,
        {{ to_money('numbered.credit') }} as credit,
        numbered.memo,
        numbered.posting_date,
        numbered.posting_period,
        settlements.marketplace,
        settlements.currency,
        settlements.subsidiary,
        numbered.source_line_count,
        numbered.first_source_line,
        numbered.last_source_line
    from numbered
    inner join settlements
        on numbered.settlement_id = settlements.settlement_id
)

select * from final
