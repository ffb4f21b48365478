select
    id as embedding_cache_id,
    content_hash,
    content_type,
    embedding_model,
    created_at,
    last_accessed as last_accessed_at,
    access_count,
    is_valid
from {{ source('naviyam', 'embedding_cache') }}
