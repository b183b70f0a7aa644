-- The latest outcome per pushed record (the engine keeps one row per record; if it ever keeps
-- history, the newest attempt wins).
with

source as (
    select * from {{ source('reverse_etl', 'sync_records') }}
),

renamed as (
    select
        record_type || ':' || external_id as sync_record_id,
        record_type,
        external_id,
        fingerprint,
        target_id,
        lower(status) as status,
        attempts,
        last_error,
        pushed_at,
        row_number() over (
            partition by record_type, external_id
            order by pushed_at desc nulls last
        ) as recency
    from source
),

final as (
    select
        sync_record_id,
        record_type,
        external_id,
        fingerprint,
        target_id,
        status,
        attempts,
        last_error,
        pushed_at
    from renamed
    where recency = 1
)

select * from final
