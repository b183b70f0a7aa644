-- Per balanced settlement: exactly one deposit line, and it moves total-amount to the bank
-- (debit) or, for a negative settlement, pulls it back (credit).
with

journal_lines as (
    select * from {{ ref('fct_settlement_journal_lines') }}
    where category = 'deposit'
),

settlements as (
    select * from {{ ref('fct_settlements') }}
    where status = 'balanced'
        and reported_total <> 0
),

final as (
    select
        settlements.settlement_id,
        settlements.reported_total,
        count(journal_lines.settlement_id) as deposit_lines,
        sum(journal_lines.debit - journal_lines.credit) as deposited
    from settlements
    left join journal_lines
        on settlements.settlement_id = journal_lines.settlement_id
        and journal_lines.gl_account = settlements.bank_account
        and journal_lines.entry_external_id = settlements.deposit_entry_external_id
    group by settlements.settlement_id, settlements.reported_total
    having count(journal_lines.settlement_id) <> 1
        or sum(journal_lines.debit - journal_lines.credit) is distinct from settlements.reported_total
)

select * from final
