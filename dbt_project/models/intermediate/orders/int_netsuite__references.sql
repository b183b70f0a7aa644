-- Per marketplace: the NetSuite internal ids of its subsidiary and currency, resolved by name /
-- ISO code, so record payloads can reference them ({"id": ...}).
with

marketplaces as (
    select * from {{ ref('marketplace_accounts') }}
),

subsidiaries as (
    select * from {{ ref('stg_netsuite__subsidiaries') }}
),

currencies as (
    select * from {{ ref('stg_netsuite__currencies') }}
),

final as (
    select
        marketplaces.marketplace_code,
        marketplaces.marketplace_id,
        marketplaces.currency,
        marketplaces.clearing_account,
        marketplaces.bank_account,
        marketplaces.fba_location,
        marketplaces.subsidiary as subsidiary_name,
        subsidiaries.subsidiary_id,
        currencies.currency_id
    from marketplaces
    left join subsidiaries
        on marketplaces.subsidiary = subsidiaries.subsidiary_name
    left join currencies
        on marketplaces.currency = currencies.currency_code
)

select * from final
