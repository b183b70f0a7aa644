{#- The settlement classification (int_settlement_lines__classified, and the incremental
    fct_settlement_lines): every amount row with its GL account and category (the most specific row
    of the GL mapping seed wins; `*` matches anything), the document that posts it (journal entry,
    or in `order` mode the cash sale / customer payment / credit memo), its posting date and period
    (month-end split), and for refunds the order and settlement they reverse.

    `settlement_ids`: none = every settlement; else only these (a list of ids), so an incremental
    build classifies the new and changed settlements alone. A refund is linked to the settlement
    that paid its order by looking at every settlement's `Order` rows, classified or not. -#}
{% macro classify_settlement_lines(settlement_ids=none) %}
{%- if settlement_ids is none -%}
    {%- set scope_filter = '' -%}
{%- elif settlement_ids | length == 0 -%}
    {%- set scope_filter = 'where 1 = 0' -%}
{%- else -%}
    {%- set scope_filter = 'where settlement_id in (' ~ sql_string_list(settlement_ids) ~ ')' -%}
{%- endif -%}
with

lines as (
    select * from {{ ref('stg_amazon__settlement_lines') }}
    {{ scope_filter }}
),

settlements as (
    select * from {{ ref('stg_amazon__settlements') }}
    {{ scope_filter }}
),

refunded_orders as (
    -- the orders that non-order rows (refunds, chargebacks) of these settlements refer to
    select distinct order_id
    from lines
    where transaction_type <> 'Order'
        and order_id is not null
),

order_lines_of_refunded_orders as (
    -- their `Order` rows in any settlement, classified now or earlier
    select
        history.order_id,
        history.settlement_id
    from {{ ref('stg_amazon__settlement_lines') }} as history
    inner join refunded_orders
        on history.order_id = refunded_orders.order_id
    where history.transaction_type = 'Order'
),

mapping as (
    select * from {{ ref('gl_account_mapping') }}
),

marketplaces as (
    select * from {{ ref('marketplace_accounts') }}
),

settings as (
    select * from {{ ref('int_ledgerbridge__settings') }}
),

amount_keys as (
    -- the few distinct (transaction-type, amount-type, description) of the rows: matched against
    -- the mapping once each, not once per row
    select distinct
        transaction_type,
        amount_type,
        amount_description
    from lines
),

candidates as (
    select
        lines.transaction_type,
        lines.amount_type,
        lines.amount_description,
        mapping.gl_account,
        mapping.category,
        mapping.memo as mapping_memo,
        row_number() over (
            partition by lines.transaction_type, lines.amount_type, lines.amount_description
            order by
                (mapping.transaction_type <> '*') desc,
                (mapping.amount_type <> '*') desc,
                (mapping.amount_description <> '*') desc,
                mapping.gl_account
        ) as match_rank
    from amount_keys as lines
    inner join mapping
        on (mapping.transaction_type = '*' or lower(mapping.transaction_type) = lower(lines.transaction_type))
        and (mapping.amount_type = '*' or lower(mapping.amount_type) = lower(lines.amount_type))
        and (
            mapping.amount_description = '*'
            or lower(mapping.amount_description) = lower(coalesce(lines.amount_description, ''))
        )
),

best_match as (
    select * from candidates
    where match_rank = 1
),

order_settlements as (
    -- The settlement that paid each refunded order: the earliest one carrying its `Order` rows.
    select
        order_lines_of_refunded_orders.order_id,
        order_lines_of_refunded_orders.settlement_id,
        row_number() over (
            partition by order_lines_of_refunded_orders.order_id
            order by all_settlements.period_end_at, order_lines_of_refunded_orders.settlement_id
        ) as settlement_rank
    from order_lines_of_refunded_orders
    inner join {{ ref('stg_amazon__settlements') }} as all_settlements
        on order_lines_of_refunded_orders.settlement_id = all_settlements.settlement_id
),

first_order_settlement as (
    select * from order_settlements
    where settlement_rank = 1
),

