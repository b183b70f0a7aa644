-- A blocked or variance settlement has no journal lines and no journal entry to push, and a
-- blocked one has an unmapped_fee_type exception naming it.
with

settlements as (
    select * from {{ ref('fct_settlements') }}
    where status <> 'balanced'
),

journal_lines as (
    select distinct settlement_id from {{ ref('fct_settlement_journal_lines') }}
),

journal_entries as (
    select distinct settlement_id from {{ ref('sync_netsuite__journal_entries') }}
),

fee_exceptions as (
    select distinct settlement_id from {{ ref('rpt_exceptions') }}
    where exception_type = 'unmapped_fee_type'
),

final as (
    select
        settlements.settlement_id,
        settlements.status,
        journal_lines.settlement_id is not null as has_journal_lines,
        journal_entries.settlement_id is not null as has_journal_entry,
        fee_exceptions.settlement_id is not null as has_exception
    from settlements
    left join journal_lines
        on settlements.settlement_id = journal_lines.settlement_id
    left join journal_entries
        on settlements.settlement_id = journal_entries.settlement_id
    left join fee_exceptions
        on settlements.settlement_id = fee_exceptions.settlement_id
    where journal_lines.settlement_id is not null
        or journal_entries.settlement_id is not null
        or (settlements.status = 'blocked' and fee_exceptions.settlement_id is null)
)

select * from final
