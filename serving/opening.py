"""Opening hours as a child needs them: is it open at this minute, when does it open next, how to
say that time in Korean, and which minute a request without a time word means.

The time rule (serving/README.md, "When"):

* "지금", "당장", an urgent request: open at this minute, nothing else.
* A meal word (아침/점심/저녁/야식) outside that meal's hours: open when that meal starts; each
  shop not open now says when it opens.
* No time word: open now — except in the half hour before a meal starts (07:00, 11:00, 17:00),
  when a shop that opens within that half hour also counts, labelled "11시에 문 열어요". A child
  asking at 10:45 is asking for lunch, and a shop opening at 11:00 is the answer, not "closed".
"""

from __future__ import annotations

from dataclasses import dataclass

DAY_MIN = 24 * 60
#: a shop opening this soon counts when a meal is about to start (and no time word says "now")
OPENING_SOON_MIN = 30
#: local minute each meal starts and ends (late night runs past midnight)
MEAL_WINDOWS: dict[str, tuple[int, int]] = {
    "breakfast": (7 * 60, 9 * 60 + 30), "lunch": (11 * 60, 14 * 60), "dinner": (17 * 60, 20 * 60 + 30),
    "late_night": (21 * 60, 3 * 60),
}
MEAL_STARTS_SOON = ("breakfast", "lunch", "dinner")


def open_at(minute: int, open_min: int | None, close_min: int | None,
            break_start: int | None = None, break_end: int | None = None) -> bool | None:
    """Open at ``minute`` of the day; None when the hours are unknown."""
    if open_min is None or close_min is None:
        return None
    if break_start is not None and break_end is not None and break_start <= minute < break_end:
        return False
    if close_min > open_min:
        return open_min <= minute < close_min
    return minute >= open_min or minute < close_min  # overnight or 24 h


def next_opening(minute: int, open_min: int | None, close_min: int | None,
                 break_start: int | None = None, break_end: int | None = None) -> int | None:
    """Minutes from ``minute`` until the shop is next open (0 when open); None if hours unknown."""
    if open_min is None or close_min is None:
        return None
    best = None
    for start in (open_min, break_end):
        if start is None:
            continue
        wait = (start - minute) % DAY_MIN
        if open_at(start, open_min, close_min, break_start, break_end) and (best is None or wait < best):
            best = wait
    if open_at(minute, open_min, close_min, break_start, break_end):
        return 0
    return best


def hhmm(minute: int) -> str:
    minute %= DAY_MIN
    return f"{minute // 60:02d}:{minute % 60:02d}"


def korean_time(minute: int) -> str:
    """"11시", "11시 30분", "오후 5시", "밤 12시": how a child reads an opening time."""
    minute %= DAY_MIN
    h, m = divmod(minute, 60)
    if h == 0:
        head = "밤 12시"
    elif h == 12:
        head = "12시"
    elif h > 12:
        head = f"{'밤' if h >= 21 else '오후'} {h - 12}시"
    else:
        head = f"{'새벽' if h < 6 else ''} {h}시".strip()
    return head + (f" {m}분" if m else "")


def opens_text(minute: int) -> str:
    return f"{korean_time(minute)}에 문 열어요"


@dataclass(frozen=True)
class SearchTime:
    """Which minute the search asks shops to be open at, and why."""

    minute: int  # minute of the day the child's request is about
    offset_min: int  # from now to ``minute`` (the retrieval filter's time)
    rule: str  # now | meal_later | opening_soon

    @property
    def strict(self) -> bool:
        return self.rule == "now"


def _in_window(minute: int, window: tuple[int, int]) -> bool:
    start, end = window
    return start <= minute < end if end > start else (minute >= start or minute < end)


def search_time(minute: int, time_preference: str | None, *, urgent: bool) -> SearchTime:
    """The time rule above, as one decision per turn."""
    if urgent or time_preference == "now":
        return SearchTime(minute, 0, "now")
    window = MEAL_WINDOWS.get(time_preference or "")
    if window is not None:
        if _in_window(minute, window):
            return SearchTime(minute, 0, "now")
        offset = (window[0] - minute) % DAY_MIN
        return SearchTime(window[0], offset, "meal_later")
    for meal in MEAL_STARTS_SOON:
        start = MEAL_WINDOWS[meal][0]
        if 0 < start - minute <= OPENING_SOON_MIN:
            return SearchTime(minute + OPENING_SOON_MIN, OPENING_SOON_MIN, "opening_soon")
    return SearchTime(minute, 0, "now")
