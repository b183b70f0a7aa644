-- Every mapped SKU whose quantities differ by more than the threshold is an open
-- inventory_drift exception (the drift is recomputed here from both systems' quantities).
with

pools as (
    select * from {{ ref('fct_inventory_pools') }}
    where is_mapped
),

settings as (
    select * from {{ ref('int_ledgerbridge__settings') }}
),

exceptions as (
    select * from {{ ref('rpt_exceptions') }}
    where exception_type = 'inventory_drift'
),

final as (
    select
        pools.inventory_pool_id,
        pools.amazon_quantity,
        pools.netsuite_quantity
    from pools
    cross join settings
    left join exceptions
        on pools.inventory_pool_id = exceptions.exception_key
    where abs(pools.amazon_quantity - coalesce(pools.netsuite_quantity, 0)) > settings.inventory_drift_threshold
        and exceptions.exception_key is null
)

select * from final
