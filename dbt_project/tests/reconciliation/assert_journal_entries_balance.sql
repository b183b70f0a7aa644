-- Per journal entry (and order-mode document) of a settlement: debits = credits, to the cent.
with

journal_lines as (
    select * from {{ ref('fct_settlement_journal_lines') }}
),

final as (
    select
        settlement_id,
        entry_external_id,
        sum(debit) as total_debit,
        sum(credit) as total_credit
    from journal_lines
    group by settlement_id, entry_external_id
    having sum(debit) <> sum(credit)
)

select * from final
