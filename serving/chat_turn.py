"""One chat turn as one typed value, filled step by step and passed through them
(serving/pipeline.py): the request and its clock, what the session remembers, how this message
reads against it, the child's card and wallet, the search area and time, the spend limit, and
what was found. Each step reads what earlier steps set and adds its own part."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from serving import dialogue
from serving.nothing_fits import WhyNothing
from serving.opening import SearchTime
from serving.ports import Account, NluFrame
from serving.pricing import Priced
from serving.schemas import ChatRequest
from serving.search_area import REGION, SearchArea


class Stopwatch:
    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.started_ns = time.time_ns()
        self.stages: dict[str, float] = {}
        #: (stage, start, end) in wall-clock ns, one per entry: the trace's stage spans
        self.marks: list[tuple[str, int, int]] = []

    @contextmanager
    def stage(self, name: str):
        t = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - t
            self.stages[name] = self.stages.get(name, 0.0) + elapsed * 1000
            end_ns = self.started_ns + int((time.perf_counter() - self.started) * 1e9)
            self.marks.append((name, end_ns - int(elapsed * 1e9), end_ns))

    def total(self) -> float:
        return (time.perf_counter() - self.started) * 1000


@dataclass
class ChatTurn:
    req: ChatRequest
    now: datetime
    local: datetime
    event_id: str
    sw: Stopwatch = field(default_factory=Stopwatch)
    caches: dict[str, str] = field(default_factory=dict)
    # context and understanding
    state: dialogue.DialogueState | None = None
    nlu: NluFrame | None = None
    vector: Any = None
    reading: dialogue.Turn | None = None  # the request this message makes, after the session
    strategy: str = ""
    party: int | None = None
    # the child
    account: Account = field(default_factory=lambda: Account(user_key=None))
    emergency: bool = False
    coupons: list[Any] = field(default_factory=list)
    limit: int | None = None
    # where and when
    area: SearchArea = REGION
    when: SearchTime | None = None
    # what was found
    recommended: list[Priced] = field(default_factory=list)
    alternatives: list[tuple[str, Priced]] = field(default_factory=list)
    why_nothing: WhyNothing | None = None
    snack_fallback: bool = False  # a hungry child gets a snack because no meal fits the money
    variant: str = ""
    scorer_name: str = ""
    method: str = "wide_deep"

    @property
    def minute(self) -> int:
        return self.local.hour * 60 + self.local.minute

    @property
    def card(self):
        return self.account.card

    @property
    def has_card(self) -> bool:
        return bool(self.account.card is not None and self.account.card.active)

    @property
    def user_turn(self) -> int:
        return (self.state.user_turns if self.state else 0) + 1

    @property
    def group(self) -> bool:
        r = self.reading
        return r is not None and dialogue.eating_together(r.intent, r.entities)
