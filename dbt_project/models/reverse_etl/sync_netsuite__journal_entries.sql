-- Desired NetSuite journal entries: one per balanced settlement (or per posting period when
-- the month-end split is on). Blocked and variance settlements have no journal lines, so no row.
with

journal_lines as (
    select * from {{ ref('fct_settlement_journal_lines') }}
    where entry_type = 'journal_entry'
),

settlements as (
    select * from {{ ref('fct_settlements') }}
    where status = 'balanced'
),

netsuite_references as (
    select * from {{ ref('int_netsuite__references') }}
),

entries as (
    select
        journal_lines.entry_external_id,
        journal_lines.settlement_id,
        max(journal_lines.posting_date) as posting_date,
        max(journal_lines.posting_period) as posting_period,
        count(*) as line_count,
        {{ to_money('sum(journal_lines.debit)') }} as total_debit,
        {{ to_money('sum(journal_lines.credit)') }} as total_credit,
        {{ json_array_agg(
            "case when journal_lines.debit > 0 then "
            ~ json_object_of([
                ('account', ns_ref('journal_lines.gl_account')),
                ('debit', json_money('journal_lines.debit')),
                ('memo', 'journal_lines.memo'),
            ])
            ~ " else "
            ~ json_object_of([
                ('account', ns_ref('journal_lines.gl_account')),
                ('credit', json_money('journal_lines.credit')),
                ('memo', 'journal_lines.memo'),
            ])
            ~ " end",
            'journal_lines.line_number'
        ) }} as lines
    from journal_lines
    group by 1, 2
),

final as (
    select
        entries.entry_external_id as external_id,
        'journalEntry' as record_type,
        {{ json_text(json_object_of([
            ('subsidiary', ns_id_or_name('netsuite_references.subsidiary_id', 'netsuite_references.subsidiary_name')),
            ('currency', ns_id_or_name('netsuite_references.currency_id', 'netsuite_references.currency')),
            ('tranDate', 'cast(entries.posting_date as varchar)'),
            ('memo', "'Amazon settlement ' || entries.settlement_id || ' (' || settlements.marketplace || ', ' || entries.posting_period || ')'"),
            ('line', "json_object('items', entries.lines)"),
        ])) }} as payload,
        cast(null as varchar) as depends_on,
        entries.settlement_id,
        settlements.marketplace,
        settlements.currency,
        entries.posting_date,
        entries.posting_period,
        entries.line_count,
        entries.total_debit,
        entries.total_credit,
        settlements.reported_total
    from entries
    inner join settlements
        on entries.settlement_id = settlements.settlement_id
    inner join netsuite_references
        on settlements.marketplace = netsuite_references.marketplace_code
)

select * from final
