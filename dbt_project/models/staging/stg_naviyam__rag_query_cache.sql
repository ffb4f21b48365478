select
    id as rag_cache_id,
    query_hash,
    created_at,
    last_accessed as last_accessed_at,
    access_count,
    cache_hit_count,
    ttl_seconds,
    created_at + make_interval(secs => ttl_seconds) as expires_at
from {{ source('naviyam', 'rag_query_cache') }}
