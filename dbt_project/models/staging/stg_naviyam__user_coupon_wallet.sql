select
    id as wallet_id,
    user_id,
    coupon_id,
    acquired_date as acquired_at,
    expiry_date as expires_at,
    usage_date as used_at,
    status as wallet_status,
    used_shop_id,
    used_order_amount,
    discount_applied,
    acquisition_source
from {{ source('naviyam', 'user_coupon_wallet') }}
