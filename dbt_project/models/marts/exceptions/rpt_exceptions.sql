-- One open exception for finance: what is wrong, how bad, and what to do next. Rebuilt on every
-- build, so an exception disappears once its cause is fixed (retry = fix, then build again).
with

settlement_lines as (
    select * from {{ ref('fct_settlement_lines') }}
),

settlements as (
    select * from {{ ref('fct_settlements') }}
),

order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

pools as (
    select * from {{ ref('fct_inventory_pools') }}
),

rejections as (
    select * from {{ ref('stg_amazon__settlement_rejections') }}
),

sync_records as (
    select * from {{ ref('stg_reverse_etl__sync_records') }}
),

unmapped_fee_types as (
    select
        'unmapped_fee_type' as exception_type,
        'error' as severity,
        settlement_lines.settlement_id || ': ' || settlement_lines.transaction_type
        || ' / ' || settlement_lines.amount_type
        || ' / ' || coalesce(settlement_lines.amount_description, '') as exception_key,
        count(*) || ' row(s) totalling ' || cast(sum(settlement_lines.amount) as varchar)
        || ' ' || max(settlement_lines.currency) || ' in settlement ' || settlement_lines.settlement_id
        || ' (transaction-type "' || settlement_lines.transaction_type || '", amount-type "'
        || settlement_lines.amount_type || '", amount-description "'
        || coalesce(settlement_lines.amount_description, '')
        || '") have no GL account; the settlement journal is blocked' as detail,
        'Add this transaction-type / amount-type / amount-description to '
        || 'dbt_project/seeds/gl_account_mapping.csv, then run `ledgerbridge build`' as next_action,
        settlement_lines.settlement_id,
        cast(null as varchar) as order_id,
        cast(null as varchar) as sku,
        min(settlement_lines.loaded_at) as first_seen_at
    from settlement_lines
    where not settlement_lines.is_mapped
    group by
        settlement_lines.settlement_id,
        settlement_lines.transaction_type,
        settlement_lines.amount_type,
        settlement_lines.amount_description
),

unmapped_skus as (
    select
        'unmapped_sku' as exception_type,
        'error' as severity,
        order_lines.sku as exception_key,
        'SKU ' || order_lines.sku || ' has no NetSuite item (item name/number); '
        || count(distinct order_lines.order_id) || ' order(s) in '
        || {{ dbt.listagg('distinct order_lines.marketplace_code', "', '", 'order by order_lines.marketplace_code') }}
        || ' cannot be pushed' as detail,
        'Create (or fix) the NetSuite item whose Item Name/Number is ' || order_lines.sku
        || ', then run `ledgerbridge ingest netsuite` and `ledgerbridge build`' as next_action,
        cast(null as varchar) as settlement_id,
        min(order_lines.order_id) as order_id,
        order_lines.sku,
        min(orders.purchased_at) as first_seen_at
    from order_lines
    left join orders
        on order_lines.order_id = orders.order_id
    where not order_lines.is_mapped
    group by order_lines.sku
),

missing_orders as (
    select
        'order_missing_in_netsuite' as exception_type,
        case when accounting_mode = 'order' then 'error' else 'warning' end as severity,
        order_id as exception_key,
        'Order ' || order_id || ' (' || marketplace_code || ', ' || fulfillment_channel
        || ') was paid in settlement ' || settlement_id || ' but has no NetSuite '
        || netsuite_record_type || ' and cannot be pushed: '
        || case
            when line_count = 0 then 'Amazon returned no order items'
            when marketplace_code is null then 'unknown marketplace ' || marketplace_id
            else 'order status ' || order_status
        end as detail,
        'Re-ingest the order (`ledgerbridge ingest amazon`), then run `ledgerbridge build`' as next_action,
        settlement_id,
        order_id,
        cast(null as varchar) as sku,
        purchased_at as first_seen_at
    from orders
    -- orders held back by an unmapped SKU are listed under that SKU's unmapped_sku exception
    where is_settled
        and not exists_in_netsuite
        and not is_ready_for_netsuite
        and not has_unmapped_sku
),

