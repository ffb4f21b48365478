"""The NLU label contract (shared/spec/nlu_labels.md) as one importable module.

Everything that speaks intents or slots (the NLU, the chat service, the warehouse, the tests)
imports the names from here, so a value can only be spelled one way.
"""

from __future__ import annotations

from enum import Enum

# The intents are product vocabulary (the warehouse and the service speak them too), hosted in
# infra.vocabulary and re-exported here so the NLU keeps one import for its whole label contract.
from infra.vocabulary import CATEGORIES
from infra.vocabulary import INTENT_ORDER as INTENT_ORDER
from infra.vocabulary import INTENT_VALUES as INTENT_VALUES
from infra.vocabulary import Intent as Intent


class Slot(str, Enum):
    FOOD_TYPE = "food_type"
    BUDGET = "budget"
    LOCATION_PREFERENCE = "location_preference"
    TIME_PREFERENCE = "time_preference"
    TASTE_PREFERENCE = "taste_preference"
    COMPANIONS = "companions"
    URGENCY = "urgency"
    DIETARY_RESTRICTIONS = "dietary_restrictions"
    PORTION_SIZE = "portion_size"


SLOT_VALUES: tuple[str, ...] = tuple(s.value for s in Slot)

#: the 13 shop categories a food_type normalizes to (same spelling as ``shops.category``)
FOOD_CATEGORIES: tuple[str, ...] = CATEGORIES

NEARBY = "nearby"  # location_preference when no place is named
TIME_VALUES: tuple[str, ...] = ("now", "breakfast", "lunch", "dinner", "late_night")
TASTE_VALUES: tuple[str, ...] = ("spicy", "mild", "salty", "sweet", "light")
COMPANION_VALUES: tuple[str, ...] = ("alone", "friends", "family", "group")
URGENCY_VALUES: tuple[str, ...] = ("high", "normal", "low")
DIETARY_VALUES: tuple[str, ...] = (
    "vegetarian", "vegan", "halal", "no_pork", "no_beef", "no_seafood", "no_spicy", "no_nuts",
    "no_dairy",
)
PORTION_VALUES: tuple[str, ...] = ("large", "normal", "small")

#: closed value sets per slot (budget is an integer, location a free place name or ``nearby``)
CLOSED_SLOT_VALUES: dict[str, tuple[str, ...]] = {
    Slot.FOOD_TYPE.value: FOOD_CATEGORIES,
    Slot.TIME_PREFERENCE.value: TIME_VALUES,
    Slot.TASTE_PREFERENCE.value: TASTE_VALUES,
    Slot.COMPANIONS.value: COMPANION_VALUES,
    Slot.URGENCY.value: URGENCY_VALUES,
    Slot.DIETARY_RESTRICTIONS.value: DIETARY_VALUES,
    Slot.PORTION_SIZE.value: PORTION_VALUES,
}

#: slots whose value ``normal`` means the same as "not stated"
DEFAULT_NORMAL_SLOTS: frozenset[str] = frozenset({Slot.URGENCY.value, Slot.PORTION_SIZE.value})

#: a party of this many people or more is a group (group_dining, companions=group)
GROUP_MIN_PEOPLE = 5


class Emotion(str, Enum):
    """Phase-1 emotion of an utterance (spec §3: EmotionType)."""

    URGENT = "urgent"
    HAPPY = "happy"
    SAD = "sad"
    FRUSTRATED = "frustrated"
    NEUTRAL = "neutral"


class Pattern(str, Enum):
    """Phase-1 detected patterns: cheap surface cues the rest of the pipeline can key on."""

    BUDGET_CONSTRAINT = "budget_constraint"
    URGENCY = "urgency"
    COUPON = "coupon"
    GROUP = "group"
    OPENING_HOURS = "opening_hours"
    LOCATION = "location"
    EXCLUSION = "exclusion"
    FOOD_MENTION = "food_mention"
    GREETING = "greeting"
    QUESTION = "question"


def validate_entities(entities: dict) -> list[str]:
    """Problems of an entity frame against the contract (empty list: valid)."""
    problems: list[str] = []
    for slot, value in entities.items():
        if slot not in SLOT_VALUES:
            problems.append(f"unknown slot {slot!r}")
            continue
        if slot == Slot.BUDGET.value:
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                problems.append(f"budget must be a positive integer, got {value!r}")
        elif slot == Slot.LOCATION_PREFERENCE.value:
            if not isinstance(value, str) or not value.strip():
                problems.append(f"location_preference must be a non-empty string, got {value!r}")
        elif slot == Slot.DIETARY_RESTRICTIONS.value:
            if not isinstance(value, list) or any(v not in DIETARY_VALUES for v in value):
                problems.append(f"dietary_restrictions must be a list of {DIETARY_VALUES}, got {value!r}")
        elif value not in CLOSED_SLOT_VALUES[slot]:
            problems.append(f"{slot}={value!r} is not one of {CLOSED_SLOT_VALUES[slot]}")
    return problems
