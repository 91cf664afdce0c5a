"""How common an English word is, to tell "Heat" the movie from "heat" the word.

Uses the `wordfreq` package (Zipf scale: 7 = "the", 5 = "dark", 4 = "matrix", 3 = "gladiator", 0 =
unknown) when it is installed; otherwise a small built-in list gives function words 7.0, common chat
words 5.0 and everything else 0.0, so the title rules keep working with less precision.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from functools import lru_cache

from dialogue.understanding.text import STOP_WORDS, word_set

log = logging.getLogger(__name__)

# Used only when wordfreq is missing: everyday words that are also movie titles or title words.
_FALLBACK_COMMON = word_set(
    """love heat crash frozen signs seven taken split home big cars speed drive run rush fury gravity brave
    alien aliens rocky knight dark night day time life man woman men women girl girls boy boys good bad
    great best new old black white red blue green gold house world war star stars king queen city light
    lights family friends friend game games music sound story stories heart dream dreams fire water ice
    money power dead death blood kill killer help need want like watch see seen saw show funny scary sad
    happy movie movies film films thing things people place back down out inside alone step little last
    first next left right true lost found home away together forever never tonight today tomorrow
    sunshine moon sun earth space school summer winter spring fall christmas holiday party wedding date
    match paper glass mirror window door road street train plane ship boat car bus truck wall walls
    bridge river lake sea ocean island mountain forest storm rain snow wind cold hot warm free wild
    young strong long short fast slow hard easy real perfect beautiful wonderful amazing awesome"""
)


@lru_cache(maxsize=1)
def _frequency_dict() -> Mapping[str, float] | None:
    try:
        import wordfreq
    except ImportError:
        log.warning("wordfreq is not installed: title matching falls back to a small list of common words")
        return None
    return wordfreq.get_frequency_dict("en", wordlist="best")


def has_word_frequencies() -> bool:
    """True when real word frequencies (wordfreq) are available."""
    return _frequency_dict() is not None


@lru_cache(maxsize=200_000)
def zipf(word: str) -> float:
    """Zipf frequency of a normalised (lower-case) English word: log10 of occurrences per billion words."""
    freqs = _frequency_dict()
    if freqs is None:
        if word in STOP_WORDS:
            return 7.0
        return 5.0 if word in _FALLBACK_COMMON else 0.0
    f = freqs.get(word, 0.0)
    return round(math.log10(f) + 9.0, 2) if f > 0 else 0.0


def is_english_word(word: str, min_zipf: float = 2.5) -> bool:
    """Whether `word` is a known English word (used to decide whether a token may be a typo)."""
    return zipf(word) >= min_zipf


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def english_corrections(word: str, min_zipf: float = 2.5) -> set[str]:
    """English words one edit (insert, delete, substitute, transpose) away from `word`.

    Empty when word frequencies are unavailable. Used to avoid "correcting" a misspelt everyday word
    ("somethng") into a title word.
    """
    if _frequency_dict() is None:
        return set()
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    edits = {a + b[1:] for a, b in splits if b}
    edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    edits |= {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    edits |= {a + c + b for a, b in splits for c in _LETTERS}
    edits.discard(word)
    return {w for w in edits if zipf(w) >= min_zipf}
