"""The query tower's input: what the child said, as they said it.

The context (time of day, budget, the child's usual food) reaches the model as side features
(``tower.SIDE_FEATURES``: time fit, budget fit, category preference) rather than as words in the
sentence: written out, it more than doubled the tokens of a typical request (29 against ~12), and
the transformer pass costs in proportion; a bare request also repeats across children (배고파,
떡볶이 먹고 싶어), so the serving cache of query vectors hits far more often.
"""

from __future__ import annotations

TEXT_VERSION = "q2"  # bump when the sentence changes: a bundle trained on another format is refused
EMPTY_REQUEST = "추천해 줘"


def query_text(text: str | None) -> str:
    """The request's text, stripped; a turn without text (or whose text was not logged) asks for a recommendation."""
    return (text.strip() if isinstance(text, str) else "") or EMPTY_REQUEST  # a missing log row's text is NaN