classified as (
    select
        lines.settlement_line_id,
        lines.settlement_id,
        lines.line_number,
        lines.source_row,
        settlements.marketplace_code,
        coalesce(lines.currency, settlements.currency) as currency,
        lines.transaction_type,
        lines.amount_type,
        lines.amount_description,
        lines.amount,
        lines.order_id,
        lines.adjustment_id,
        lines.shipment_id,
        lines.order_item_code,
        lines.sku,
        lines.quantity_purchased,
        lines.promotion_id,
        coalesce(lines.fulfillment_id, 'MFN') as fulfillment_channel,
        best_match.gl_account is not null as is_mapped,
        case
            when best_match.category = 'reserve'
                then coalesce(marketplaces.reserve_account, best_match.gl_account)
            else best_match.gl_account
        end as gl_account,
        best_match.category,
        best_match.mapping_memo,
        coalesce(
            best_match.category in {{ order_revenue_categories() }}
            and lines.transaction_type in {{ order_transaction_types() }}
            and lines.order_id is not null,
            false
        ) as is_order_revenue,
        case
            when lines.transaction_type <> 'Order' and lines.order_id is not null
                then lines.order_id
        end as refunded_order_id,
        case
            when lines.transaction_type <> 'Order' and lines.order_id is not null
                then first_order_settlement.settlement_id
        end as original_settlement_id,
        {{ utc_date('settlements.period_end_at') }} as settlement_posting_date,
        coalesce(lines.posted_date, {{ utc_date('lines.posted_at') }}) as posted_date,
        lines.posted_at,
        settlements.period_start_at,
        settlements.period_end_at,
        settlements.loaded_at,
        settings.accounting_mode,
        settings.is_month_end_split,
        settings.config_version as classification_version
    from lines
    inner join settlements
        on lines.settlement_id = settlements.settlement_id
    cross join settings
    left join best_match
        on lines.transaction_type is not distinct from best_match.transaction_type
        and lines.amount_type is not distinct from best_match.amount_type
        and lines.amount_description is not distinct from best_match.amount_description
    left join marketplaces
        on settlements.marketplace_code = marketplaces.marketplace_code
    left join first_order_settlement
        on lines.order_id = first_order_settlement.order_id
),

routed as (
    select
        *,
        case
            when accounting_mode = 'order' and is_order_revenue and transaction_type = 'Order'
                and fulfillment_channel = 'AFN'
                then 'cash_sale'
            when accounting_mode = 'order' and is_order_revenue and transaction_type = 'Order'
                then 'customer_payment'
            when accounting_mode = 'order' and is_order_revenue
                then 'credit_memo'
            else 'journal_entry'
        end as posting_route
    from classified
),

dated as (
    select
        *,
        case
            when posting_route = 'journal_entry' and is_month_end_split
                then least(
                    greatest(coalesce(posted_date, settlement_posting_date), {{ utc_date('period_start_at') }}),
                    settlement_posting_date
                )
            else settlement_posting_date
        end as line_date
    from routed
),

periods as (
    select
        *,
        {{ dbt.date_trunc('month', 'line_date') }} as posting_month,
        min(case when posting_route = 'journal_entry' then {{ dbt.date_trunc('month', 'line_date') }} end)
            over (partition by settlement_id)
        < {{ dbt.date_trunc('month', 'settlement_posting_date') }} as is_split_settlement
    from dated
),

final as (
    select
        settlement_line_id,
        settlement_id,
        line_number,
        source_row,
        marketplace_code,
        currency,
        transaction_type,
        amount_type,
        amount_description,
        amount,
        order_id,
        adjustment_id,
        shipment_id,
        order_item_code,
        sku,
        quantity_purchased,
        promotion_id,
        fulfillment_channel,
        is_mapped,
        gl_account,
        category,
        mapping_memo,
        is_order_revenue,
        refunded_order_id,
        original_settlement_id,
        posting_route,
        coalesce(is_split_settlement, false) as is_split_settlement,
        case posting_route
            when 'cash_sale' then 'amz-cs-' || order_id
            when 'customer_payment' then 'amz-pay-' || settlement_id || '-' || order_id
            -- Amazon adjustment ids (`amzn1:crow:…/…+…`) have characters NetSuite external ids refuse.
            when 'credit_memo' then 'amz-cm-' || settlement_id || '-' || order_id || '-'
                || {{ short_hash("coalesce(adjustment_id, '')") }}
            when 'journal_entry' then 'amz-je-' || settlement_id || case
                when coalesce(is_split_settlement, false) then '-' || {{ period_suffix('posting_month') }}
                else ''
            end
        end as entry_external_id,
        cast(case
            when posting_month = {{ dbt.date_trunc('month', 'settlement_posting_date') }}
                then settlement_posting_date
            else {{ dbt.last_day('posting_month', 'month') }}
        end as date) as posting_date,
        {{ period_label('posting_month') }} as posting_period,
        posted_date,
        posted_at,
        loaded_at,
        accounting_mode,
        classification_version
    from periods
)

select * from final
{% endmacro %}
