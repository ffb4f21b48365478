select
    id as feature_vector_id,
    entity_type,
    entity_id,
    feature_version,
    feature_extraction_method,
    updated_at
from {{ source('naviyam', 'feature_vectors') }}
