select
    id as user_id,
    id::text as platform_user_id,
    birthday,
    current_address
from {{ source('naviyam', 'users') }}
