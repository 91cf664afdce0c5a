"""Critiques: relative wishes about the movies shown ("less violent", "more recent", "something lighter",
"too long", "not funny enough", "like X but funnier") and absolute ones on scales that are not
attributes ("something recent", "old movies", "a hidden gem").

Each dimension has words for its two poles: "violent" (+) / "tame" (-) for violence, "long" (+) /
"short" (-) for length... The direction of a critique combines the wording and the pole:
"more violent" -> violence more; "more cheerful" -> darkness less; "too long" -> length less;
"not as dark" -> darkness less; "not scary enough" -> scariness more; "shorter" -> length less.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from dialogue.understanding.phrases import PhraseTable
from dialogue.understanding.text import MessageView, normalize_phrase, word_set
from dialogue.understanding.types import CritiqueDirection

# dimension -> (words for "more of it", words for "less of it")
POLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "violence": (("violent", "gory", "bloody", "brutal", "graphic", "violence", "gore", "blood"),
                 ("tame", "mild", "gentle", "peaceful")),
    "humor": (("funny", "humorous", "comedic", "silly", "goofy", "humor", "humour", "comedy", "jokes"),
              ("serious",)),
    "scariness": (("scary", "creepy", "frightening", "terrifying", "spooky", "horror", "scares"), ()),
    "darkness": (("dark", "grim", "gritty", "bleak", "depressing", "heavy", "sad", "disturbing", "intense"),
                 ("light", "happy", "cheerful", "upbeat", "lighthearted", "uplifting", "hopeful", "fun")),
    "length": (("long", "lengthy"), ("short", "quick", "brief")),
    "recency": (("recent", "new", "modern", "current"), ("old", "classic", "vintage", "dated")),
    "popularity": (("popular", "mainstream", "famous", "known", "well known"),
                   ("obscure", "underrated", "niche", "unknown", "lesser known")),
}  # fmt: skip

COMPARATIVES: dict[str, tuple[str, int]] = {
    "funnier": ("humor", 1), "sillier": ("humor", 1), "goofier": ("humor", 1),
    "scarier": ("scariness", 1), "creepier": ("scariness", 1), "spookier": ("scariness", 1),
    "darker": ("darkness", 1), "grimmer": ("darkness", 1), "grittier": ("darkness", 1),
    "bleaker": ("darkness", 1), "heavier": ("darkness", 1), "sadder": ("darkness", 1),
    "lighter": ("darkness", -1), "happier": ("darkness", -1), "cheerier": ("darkness", -1),
    "longer": ("length", 1), "shorter": ("length", -1), "quicker": ("length", -1),
    "newer": ("recency", 1), "older": ("recency", -1),
    "gorier": ("violence", 1), "bloodier": ("violence", 1), "tamer": ("violence", -1),
    "milder": ("violence", -1), "gentler": ("violence", -1),
}  # fmt: skip

# Absolute wishes on non-attribute scales.
ABSOLUTE: dict[str, tuple[str, int]] = {
    **{p: ("recency", 1) for p in (
        "something recent", "anything recent", "recent movies", "recent movie", "recent films",
        "recent ones", "recent stuff", "new movies", "new movie", "new releases", "new release",
        "newer movies", "newer ones", "latest movies", "the latest", "recently released",
        "came out recently", "modern movies", "this year")},
    **{p: ("recency", -1) for p in (
        "old movies", "old movie", "old films", "oldies", "classics", "classic movies", "classic films",
        "older movies", "older films", "older ones", "older stuff", "old school", "something old",
        "black and white", "golden age")},
    **{p: ("length", -1) for p in (
        "something short", "short movie", "short movies", "quick watch", "under 2 hours", "under two hours",
        "under 90 minutes", "not too long")},
    **{p: ("popularity", 1) for p in (
        "popular movies", "something popular", "blockbuster", "blockbusters", "mainstream", "well known")},
    **{p: ("popularity", -1) for p in (
        "obscure", "underrated", "hidden gem", "hidden gems", "lesser known", "less known", "under the radar",
        "not mainstream", "not well known")},
}  # fmt: skip

DIMENSION_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "humor": ("genre:comedy",),
    "scariness": ("genre:horror",),
    "violence": ("tag:violent", "tag:violence", "tag:gore"),
    "darkness": ("tag:dark", "tag:disturbing"),
}
_INTENSIFIERS = word_set("so as too that very quite really overly")
_MOVIE_NOUNS = word_set("movies films ones stuff flicks")
_NEGATORS = word_set("not no nothing without dont avoid")


@dataclass(frozen=True, slots=True)
class CritiqueSpan:
    lo: int
    hi: int
    dimension: str
    direction: CritiqueDirection
    comparative: bool
    attribute: str | None


class CritiqueMatcher:
    """Finds critique wordings in a message (token spans), before attributes and moods are matched."""

    def __init__(self, vocabulary: Collection[str]) -> None:
        self._pole: dict[tuple[str, ...], tuple[str, int]] = {}
        for dim, (plus, minus) in POLES.items():
            for words, sign in ((plus, 1), (minus, -1)):
                for w in words:
                    self._pole[normalize_phrase(w)] = (dim, sign)
        self._absolute: PhraseTable[tuple[str, int]] = PhraseTable(ABSOLUTE.items())
        self._attribute = {
            dim: next((a for a in alts if a in vocabulary), None)
            for dim, alts in DIMENSION_ATTRIBUTES.items()
        }

    def words(self) -> set[str]:
        """The pole words and comparatives ("violent", "funnier", ...)."""
        return {w for key in self._pole for w in key} | set(COMPARATIVES)

    def find(self, view: MessageView, taken: Sequence[bool]) -> list[CritiqueSpan]:
        norms = view.norms
        n = len(norms)
        out: list[CritiqueSpan] = []
        used = list(taken)
        i = 0
        while i < n:
            hit = None if used[i] else self._comparative_at(norms, i)
            if hit is not None and not any(used[hit[0] : hit[1]]):
                lo, hi, dim, sign, comparative = hit
                out.append(self._span(lo, hi, dim, sign, comparative))
                for j in range(lo, hi):
                    used[j] = True
                i = hi
            else:
                i += 1
        for h in self._absolute.find(norms, used):
            dim, sign = h.payload
            lo = h.lo
            if lo > 0 and norms[lo - 1] in _NEGATORS and not used[lo - 1]:  # "nothing mainstream"
                lo, sign = lo - 1, -sign
            out.append(self._span(lo, h.hi, dim, sign, False))
        return sorted(out, key=lambda c: c.lo)

    def _span(self, lo: int, hi: int, dim: str, sign: int, comparative: bool) -> CritiqueSpan:
        return CritiqueSpan(
            lo, hi, dim, "more" if sign > 0 else "less", comparative, self._attribute.get(dim)
        )

    def _pole_at(self, norms: Sequence[str], i: int) -> tuple[int, str, int] | None:
        """(end, dimension, sign) of a pole word (one or two tokens) starting at i."""
        for length in (2, 1):
            if i + length <= len(norms):
                found = self._pole.get(tuple(norms[i : i + length]))
                if found:
                    return i + length, found[0], found[1]
        return None

    def _comparative_at(self, norms: Sequence[str], i: int) -> tuple[int, int, str, int, bool] | None:
        """A critique wording starting at token i: (lo, hi, dimension, signed direction, comparative)."""
        word = norms[i]
        prev = norms[i - 1] if i > 0 else ""
        nxt = norms[i + 1] if i + 1 < len(norms) else ""
        # "no longer" is not about length; "older movies" is a wish, not a comparison (see ABSOLUTE)
        if word in COMPARATIVES and prev not in {"no", "any"} and nxt not in _MOVIE_NOUNS:
            dim, sign = COMPARATIVES[word]
            return i, i + 1, dim, sign, True
        if word in {"more", "less", "fewer"}:
            j = i + 1
            while j < len(norms) and norms[j] in {"of", "a", "bit"}:
                j += 1
            pole = self._pole_at(norms, j) if j < len(norms) else None
            if pole:
                end, dim, sign = pole
                return i, end, dim, (sign if word == "more" else -sign), True
        if word == "too":
            j = i + 2 if i + 1 < len(norms) and norms[i + 1] == "much" else i + 1
            pole = self._pole_at(norms, j) if j < len(norms) else None
            if pole:
                end, dim, sign = pole
                limit = prev in {"not", "nothing", "anything", "isnt", "wasnt", "nt"}  # "nothing too long"
                return (i - 1 if limit else i), end, dim, -sign, not limit
        if (
            word in {"not", "nothing", "isnt", "wasnt"}
            and i + 2 < len(norms)
            and norms[i + 1] in _INTENSIFIERS
        ):
            pole = self._pole_at(norms, i + 2)
            if pole:
                end, dim, sign = pole
                return i, end, dim, -sign, False  # "nothing too long": a limit, not a comparison
        if word == "not" and i + 2 < len(norms):
            pole = self._pole_at(norms, i + 1)
            if pole and pole[0] < len(norms) and norms[pole[0]] == "enough":
                end, dim, sign = pole
                return i, end + 1, dim, sign, True
        return None
