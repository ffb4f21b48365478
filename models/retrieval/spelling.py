"""Typo tolerance by rule: jamo-level edit distance against the index's own vocabulary.

A query word the index does not know ("짜장멘", "삼결살", "탕수유") is compared, letter by letter
(초성/중성/종성 jamo), with the words the index does know (its menu names and their nouns); when
one is within a small edit distance — 1 jamo for words of up to 6 jamo, 2 beyond — and no other
is as close, the query is searched with that word instead. No list of misspellings is kept: any
misspelling of any indexed word is handled the same way, and a new menu brings its own spelling.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable

import numpy as np

from models.retrieval.text import hangul_parts

_HANGUL = re.compile(r"[가-힣]{2,}")
_PARTICLE_TAIL = re.compile(r"(을|를|이|가|은|는|도|만|랑|이랑|으로|로|에|에서|하고|이나|나|요|좀|쓰|ㄱ)$")


def jamo(word: str) -> str:
    """The word as a string of jamo (initial, medial and final letters; no final = nothing)."""
    out = []
    for ch in word:
        parts = hangul_parts(ch)
        if parts is not None:
            cho, jung, jong = parts
            out.append(chr(0x1100 + cho))
            out.append(chr(0x1161 + jung))
            if jong:
                out.append(chr(0x11A7 + jong))
        else:
            out.append(ch)
    return "".join(out)


# How a word sounds matters more than how it was keyed: a final consonant is written as the
# initial it sounds like (so a syllable boundary typed elsewhere costs nothing: 떡뽀끼 ~ 떡볶이),
# tense consonants fold to plain ones (ㄲ→ㄱ, ㅆ→ㅅ, ...), ㅔ/ㅐ and ㅖ/ㅒ merge, and the silent
# initial ㅇ is dropped (a final ㅇ, "ng", is kept as its own letter).
_INITIAL = "ㄱㄱㄴㄷㄷㄹㅁㅂㅂㅅㅅㅇㅈㅈㅊㅋㅌㅍㅎ"  # the 19 initials, tense ones folded
_MEDIAL = "ㅏㅐㅑㅒㅓㅐㅕㅒㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"  # the 21 medials, ㅔ→ㅐ and ㅖ→ㅒ
_FINAL = ("", "ㄱ", "ㄱ", "ㄱㅅ", "ㄴ", "ㄴㅈ", "ㄴㅎ", "ㄷ", "ㄹ", "ㄹㄱ", "ㄹㅁ", "ㄹㅂ", "ㄹㅅ", "ㄹㅌ", "ㄹㅍ",
          "ㄹㅎ", "ㅁ", "ㅂ", "ㅂㅅ", "ㅅ", "ㅅ", "ŋ", "ㅈ", "ㅊ", "ㅋ", "ㅌ", "ㅍ", "ㅎ")


def sound(word: str) -> str:
    """The letters the speller compares (see above): 떡볶이 and 떡뽀끼 give the same string."""
    out = []
    for ch in word:
        parts = hangul_parts(ch)
        if parts is not None:
            cho, jung, jong = parts
            if cho != 11:  # ㅇ
                out.append(_INITIAL[cho])
            out.append(_MEDIAL[jung])
            out.append(_FINAL[jong])
        else:
            out.append(ch)
    return "".join(out)


def edit_distance(a: str, b: str, bound: int) -> int:
    """Levenshtein distance of ``a`` and ``b``, or ``bound + 1`` as soon as it must exceed ``bound``."""
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        best = i
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            best = min(best, cur[j])
        if best > bound:
            return bound + 1
        prev = cur
    return prev[-1]


def max_edits(jamo_len: int) -> int:
    return 1 if jamo_len <= 6 else 2


#: the most edits any word is allowed (``max_edits`` of a long word)
MAX_EDITS = 2
MAX_COMPOUNDS = 6  # compounds a head word brings into a sparse query (치킨 has more than that)


def deletions(letters: str, depth: int) -> set[str]:
    """``letters`` and every string made from it by deleting up to ``depth`` letters."""
    out, frontier = {letters}, {letters}
    for _ in range(depth):
        frontier = {f[:i] + f[i + 1:] for f in frontier for i in range(len(f))}
        out |= frontier
    return out


class Speller:
    """Corrections of unknown Hangul words towards ``vocabulary`` (word → how often it occurs)."""

    def __init__(self, vocabulary: Counter[str] | Iterable[str], *, dish_words: Iterable[str] | None = None,
                 is_word: Callable[[str], bool] | None = None):
        counts = vocabulary if isinstance(vocabulary, Counter) else Counter(vocabulary)
        self.counts = Counter({w: c for w, c in counts.items() if _HANGUL.fullmatch(w)})
        #: the words of menu names (the vocabulary may add everyday words): what names a dish
        self.dish_words = frozenset(self.counts if dish_words is None else dish_words)
        #: a word of the language the index has no use for (운동, 몸살) is not a misspelt menu word
        self.is_word = is_word or (lambda word: False)
        # Two strings within k edits share a string made from each by at most k deletions (a
        # substitution deletes the letter on both sides): only the words filed under one of the
        # query's own deletions are worth an edit distance (SymSpell's index). A scan of the whole
        # vocabulary cost ~3 ms per unknown word, and a query has several. The index keeps 64-bit
        # hashes of the deletions, sorted, beside word numbers (16 bytes per deletion, ~60 per word):
        # a hash collision only adds a candidate, which the edit distance then turns away.
        self._words = [(w, sound(w)) for w in self.counts]
        keys: list[int] = []
        numbers: list[int] = []
        for n, (_, j) in enumerate(self._words):
            for d in deletions(j, MAX_EDITS):
                keys.append(hash(d))
                numbers.append(n)
        hashes = np.asarray(keys, dtype=np.int64)
        order = np.argsort(hashes, kind="stable")
        self._keys = hashes[order]
        self._numbers = np.asarray(numbers, dtype=np.int32)[order]
        self._cache: dict[str, str | None] = {}
        self._by_head: dict[str, list[str]] | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.counts)

    def compounds(self, word: str) -> list[str]:
        """Vocabulary words that end with ``word``, most frequent first (만두 → 물만두, 군만두; 국수 →
        잔치국수, 쌀국수): a Korean compound puts its head last, so a request for the head wants
        them too, and the analyser reads many of them as one word."""
        if len(word) < 2:
            return []
        if self._by_head is None:
            with self._lock:
                if self._by_head is None:
                    by_head: dict[str, list[str]] = {}
                    for w, _ in self.counts.most_common():
                        if w not in self.dish_words:
                            continue
                        for k in range(2, len(w)):
                            by_head.setdefault(w[-k:], []).append(w)
                    self._by_head = by_head
        return self._by_head.get(word, [])[:MAX_COMPOUNDS]

    def known(self, word: str) -> bool:
        return word in self.counts

    def correct(self, word: str) -> str | None:
        """The vocabulary word ``word`` most likely meant, or None (known, too short or ambiguous)."""
        if word in self._cache:
            return self._cache[word]
        fixed = None
        if len(word) >= 2 and word not in self.counts and not self.is_word(word):
            j = sound(word)
            bound = max_edits(len(j))
            best, found = bound + 1, []
            for w, wj in self._candidates(j, bound):
                d = edit_distance(j, wj, min(bound, best))
                if d < best:
                    best, found = d, [w]
                elif d == best:
                    found.append(w)
            if best <= bound and found:
                found.sort(key=lambda w: (-self.counts[w], w))
                # a tie between equally common words is a guess: leave the query alone
                if len(found) == 1 or self.counts[found[0]] > self.counts[found[1]]:
                    fixed = found[0]
        with self._lock:
            if len(self._cache) > 50_000:
                self._cache.clear()
            self._cache[word] = fixed
        return fixed

    def _candidates(self, letters: str, bound: int) -> list[tuple[str, str]]:
        """The vocabulary words (with their letters) that may be within ``bound`` edits."""
        wanted = np.fromiter((hash(d) for d in deletions(letters, bound)), dtype=np.int64)
        lo = np.searchsorted(self._keys, wanted, "left")
        hi = np.searchsorted(self._keys, wanted, "right")
        numbers = {int(n) for a, b in zip(lo.tolist(), hi.tolist()) if b > a for n in self._numbers[a:b]}
        return [self._words[n] for n in sorted(numbers)]

    def rewrite(self, text: str) -> tuple[str, dict[str, str]]:
        """``text`` with each unknown Hangul word (or the word without a trailing particle) replaced
        by its correction; returns the new text and what was replaced."""
        fixes: dict[str, str] = {}

        def fix(m: re.Match) -> str:
            word = m.group(0)
            if word in self.counts:
                return word
            fixed = self.correct(word)
            if fixed is None:
                stem = _PARTICLE_TAIL.sub("", word)
                if stem != word and stem not in self.counts:
                    fixed_stem = self.correct(stem)
                    if fixed_stem is not None:
                        fixed = fixed_stem + word[len(stem):]
            if fixed is None:
                return word
            fixes[word] = fixed
            return fixed

        return _HANGUL.sub(fix, text), fixes


def vocabulary_of(names: Iterable[str]) -> Counter[str]:
    """Menu or shop names → the words a query may mean: each Hangul word of a name (spaces and
    sizes aside) and the name written without spaces ("삼겹살 (1인분)" → 삼겹살; "크림 파스타" →
    크림, 파스타, 크림파스타), counted over all names."""
    counts: Counter[str] = Counter()
    for name in names:
        bare = re.sub(r"\(.*?\)|\d+\S*", " ", str(name or ""))
        words = _HANGUL.findall(bare)
        counts.update(set(words) | ({"".join(words)} if len(words) > 1 else set()))
    return counts
