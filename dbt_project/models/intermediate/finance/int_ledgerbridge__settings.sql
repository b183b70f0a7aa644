{#- One row of typed settings: the finance-editable seed, with the accounting mode overridable
    from the command line (`ledgerbridge build --mode order`). `config_version` fingerprints every
    seed finance edits (GL mapping, marketplace accounts, settings) and the accounting mode: when it
    changes, the incremental marts reprocess their whole history (see dbt_project/README.md). -#}
with

settings as (
    select * from {{ ref('ledgerbridge_settings') }}
),

pivoted as (
    select
        max(case when setting = 'accounting_mode' then value end) as seed_accounting_mode,
        max(case when setting = 'customer_strategy' then value end) as customer_strategy,
        max(case when setting = 'month_end_split' then value end) as month_end_split,
        max(case when setting = 'receivable_account' then value end) as receivable_account,
        max(case when setting = 'inventory_adjustment_account' then value end)
            as inventory_adjustment_account,
        max(case when setting = 'inventory_drift_threshold' then value end) as inventory_drift_threshold,
        max(case when setting = 'settlement_variance_tolerance' then value end)
            as settlement_variance_tolerance,
        max(case when setting = 'warehouse_location' then value end) as warehouse_location,
        max(case when setting = 'inventory_adjustment_max_lines' then value end)
            as inventory_adjustment_max_lines,
        max(case when setting = 'price_level' then value end) as price_level
    from settings
),

config_text as (
    select
        {{ seed_text(ref('gl_account_mapping'),
            ['transaction_type', 'amount_type', 'amount_description', 'gl_account', 'category', 'memo']) }}
        || '#' || {{ seed_text(ref('marketplace_accounts'),
            ['marketplace_code', 'marketplace_id', 'marketplace_name', 'currency', 'clearing_account',
             'bank_account', 'reserve_account', 'fba_location', 'subsidiary']) }}
        || '#' || {{ seed_text(ref('ledgerbridge_settings'), ['setting', 'value']) }}
        -- the mode in effect (the --vars override, else the seed): the same mode is the same version
        || '#' || coalesce({{ accounting_mode_override() }}, pivoted.seed_accounting_mode, 'summary') as config_text
    from pivoted
),

final as (
    select
        coalesce({{ accounting_mode_override() }}, seed_accounting_mode, 'summary') as accounting_mode,
        coalesce(customer_strategy, 'per_marketplace') as customer_strategy,
        coalesce(lower(month_end_split) in ('true', '1', 'yes', 'on'), false) as is_month_end_split,
        coalesce(receivable_account, 'accounts-receivable') as receivable_account,
        coalesce(inventory_adjustment_account, 'amazon-other') as inventory_adjustment_account,
        coalesce(cast(inventory_drift_threshold as integer), 0) as inventory_drift_threshold,
        {{ to_money("coalesce(settlement_variance_tolerance, '0')") }} as settlement_variance_tolerance,
        coalesce(warehouse_location, 'wh-main') as warehouse_location,
        coalesce(cast(inventory_adjustment_max_lines as integer), 1000) as inventory_adjustment_max_lines,
        coalesce(price_level, 'Base Price') as price_level,
        {{ dbt.hash('config_text.config_text') }} as config_version
    from pivoted
    cross join config_text
)

select * from final
