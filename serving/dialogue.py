"""Multi-turn dialogue: the session state kept in ``conversation_contexts`` and how a new turn reads
against it.

* Refinement: "매운 거 빼고", "치킨 말고", "더 싼 거", "다른 데" after a recommendation narrow the
  previous request (same food, budget, place) instead of starting a new one.
* Back-reference: "아까 거", "두 번째 거", "그 가게" point at what was recommended before.
* Memory: what the child said about money, place, company and diet holds for later turns until
  the child says something else about it (``HELD_SLOTS``; a new food request keeps them); liked
  food types accumulate into the preferences that onboarding collects. serving/README.md
  ("Dialogue state") has the rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.vocabulary import Intent

FOOD_FINDING_INTENTS = frozenset({
    Intent.FOOD_REQUEST, Intent.BUDGET_INQUIRY, Intent.EMERGENCY_FOOD, Intent.LOCATION_INQUIRY, Intent.TIME_INQUIRY,
    Intent.GROUP_DINING, Intent.MENU_OPTION,
})
#: how many of the session's answers /feedback can be checked against from the context alone (older
#: ones are looked up in recommendations_log)
SHOWN_KEPT = 5
#: slots a child states once for the session: they hold until the child states them again
HELD_SLOTS = ("budget", "location_preference", "companions")

REFINE_RE = re.compile(
    r"빼고|빼\s?줘|말고|제외|없는\s?(?:거|걸|것|데|곳|메뉴)|없이|덜\s?맵|안\s?매운|맵지\s?않|"
    r"더\s?싼|더\s?싸|더\s?저렴|싼\s?(?:거|걸)로|다른\s?(?:거|걸|데|곳|가게|메뉴)|딴\s?(?:거|데|곳)|"
    r"더\s?가까운|가까운\s?(?:거|걸|데|곳)로"
)
CHEAPER_RE = re.compile(r"더\s?싼|더\s?싸|더\s?저렴|싼\s?(?:거|걸)로")
OTHER_RE = re.compile(r"다른\s?(?:거|걸|데|곳|가게|메뉴)|딴\s?(?:거|데|곳)")
CLOSER_RE = re.compile(r"더\s?가까운|가까운\s?(?:거|걸|데|곳)로")
BACKREF_RE = re.compile(
    r"아까\s?(?:거|그거|그|꺼|것|추천|말한|먹|가게|메뉴|데)|아까|방금\s?(?:거|그거|추천|말한|꺼)|"
    r"(?:첫|두|세)\s?번째|[123]\s?번(?!\s?[가-힣]{2,}\s?먹)|그\s?(?:가게|집|메뉴)|그거\s?(?:로|할래|먹을래|좋아|어디)"
)
_ORDINAL = {"첫": 0, "1": 0, "두": 1, "2": 1, "세": 2, "3": 2}
_ORDINAL_RE = re.compile(r"(첫|두|세)\s?번째|([123])\s?번")
_EXCLUDED_FOOD_TAIL = re.compile(r"^\s?(?:은|는|이|가|을|를|류|종류)?\s?(?:말고|빼고|제외|싫어|별로|안\s?먹)")

MAX_REMEMBERED = 20


def eating_together(intent: str | None, entities: Mapping[str, Any]) -> bool:
    """Whether a request is for a group meal: asked as one, or with a group held in the session."""
    return intent == Intent.GROUP_DINING or entities.get("companions") == "group"


def share_of_budget(budget: int | None, party: int | None, *, shared: bool) -> int | None:
    """What the child may spend on their own meal out of ``budget`` when eating with a group.

    A ``shared`` budget, said together with the group ("3명이서 3만원") or while the session
    already knew of the group, is the party's money: each pays a share (unknown without a party
    size). A budget said before any group came up ("5천원밖에 없어", then "친구들이랑 먹을 건데")
    was the child's own money and stays whole: splitting it made "500원으로…" answers."""
    if budget is None:
        return None
    if not shared:
        return budget
    return int(budget / party) if party else None


