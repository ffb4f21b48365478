select
    id as foodcard_user_id,
    user_id,
    balance,
    status as card_status
from {{ source('naviyam', 'foodcard_users') }}
