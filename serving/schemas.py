"""Request and response models of the chat API (they are the OpenAPI document).

Validation is strict where a wrong type hides a bug (a number where an id string belongs is a 400,
not a silent conversion) and friendly where children type: text is trimmed, and a first-time
``user_id`` simply starts onboarding.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, StrictStr, field_validator, model_validator

MAX_TEXT_CHARS = 500
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,99}$"
SESSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$"
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
MAX_DB_INT = 2**31 - 1  # ids are PostgreSQL integer columns

UserId = Annotated[StrictStr, Field(pattern=ID_PATTERN, description="Platform user id (1–100 of A-Z a-z 0-9 _ . : @ -).")]
AS_OF_DOC = ("Simulated time to answer at (ISO 8601 with offset); only when the service runs with "
             "NAVIYAM_SIMULATION_CLOCK=true, else 403. See serving/clock.py.")

SessionId = Annotated[StrictStr, Field(pattern=SESSION_PATTERN, description="Conversation session id.")]


class Location(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: float = Field(ge=33.0, le=38.7, description="Latitude (South Korea).")
    lon: float = Field(ge=124.5, le=131.0, description="Longitude (South Korea).")


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: UserId
    session_id: SessionId
    text: StrictStr = Field(description=f"What the child typed (1–{MAX_TEXT_CHARS} characters).")
    location: Location | None = Field(default=None, description="Where the child is now, if the app knows.")
    max_results: StrictInt = Field(default=3, ge=1, le=10, description="How many recommendations at most.")
    as_of: AwareDatetime | None = Field(default=None, description=AS_OF_DOC)

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("text must not be empty")
        if len(value) > MAX_TEXT_CHARS:
            raise ValueError(f"text must be at most {MAX_TEXT_CHARS} characters")
        if any(ord(c) < 32 and c not in "\t\n\r" or 0xD800 <= ord(c) <= 0xDFFF for c in value):
            raise ValueError("text must not contain NUL, control characters or lone surrogates")  # PostgreSQL refuses them
        return value


class AppliedCouponOut(BaseModel):
    coupon_id: str
    name: str
    discount: int


class Recommendation(BaseModel):
    rank: int
    shop_id: int
    shop_name: str
    menu_id: int | None
    menu_name: str
    category: str
    price: int = Field(description="Menu price (won).")
    coupon: AppliedCouponOut | None = Field(description="The one coupon applied (coupons never stack).")
    final_price: int = Field(description="Price after the coupon (won).")
    affordable: bool = Field(description="Payable within the budget and the card balance after the coupon.")
    meal_card_usable: bool
    open_now: bool
    opens_at: str | None = Field(default=None, description="HH:MM it opens, when it is closed now (see serving/README.md, When).")
    meal_kind: str = Field(default="unknown", description="meal / snack / side / drink (dbt marts/core/menus.sql).")
    distance_m: float | None = Field(description="Metres from the search area's centre; null only when no area is known.")
    kind: str | None = Field(default=None, description="Alternatives only: opens_soonest / cheapest / a_bit_farther / "
                                                       "without_restriction / no_meal_card / other_food.")
    reason: str
    reason_breakdown: dict[str, float]
    score: float
    feature_contributions: dict[str, float] = Field(default_factory=dict)


class MealCardOut(BaseModel):
    has_card: bool
    balance: int | None = None
    spend_limit: int | None = Field(default=None, description="Most one meal may cost after coupons.")
    emergency_coupon_issued: bool = False
    balance_checked: bool = Field(default=True, description="False when the card could not be read (database down).")


class SearchAreaOut(BaseModel):
    source: Literal["request", "place", "home", "orders", "region"] = Field(
        description="Where the search was centred: the request's location, a place the child named, the child's home "
                    "(address), the centre of recent orders, or nowhere in particular.")
    lat: float | None = None
    lon: float | None = None
    radius_m: float | None = None
    label: str = ""


class WhyNothingOut(BaseModel):
    reason: Literal["closed_now", "over_budget", "too_far", "dietary", "card", "no_such_food", "several"]
    binding: list[str] = Field(description="Every constraint whose relaxation alone finds something.")
    text: str = Field(description="The reason as the answer says it.")


class ChatResponse(BaseModel):
    event_id: str = Field(description="Id of this turn's recommendations (send it back with /feedback).")
    user_id: str
    session_id: str
    turn: int
    user_turn: int
    answer: str
    intent: str = Field(description="The effective intent: the request this turn serves after the conversation "
                                    "(a refinement keeps the previous request's intent).")
    utterance_intent: str = Field(description="What the NLU read in this utterance alone.")
    confidence: float
    entities: dict = Field(description="The effective request after the conversation context.")
    nlu_entities: dict = Field(description="What the NLU read in this utterance alone.")
    strategy: Literal["onboarding", "data_building", "normal", "urgent"]
    model_variant: str
    ranking_model: str
    recommendations: list[Recommendation]
    alternatives: list[Recommendation] = Field(default_factory=list, description="Shown when nothing fits, each with its kind.")
    why_nothing: WhyNothingOut | None = Field(default=None, description="When nothing fits: the constraint that binds.")
    search_area: SearchAreaOut
    search_time: dict = Field(description="{rule: now | meal_later | opening_soon, at: HH:MM the shops must be open}.")
    meal_card: MealCardOut
    refinement: bool = False
    back_reference: bool = False
    timings_ms: dict[str, float]
    cache: dict[str, str]


FeedbackAction = Literal["detail_view", "selection", "coupon_use", "order", "satisfaction"]


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: UserId
    session_id: SessionId
    recommendation_id: StrictStr = Field(pattern=UUID_PATTERN, description="event_id of the /chat answer.")
    action: FeedbackAction
    shop_id: StrictInt = Field(ge=1, le=MAX_DB_INT)
    menu_id: StrictInt | None = Field(default=None, ge=1, le=MAX_DB_INT)
    coupon_id: StrictStr | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,50}$")
    order_amount: StrictInt | None = Field(default=None, ge=0, le=10_000_000)
    satisfaction: StrictInt | None = Field(default=None, ge=1, le=5)
    idempotency_key: StrictStr | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_.:-]{8,100}$",
        description="coupon_use: a key the client picks per intended use; a retry with it gets the first answer.")
    as_of: AwareDatetime | None = Field(default=None, description=AS_OF_DOC)

    @model_validator(mode="after")
    def _needs(self) -> "FeedbackRequest":
        if self.action == "satisfaction" and self.satisfaction is None:
            raise ValueError("action 'satisfaction' needs satisfaction (1-5)")
        if self.action == "coupon_use" and not self.coupon_id:
            raise ValueError("action 'coupon_use' needs coupon_id")
        return self


class FeedbackResponse(BaseModel):
    ok: bool
    status: Literal["recorded", "coupon_used", "coupon_unavailable", "in_progress", "recommendation_not_found",
                    "shop_not_recommended"]
    #: the recorded interaction; None when the reaction was refused (nothing recorded)
    event_id: str | None = None


class StatusResponse(BaseModel):
    ready: bool
    #: the worker process that answered: with several workers each keeps its own event-log counters
    worker_pid: int
    components: dict[str, str]
    event_log: dict
