"""The product's closed vocabularies, spelled once.

Ingest, the warehouse (dbt vars), the feature store, the models and the chat service all speak
these values; each is written here and imported everywhere else, so a value can only be spelled
one way. It sits in ``infra`` because every layer above uses it and it imports nothing.

What is NOT re-spelled from here, on purpose:

* The Alembic migration keeps frozen copies (a migration must not change when application code
  does) and dbt reads its own vars; ``tests/unit/test_vocabulary.py`` fails when either
  disagrees with this module.
* Slot value sets and the emotion/pattern enums stay in ``models.nlu.labels`` (only the NLU
  speaks them); it re-exports ``Intent`` and ``CATEGORIES`` from here.
"""

from __future__ import annotations

from enum import Enum

# --- shops ------------------------------------------------------------------------------------

#: The 13 shop categories (``shops.category``), in display order. Order matters to the ranker:
#: a position in ``category_share`` / ``customer_taste`` is an index into this tuple.
CATEGORIES: tuple[str, ...] = (
    "한식", "분식", "중식", "일식", "양식", "치킨", "피자", "패스트푸드",
    "카페·디저트", "베이커리", "아시안", "도시락·죽", "고기·구이",
)

#: ``shops.is_food_card_shop``: yes / no / partial / unknown.
FOOD_CARD_FLAGS: tuple[str, ...] = ("Y", "N", "P", "U")
FOOD_CARD_UNKNOWN = "U"

#: How much a flag says "this shop takes the meal card" (the ranker's ``takes_food_card``).
#: Any other value (NULL, a typo that slipped past ingest) weighs like unknown.
FOOD_CARD_WEIGHTS: dict[str, float] = {"Y": 1.0, "P": 0.6, "U": 0.3, "N": 0.0}


def food_card_weight(flag: str | None) -> float:
    """``takes_food_card`` of a shop whose ``is_food_card_shop`` is ``flag``."""
    return FOOD_CARD_WEIGHTS.get(flag or FOOD_CARD_UNKNOWN, FOOD_CARD_WEIGHTS[FOOD_CARD_UNKNOWN])


# --- menus ------------------------------------------------------------------------------------

MAIN_MENU, SET_MENU, SIDE_MENU, DRINK, DESSERT = "메인메뉴", "세트메뉴", "사이드메뉴", "음료", "디저트"

#: ``menus.category``: the role a menu plays on a shop's board.
MENU_ROLES: tuple[str, ...] = (MAIN_MENU, SET_MENU, SIDE_MENU, DRINK, DESSERT)

#: Roles that make a meal on their own: their prices make a shop's ``median_price`` and the
#: chat service recommends only them as "a meal" (drinks and sides are add-ons).
MAIN_MENU_ROLES: tuple[str, ...] = (MAIN_MENU, SET_MENU)

#: ``menus.meal_kind`` (dbt marts/core/menus.sql, written back): what a menu is to a hungry child.
#: The chat service offers meals first; the retrieval payload says "unknown" before the write-back.
MEAL, SNACK, SIDE, DRINK_KIND = "meal", "snack", "side", "drink"
MEAL_KINDS: tuple[str, ...] = (MEAL, SNACK, SIDE, DRINK_KIND)

# --- chat -------------------------------------------------------------------------------------


class Intent(str, Enum):
    """The nine intents (shared/spec/nlu_labels.md), declared in tie-break order: when several
    fit, the first one wins."""

    COUPON_INQUIRY = "coupon_inquiry"
    GROUP_DINING = "group_dining"
    BUDGET_INQUIRY = "budget_inquiry"
    EMERGENCY_FOOD = "emergency_food"
    TIME_INQUIRY = "time_inquiry"
    LOCATION_INQUIRY = "location_inquiry"
    MENU_OPTION = "menu_option"
    FOOD_REQUEST = "food_request"
    GENERAL_CHAT = "general_chat"

    @property
    def precedence(self) -> int:
        """0 for the intent that wins every tie, 8 for general_chat."""
        return INTENT_ORDER.index(self)


INTENT_ORDER: tuple[Intent, ...] = tuple(Intent)
INTENT_VALUES: tuple[str, ...] = tuple(i.value for i in Intent)

#: Meal slots of the day (the ranker's time slots; dbt var ``ranking_slots``), in order: a position
#: in ``slot_share`` is an index here.
MEAL_SLOTS: tuple[str, ...] = ("breakfast", "lunch", "dinner", "late_night")

#: The conversation strategy of a turn (``conversations.user_strategy``), see serving.strategy.
ONBOARDING, DATA_BUILDING, NORMAL, URGENT = "onboarding", "data_building", "normal", "urgent"
STRATEGIES: tuple[str, ...] = (ONBOARDING, DATA_BUILDING, NORMAL, URGENT)

# --- model registry ---------------------------------------------------------------------------

#: MLflow registered-model aliases. The champion serves; a challenger takes an A/B share.
CHAMPION, CHALLENGER = "champion", "challenger"
MODEL_ALIASES: tuple[str, ...] = (CHAMPION, CHALLENGER)
#: ``recommendations_log.model_variant`` of group B: the LoRA two-tower recommender (spec scenario 3)
LORA_VARIANT = "lora_model"
