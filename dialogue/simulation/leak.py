"""The leak guard: a simulated user must never name the movies it is looking for.

A text leaks when, after normalisation (lower case, punctuation dropped, whitespace collapsed), it
contains a target's title (with or without a leading article) as whole words, a fuzzy match of a longer
title (rapidfuzz `partial_ratio` >= 90 over titles of 8+ characters and 2+ words), or a target's ReDial
`@id` mention.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from rapidfuzz import fuzz

_ARTICLES = ("the ", "a ", "an ")
_PUNCT = re.compile(r"[^\w\s]+")
_SPACES = re.compile(r"\s+")
_MENTION = re.compile(r"@(\d+)")
FUZZY_THRESHOLD = 90.0


def normalise(text: str) -> str:
    """Lower case, accents and punctuation dropped, whitespace collapsed."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return _SPACES.sub(" ", _PUNCT.sub(" ", text)).strip()


def _tidy(text: str) -> str:
    """Whitespace, punctuation and conjunctions left dangling by removals cleaned up."""
    out = _SPACES.sub(" ", text).strip()
    out = re.sub(r"\b(and|or)(?:\s+(?:and|or)\b)+", r"\1", out, flags=re.IGNORECASE)
    out = re.sub(r"\s+(?:and|or|like)\s*(?=[,.!?]|$)", "", out, flags=re.IGNORECASE)
    out = re.sub(r"\s+([,.!?])", r"\1", out)
    return re.sub(r"([,.!?]),", r"\1", out).strip()


class LeakGuard:
    """Checks and scrubs texts against a set of target titles and ReDial ids."""

    def __init__(self, titles: Iterable[str], redial_ids: Iterable[int] = ()) -> None:
        variants: set[str] = set()
        self.fuzzy: list[str] = []
        for title in titles:
            norm = normalise(title)
            if not norm:
                continue
            variants.add(norm)
            for article in _ARTICLES:
                if norm.startswith(article) and len(norm) > len(article):
                    variants.add(norm[len(article) :])
            if len(norm) >= 8 and " " in norm:
                self.fuzzy.append(norm)
        self.variants = sorted(variants, key=len, reverse=True)
        self.redial_ids = {int(i) for i in redial_ids}
        self._patterns = [re.compile(rf"(?<!\w){re.escape(v)}(?!\w)") for v in self.variants]

    def leaks(self, text: str) -> str | None:
        """The leaked title variant or `@id` found in `text`, or None when it is clean."""
        for m in _MENTION.finditer(text):
            if int(m.group(1)) in self.redial_ids:
                return m.group(0)
        norm = normalise(text)
        for variant, pattern in zip(self.variants, self._patterns, strict=True):
            if pattern.search(norm):
                return variant
        for title in self.fuzzy:
            if len(norm) >= len(title) // 2 and fuzz.partial_ratio(title, norm) >= FUZZY_THRESHOLD:
                return title
        return None

    def scrub(self, text: str, fallback: str = "") -> str:
        """`text` with target mentions and titles removed; sentences still leaking (fuzzy) are dropped."""
        text = _MENTION.sub(lambda m: "" if int(m.group(1)) in self.redial_ids else m.group(0), text)
        for variant in self.variants:
            # case-insensitive on the raw text, tolerant of punctuation between words
            words = [re.escape(w) for w in variant.split()]
            pattern = re.compile(r"(?<!\w)" + r"[\W_]+".join(words) + r"(?!\w)", re.IGNORECASE)
            text = pattern.sub("", text)
        sentences = re.split(r"(?<=[.!?])\s+", text)
        kept = [s for s in sentences if s.strip() and self.leaks(s) is None]
        out = _tidy(" ".join(kept))
        return out if re.search(r"\w", out) and self.leaks(out) is None else fallback