settlement_variances as (
    select
        'settlement_variance' as exception_type,
        'error' as severity,
        settlement_id as exception_key,
        'Settlement ' || settlement_id || ' reports ' || cast(reported_total as varchar) || ' ' || currency
        || ' but its ' || line_count || ' amount rows add up to ' || cast(computed_total as varchar)
        || ' (variance ' || cast(variance as varchar) || '); nothing is journaled' as detail,
        'Re-download the settlement report from Seller Central and import it again '
        || '(`ledgerbridge import-settlements FILE`); a complete file replaces the incomplete one' as next_action,
        settlement_id,
        cast(null as varchar) as order_id,
        cast(null as varchar) as sku,
        loaded_at as first_seen_at
    from settlements
    where status = 'variance'
),

inventory_drift as (
    select
        'inventory_drift' as exception_type,
        'warning' as severity,
        inventory_pool_id as exception_key,
        pool || ' stock of ' || sku || ' at ' || location_external_id || ' (' || marketplace_code || '): Amazon '
        || cast(amazon_quantity as varchar) || ', NetSuite ' || coalesce(cast(netsuite_quantity as varchar), '0')
        || ', drift ' || cast(drift as varchar) || ' beyond the threshold of '
        || cast(inventory_drift_threshold as varchar) as detail,
        case
            when pool = 'FBA'
                then 'Amazon is master for FBA: `ledgerbridge push` posts an inventory adjustment of '
                || cast(drift as varchar) || ' at ' || location_external_id
            else 'NetSuite is master for merchant stock: `ledgerbridge push` sets the Amazon listing quantity to '
                || coalesce(cast(netsuite_quantity as varchar), '0')
        end as next_action,
        cast(null as varchar) as settlement_id,
        cast(null as varchar) as order_id,
        sku,
        coalesce(amazon_updated_at, netsuite_updated_at) as first_seen_at
    from pools
    where is_drift_exception
),

rejected_files as (
    select
        'settlement_file_rejected' as exception_type,
        'error' as severity,
        coalesce(file_sha256, file_name) as exception_key,
        'File ' || file_name || ' was rejected'
        || coalesce(' at row ' || cast(row_number as varchar), '')
        || coalesce(', field ' || field, '') || ': ' || coalesce(error, 'unknown error') as detail,
        'Fix or re-download the file, then run `ledgerbridge import-settlements FILE` again' as next_action,
        settlement_id,
        cast(null as varchar) as order_id,
        cast(null as varchar) as sku,
        rejected_at as first_seen_at
    from rejections
    qualify row_number() over (partition by coalesce(file_sha256, file_name) order by rejected_at desc) = 1
),

failed_pushes as (
    select
        'push_failed' as exception_type,
        'error' as severity,
        record_type || ': ' || external_id as exception_key,
        'Push of ' || record_type || ' ' || external_id || ' failed after ' || coalesce(cast(attempts as varchar), '?')
        || ' attempt(s): ' || coalesce(last_error, 'no error message') as detail,
        'Fix the cause named in the error (in NetSuite or Amazon), then run `ledgerbridge push` again' as next_action,
        cast(null as varchar) as settlement_id,
        cast(null as varchar) as order_id,
        cast(null as varchar) as sku,
        pushed_at as first_seen_at
    from sync_records
    where status in ('failed', 'rejected', 'error')
),

unioned as (
    select * from unmapped_fee_types
    union all
    select * from unmapped_skus
    union all
    select * from missing_orders
    union all
    select * from settlement_variances
    union all
    select * from inventory_drift
    union all
    select * from rejected_files
    union all
    select * from failed_pushes
),

final as (
    select
        exception_type || ':' || exception_key as exception_id,
        exception_type,
        severity,
        exception_key,
        detail,
        next_action,
        settlement_id,
        order_id,
        sku,
        first_seen_at
    from unioned
)

select * from final
