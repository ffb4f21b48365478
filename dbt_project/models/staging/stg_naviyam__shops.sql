select
    id as shop_id,
    shop_name,
    category as shop_category,
    address_name,
    is_good_influence_shop,
    is_food_card_shop,
    open_hour,
    close_hour,
    break_start_hour,
    break_end_hour,
    latitude::double precision as latitude,
    longitude::double precision as longitude
from {{ source('naviyam', 'shops') }}
