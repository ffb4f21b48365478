select
    id as order_id,
    user_id,
    product_id as menu_id,
    created_at as ordered_at,
    quantity,
    price as order_amount
from {{ source('naviyam', 'product_orders') }}
