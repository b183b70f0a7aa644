-- Revenue is counted once, never by both the orders and the journal.
-- summary mode: the settlement journal carries all revenue rows; no order document (cash sale,
--   invoice, payment, credit memo) exists (sales orders post nothing).
-- order mode: the journal carries no order revenue; the cash sales / customer payments / credit
--   memos carry exactly the order-revenue rows.
with

settings as (
    select * from {{ ref('int_ledgerbridge__settings') }}
),

lines as (
    select * from {{ ref('fct_settlement_lines') }}
),

settlements as (
    select * from {{ ref('fct_settlements') }}
    where status = 'balanced'
),

journal_lines as (
    select * from {{ ref('fct_settlement_journal_lines') }}
),

order_documents as (
    select count(*) as document_count from {{ ref('sync_netsuite__cash_sales') }}
    union all
    select count(*) from {{ ref('sync_netsuite__invoices') }}
    union all
    select count(*) from {{ ref('sync_netsuite__customer_payments') }}
    union all
    select count(*) from {{ ref('sync_netsuite__credit_memos') }}
),

expected as (
    select
        lines.settlement_id,
        sum(case when lines.category in {{ order_revenue_categories() }} then lines.amount else 0 end)
            as revenue_rows,
        sum(case when lines.is_order_revenue then lines.amount else 0 end) as order_revenue_rows
    from lines
    inner join settlements
        on lines.settlement_id = settlements.settlement_id
    group by lines.settlement_id
),

posted as (
    select
        settlement_id,
        sum(case
            when entry_type = 'journal_entry' and category in {{ order_revenue_categories() }}
                then credit - debit
            else 0
        end) as journal_revenue,
        sum(case
            when entry_type in ('cash_sale', 'credit_memo') and category in {{ order_revenue_categories() }}
                then credit - debit
            when entry_type = 'customer_payment' and category = 'receivable'
                then credit - debit
            else 0
        end) as order_document_revenue
    from journal_lines
    group by settlement_id
),

per_settlement as (
    select
        expected.settlement_id,
        settings.accounting_mode,
        expected.revenue_rows,
        expected.order_revenue_rows,
        coalesce(posted.journal_revenue, 0) as journal_revenue,
        coalesce(posted.order_document_revenue, 0) as order_document_revenue
    from expected
    cross join settings
    left join posted
        on expected.settlement_id = posted.settlement_id
),

final as (
    select
        settlement_id,
        accounting_mode,
        revenue_rows,
        order_revenue_rows,
        journal_revenue,
        order_document_revenue
    from per_settlement
    where (
        accounting_mode = 'summary'
        and (journal_revenue <> revenue_rows or order_document_revenue <> 0)
    ) or (
        accounting_mode = 'order'
        and (
            journal_revenue <> revenue_rows - order_revenue_rows
            or order_document_revenue <> order_revenue_rows
        )
    )
    union all
    select
        'order documents in summary mode' as settlement_id,
        settings.accounting_mode,
        null,
        null,
        null,
        sum(order_documents.document_count)
    from order_documents
    cross join settings
    where settings.accounting_mode = 'summary'
    group by settings.accounting_mode
    having sum(order_documents.document_count) > 0
)

select * from final
