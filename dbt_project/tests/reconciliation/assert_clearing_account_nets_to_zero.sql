-- Per settlement: everything posted to the marketplace's clearing account nets to zero (every
-- line against clearing, and the deposit empties it).
with

journal_lines as (
    select * from {{ ref('fct_settlement_journal_lines') }}
),

settlements as (
    select * from {{ ref('fct_settlements') }}
    where status = 'balanced'
),

final as (
    select
        settlements.settlement_id,
        settlements.clearing_account,
        coalesce(sum(journal_lines.debit - journal_lines.credit), 0) as clearing_balance
    from settlements
    left join journal_lines
        on settlements.settlement_id = journal_lines.settlement_id
        and journal_lines.gl_account = settlements.clearing_account
    group by settlements.settlement_id, settlements.clearing_account
    having coalesce(sum(journal_lines.debit - journal_lines.credit), 0) <> 0
        or count(journal_lines.settlement_id) = 0
)

select * from final