@dataclass
class DialogueState:
    """What a session remembers between turns (``conversation_contexts.context_data``)."""

    session_id: str
    user_id: str
    turn: int = 0  # session turns so far
    user_turns: int = 0  # this user's turns so far, all sessions
    last_intent: str | None = None
    frame: dict[str, Any] = field(default_factory=dict)  # entities of the last food-finding request
    last_query: str | None = None  # text the last search used
    last_recommendations: list[dict[str, Any]] = field(default_factory=list)
    excluded_categories: list[str] = field(default_factory=list)
    excluded_shops: list[int] = field(default_factory=list)
    mentioned_shops: list[int] = field(default_factory=list)
    mentioned_categories: list[str] = field(default_factory=list)
    budget_constraints: list[int] = field(default_factory=list)
    time_constraints: list[str] = field(default_factory=list)
    dietary_restrictions: list[str] = field(default_factory=list)
    companion_info: str | None = None
    liked_categories: list[str] = field(default_factory=list)
    strategy: str | None = None
    held: dict[str, Any] = field(default_factory=dict)  # HELD_SLOTS as last stated in the session
    #: the held budget was stated while eating with a group was the plan: the party's money
    budget_shared: bool = False
    party_size: int | None = None  # how many eat together, as last said ("4명이서")
    #: the session's last answers with recommendations: event id → the shops it showed (what
    #: /feedback checks a reaction against without a database round trip)
    shown: dict[str, list[int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A copy deep enough for the state's own shapes (lists, dicts, lists of dicts); much cheaper
        than ``dataclasses.asdict``, which deep-copies every leaf on every turn."""
        out: dict[str, Any] = {}
        for k, v in self.__dict__.items():
            if isinstance(v, list):
                out[k] = [dict(x) if isinstance(x, dict) else x for x in v]
            elif isinstance(v, dict):
                out[k] = {kk: (list(vv) if isinstance(vv, list) else vv) for kk, vv in v.items()}
            else:
                out[k] = v
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "DialogueState":
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def new(cls, session_id: str, user_id: str, user_turns: int = 0) -> "DialogueState":
        return cls(session_id=session_id, user_id=user_id, user_turns=user_turns)


@dataclass
class Turn:
    """How this turn reads against the session: the request to serve."""

    intent: str  # the effective intent (a refinement keeps the previous request's intent)
    entities: dict[str, Any]  # the effective frame (this message's slots + what the session holds)
    query_text: str  # what to search for
    refinement: bool = False
    back_reference: int | None = None  # index into last_recommendations
    cheaper: bool = False
    other: bool = False
    closer: bool = False
    excluded_categories: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.intent = getattr(self.intent, "value", self.intent)  # the label's text, as stored and logged


def _dedupe(items: list, new: list, limit: int = MAX_REMEMBERED) -> list:
    out = list(items)
    for x in new:
        if x is not None and x not in out:
            out.append(x)
    return out[-limit:]


def excluded_food_categories(text: str, food_matches=None) -> list[str]:
    """Categories the text excludes ("치킨 말고" → ["치킨"]); ``food_matches`` is the NLU lexicon's
    (start, end, category) finder."""
    if food_matches is None:
        return []
    out = []
    for start, end, category in food_matches(text):
        if _EXCLUDED_FOOD_TAIL.match(text[end:]) and category not in out:
            out.append(category)
    return out


def back_reference_index(text: str) -> int | None:
    if not BACKREF_RE.search(text):
        return None
    m = _ORDINAL_RE.search(text)
    if m:
        return _ORDINAL[m.group(1) or m.group(2)]
    return 0


def interpret(state: DialogueState, text: str, intent: str, entities: Mapping[str, Any],
              food_matches=None) -> Turn:
    """Read this turn against the session."""
    entities = {k: v for k, v in entities.items() if v is not None}
    has_previous = bool(state.last_recommendations) or bool(state.frame)

    ref = back_reference_index(text) if state.last_recommendations else None
    if ref is not None and not entities.get("food_type") and intent not in (Intent.COUPON_INQUIRY, Intent.GROUP_DINING):
        return Turn(intent=state.last_intent or intent, entities=dict(state.frame), query_text=state.last_query or text,
                    back_reference=min(ref, len(state.last_recommendations) - 1))

    excluded = excluded_food_categories(text, food_matches)
    refine_cue = bool(REFINE_RE.search(text)) or intent == Intent.MENU_OPTION
    new_request_cue = bool(entities.get("food_type")) and not excluded
    refinement = has_previous and refine_cue and not (new_request_cue and intent != Intent.MENU_OPTION)

    if refinement:
        frame = dict(state.frame)
        for slot, value in entities.items():
            if slot == "dietary_restrictions":
                frame[slot] = sorted(set(frame.get(slot) or []) | set(value or []))
            elif slot == "food_type" and value in excluded:
                continue
            else:
                frame[slot] = value
        if excluded and frame.get("food_type") in excluded:
            frame.pop("food_type")
        base_intent = (state.last_intent if state.last_intent in FOOD_FINDING_INTENTS - {Intent.MENU_OPTION}
                       else Intent.FOOD_REQUEST)
        return Turn(
            intent=base_intent, entities=frame, query_text=state.last_query or text, refinement=True,
            cheaper=bool(CHEAPER_RE.search(text)), other=bool(OTHER_RE.search(text)),
            closer=bool(CLOSER_RE.search(text)),
            excluded_categories=_dedupe(state.excluded_categories, excluded),
        )

    frame = dict(entities)
    for slot in HELD_SLOTS:  # money, place and company hold until the child says otherwise
        if slot not in frame and state.held.get(slot) is not None:
            frame[slot] = state.held[slot]
    if state.dietary_restrictions:  # allergies and "no spicy" hold for the session
        frame["dietary_restrictions"] = sorted(set(frame.get("dietary_restrictions") or []) | set(state.dietary_restrictions))
    if intent == Intent.GENERAL_CHAT and (entities.get("food_type") or entities.get("urgency") == "high"):
        intent = Intent.FOOD_REQUEST  # "떡볶이 좋아해", "배고파": a stated food or hunger is something to find
    return Turn(intent=intent, entities=frame, query_text=text, excluded_categories=excluded)


def remember(state: DialogueState, *, turn: Turn, intent: str, entities: Mapping[str, Any], strategy: str,
             recommendations: list[dict[str, Any]], event_id: str | None = None,
             party_size: int | None = None) -> DialogueState:
    """The state after this turn (a new object; the old one is untouched)."""
    s = DialogueState.from_dict(state.to_dict())
    s.turn += 1
    if party_size:
        s.party_size = party_size
    if recommendations and event_id:
        shown = {**s.shown, event_id: [int(r["shop_id"]) for r in recommendations]}
        s.shown = dict(list(shown.items())[-SHOWN_KEPT:])
    s.user_turns += 1
    s.strategy = strategy
    finding = turn.intent in FOOD_FINDING_INTENTS or turn.refinement
    if finding and turn.back_reference is None:
        s.frame = dict(turn.entities)
        s.last_query = turn.query_text
        s.last_intent = turn.intent
        s.excluded_categories = list(turn.excluded_categories)
    elif not finding:
        s.last_intent = intent
    if recommendations and turn.back_reference is None:
        s.last_recommendations = [
            {k: r.get(k) for k in ("shop_id", "menu_id", "shop_name", "menu_name", "price", "final_price",
                                   "coupon_id", "category", "distance_m")}
            for r in recommendations
        ]
        s.mentioned_shops = _dedupe(s.mentioned_shops, [r.get("shop_id") for r in recommendations])
    food = entities.get("food_type")
    if food and food not in turn.excluded_categories:
        s.mentioned_categories = _dedupe(s.mentioned_categories, [food])
        s.liked_categories = _dedupe(s.liked_categories, [food])
    if entities.get("budget"):
        s.budget_constraints = _dedupe(s.budget_constraints, [int(entities["budget"])])
        s.budget_shared = eating_together(turn.intent, turn.entities)
    if entities.get("time_preference"):
        s.time_constraints = _dedupe(s.time_constraints, [entities["time_preference"]])
    if turn.entities.get("dietary_restrictions"):
        s.dietary_restrictions = _dedupe(s.dietary_restrictions, list(turn.entities["dietary_restrictions"]))
    if entities.get("companions"):
        s.companion_info = entities["companions"]
    for slot in HELD_SLOTS:  # what this message stated replaces what the session held
        if entities.get(slot) is not None:
            s.held[slot] = entities[slot]
    return s


def context_data(state: DialogueState) -> dict[str, Any]:
    """The spec's ``context_data`` keys, plus what the next turn needs."""
    d = state.to_dict()
    d["conversation_turn"] = state.turn
    return d
