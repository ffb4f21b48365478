"""How the rules and the classifier share the intent decision.

Rules are precise where a word decides (쿠폰 → coupon_inquiry, an amount → budget_inquiry) and
they carry the contract's tie-break; the classifier generalizes where no rule word appears
(paraphrases, slang, typos, spacing). So:

1. no rule cue fired → the classifier's top intent;
2. cues fired → the tie-break winner among them, unless the classifier is confident that a
   *higher*-precedence intent applies (a cue the rules do not know, e.g. "반 애들 다 같이"), or it
   is near-certain the rules' pick is wrong (a cue word used in another sense).

The raw score of the decision is mapped to a calibrated confidence by an isotonic regression
fitted on held-out data at training time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.nlu.labels import INTENT_ORDER, Intent
from models.nlu.rules import resolve

UP_THRESHOLD = 0.80      # classifier may lift the decision to a higher-precedence intent
# intents the contract defines by a surface cue (a coupon word, a party size, an amount, an
# opening-hours word, a place, an option word): without any such cue the classifier needs to be
# near-certain to pick one; otherwise its best cue-free intent is taken
CUE_INTENTS = frozenset({Intent.COUPON_INQUIRY, Intent.GROUP_DINING, Intent.BUDGET_INQUIRY, Intent.EMERGENCY_FOOD,
                         Intent.TIME_INQUIRY, Intent.LOCATION_INQUIRY, Intent.MENU_OPTION})
CUE_FREE_MIN = 0.995
# the classifier may overrule the rules' pick only when near-certain it is wrong: measured on
# sentences written apart from the grammar, looser settings overruled right budget cues (용돈,
# 비싸지 않은) that the grammar shows rarely
DOWN_THRESHOLD = 0.999
DOWN_RULE_MAX = 0.001


@dataclass(frozen=True)
class Decision:
    intent: Intent
    score: float          # raw score in [0, 1.5]; calibrate() turns it into a confidence
    source: str           # rules | classifier | agree | override


def decide(cues: set[Intent], probs: np.ndarray | None, *, urgent: bool = False, up: float = UP_THRESHOLD,
           down: float = DOWN_THRESHOLD, down_rule_max: float = DOWN_RULE_MAX) -> Decision:
    """``urgent``: the utterance states urgency (배고파, 배고픈데 ...) without a decisive emergency word;
    emergency_food then stays open to the classifier when no cue fired."""
    if probs is None:
        if not cues:
            return Decision(Intent.GENERAL_CHAT, 0.5, "rules")
        return Decision(resolve(cues), 1.0, "rules")
    top = INTENT_ORDER[int(np.argmax(probs))]
    p_top = float(probs[top.precedence])
    if not cues:
        needs_cue = CUE_INTENTS - ({Intent.EMERGENCY_FOOD} if urgent else set())
        if top in needs_cue and p_top < CUE_FREE_MIN:
            cue_free = [i for i in INTENT_ORDER if i not in needs_cue]
            top = max(cue_free, key=lambda i: probs[i.precedence])
            p_top = float(probs[top.precedence]) / max(1e-9, float(sum(probs[i.precedence] for i in cue_free)))
        return Decision(top, p_top, "classifier")
    pick = resolve(cues)
    p_pick = float(probs[pick.precedence])
    if top == pick:
        return Decision(pick, p_pick + 0.5, "agree")
    if top.precedence < pick.precedence and p_top >= up:
        return Decision(top, p_top, "override")
    if p_pick < down_rule_max and p_top >= down:
        return Decision(top, p_top, "override")
    return Decision(pick, p_pick + 0.5, "rules")


def calibrate(score: float, calibrator) -> float:
    """Calibrated confidence in [0, 1] (the raw score clipped when no calibrator was fitted)."""
    if calibrator is None:
        return float(min(1.0, max(0.0, score if score <= 1.0 else 0.5 + score / 3)))
    return float(calibrator.predict([score])[0])
