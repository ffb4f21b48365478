"""Conversation strategy (spec scenario 2) and the urgent-mode reweighting (spec scenario 1).

* ``onboarding``    turns 1–3 of a user: ask what the child likes, still recommend when asked;
* ``data_building`` turns 4–10: recommend, and keep learning preferences;
* ``normal``        turn 11 on: personalised recommendations;
* ``urgent``        urgency high or intent emergency_food, at any turn: nearest open meal-card
                    shops first, fewer words.
"""

from __future__ import annotations

from collections.abc import Mapping

from infra.vocabulary import Intent

ONBOARDING = "onboarding"
DATA_BUILDING = "data_building"
NORMAL = "normal"
URGENT = "urgent"
STRATEGIES = (ONBOARDING, DATA_BUILDING, NORMAL, URGENT)

ONBOARDING_LAST_TURN = 3
DATA_BUILDING_LAST_TURN = 10

#: spec §12 scenario 1: distance_penalty × 2, budget_compatibility × 1.5 in urgent mode
URGENT_WEIGHTS: dict[str, float] = {"distance_penalty": 2.0, "budget_compatibility": 1.5}


def phase_for_turn(user_turn: int) -> str:
    """The personalisation phase of a user's ``user_turn``-th message (1-based, across sessions)."""
    if user_turn <= ONBOARDING_LAST_TURN:
        return ONBOARDING
    if user_turn <= DATA_BUILDING_LAST_TURN:
        return DATA_BUILDING
    return NORMAL


def is_urgent(intent: str | None, entities: Mapping[str, object]) -> bool:
    return intent == Intent.EMERGENCY_FOOD or entities.get("urgency") == "high"


def choose_strategy(user_turn: int, intent: str | None, entities: Mapping[str, object]) -> str:
    if is_urgent(intent, entities):
        return URGENT
    return phase_for_turn(user_turn)


def reweight_features(features: Mapping[str, float], strategy: str) -> dict[str, float]:
    """The spec's literal rule: multiply the urgent-mode features (values may exceed 1)."""
    out = dict(features)
    if strategy == URGENT:
        for name, w in URGENT_WEIGHTS.items():
            if name in out and out[name] is not None:
                out[name] = float(out[name]) * w
    return out


def reweight_score(score: float, contributions: Mapping[str, float], strategy: str) -> tuple[float, dict[str, float]]:
    """Urgent mode on a scored candidate: each reweighted feature's contribution counts ``w`` times.

    For a linear (wide) part this equals scoring the reweighted features; for any model that
    reports per-feature contributions it is the same rule applied where the model explains itself.
    Returns (adjusted score, adjusted contributions)."""
    if strategy != URGENT:
        return score, dict(contributions)
    adjusted = dict(contributions)
    delta = 0.0
    for name, w in URGENT_WEIGHTS.items():
        c = contributions.get(name)
        if c is None:
            continue
        adjusted[name] = c * w
        delta += c * (w - 1.0)
    return score + delta, adjusted


def max_recommendations(strategy: str, requested: int) -> int:
    """Urgent answers are short: at most 3 options."""
    return min(requested, 3) if strategy == URGENT else requested


def wants_preference_question(strategy: str, known_preferences: int) -> bool:
    """Onboarding asks what the child likes until it knows something."""
    return strategy == ONBOARDING and known_preferences == 0
