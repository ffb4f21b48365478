select
    id as menu_id,
    shop_id,
    menu_name,
    price as menu_price,
    coalesce(description, '') as menu_description,
    category as menu_category
from {{ source('naviyam', 'menus') }}
