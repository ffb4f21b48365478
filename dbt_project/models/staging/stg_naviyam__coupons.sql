select
    id as coupon_id,
    coupon_name,
    discount_amount,
    discount_rate::numeric as discount_rate,
    min_order_amount,
    usage_type,
    target_categories,
    applicable_shops,
    valid_from,
    valid_until
from {{ source('naviyam', 'coupons') }}
