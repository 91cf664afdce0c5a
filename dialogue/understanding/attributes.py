"""Attribute mentions: genres (with synonyms), people, decades / years, and catalog tags.

Built once from a Catalog. Every matcher returns AttributeSpans over the message tokens; polarity is
decided later (polarity.py). Tags are matched conservatively: only tags several movies carry, never a
single everyday word ("funny", "dark": the mood rules handle those) and never an opinion ("boring").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from dialogue.understanding.genres import genre_phrases, resolve_slots
from dialogue.understanding.lexicon import zipf
from dialogue.understanding.people import PeopleIndex
from dialogue.understanding.phrases import AttributeSpan, PhraseTable
from dialogue.understanding.text import STOP_WORDS, MessageView, normalize_phrase, word_set
from recsys.catalog.types import Catalog

COMMON_TAG_ZIPF = 4.5  # a one-word tag at least this common is not matched ("funny", "dark", "space")
_OPINION_TAGS = word_set(
    """good great bad boring overrated underrated seen dvd netflix classic funny must see want to see
    watched favorite favourites masterpiece predictable cliche stupid excellent amazing awesome
    beautiful"""
)
_DECADE_WORDS = {
    "twenties": 1920, "thirties": 1930, "forties": 1940, "fifties": 1950, "sixties": 1960,
    "seventies": 1970, "eighties": 1980, "nineties": 1990, "noughties": 2000, "aughts": 2000,
}  # fmt: skip
_DECADE_RE = re.compile(r"^(?:(?P<century>19|20)?(?P<tens>\d)0s)$")
_YEAR_RE = re.compile(r"^(?:19\d\d|20[0-4]\d)$")
_YEAR_CUES = word_set("from in since around circa of after before year released made")
_MOVIE_WORDS = word_set("movie movies film films flick flicks")


def person_attribute_name(kind: str, name: str) -> str:
    """A person credit's attribute name: ("director", "Christopher Nolan") -> "director:christopher nolan"."""
    return f"{kind}:{' '.join(name.lower().split())}"


def catalog_vocabulary(catalog: Catalog, *, people: bool = True) -> frozenset[str]:
    """Every attribute name the catalog's items carry (genres, tags, decades and, if asked, people)."""
    vocab: set[str] = set()
    for it in catalog:
        vocab.update(f"genre:{g}" for g in it.genres)
        vocab.update(f"tag:{t}" for t in it.tags)
        if it.year:
            vocab.add(decade_attribute(it.year))
        if people:
            vocab.update(person_attribute_name("director", p) for p in it.directors)
            vocab.update(person_attribute_name("writer", p) for p in it.writers)
            vocab.update(person_attribute_name("star", p) for p in it.stars)
    return frozenset(vocab)


def decade_attribute(year: int) -> str:
    return f"decade:{year // 10 * 10}s"


class AttributeIndex:
    """Genre, tag, decade and people matchers over one catalog."""

    def __init__(self, catalog: Catalog, *, min_tag_support: int = 2) -> None:
        self.people = PeopleIndex(catalog)
        self.vocabulary = catalog_vocabulary(catalog, people=False) | self.people.attribute_names()
        genres = {g for it in catalog for g in it.genres}
        self._genres: PhraseTable[tuple[tuple[str, bool], ...]] = PhraseTable(
            (phrase, resolve_slots(slots, self.vocabulary)) for phrase, slots in genre_phrases(genres).items()
        )
        support = Counter(t for it in catalog for t in set(it.tags))
        self._tags: PhraseTable[str] = PhraseTable()
        for tag, count in sorted(support.items()):
            key = normalize_phrase(tag)
            if count < min_tag_support or not _taggable(tag, key) or key in self._genres:
                continue
            self._tags.add(key, tag, overwrite=False)
            # "zombie" for "zombies" and the reverse.
            variant = (*key[:-1], key[-1][:-1]) if key[-1].endswith("s") else (*key[:-1], key[-1] + "s")
            if len(variant[-1]) > 3:
                self._tags.add(variant, tag, overwrite=False)

    def genre_words(self) -> set[str]:
        """Every word of every genre phrase ("thriller", "comedies", "sci", "fi", ...)."""
        return {w for phrase in self._genres.phrases() for w in phrase}

    def find_genres(self, view: MessageView, taken: Sequence[bool]) -> list[AttributeSpan]:
        return [
            AttributeSpan(h.lo, h.hi, h.payload) for h in self._genres.find(view.norms, taken) if h.payload
        ]

    def find_tags(self, view: MessageView, taken: Sequence[bool]) -> list[AttributeSpan]:
        return [
            AttributeSpan(h.lo, h.hi, ((f"tag:{h.payload}", True),), 0.8)
            for h in self._tags.find(view.norms, taken)
        ]

    def find_people(
        self, view: MessageView, taken: Sequence[bool], *, relaxed: bool = False
    ) -> list[AttributeSpan]:
        return self.people.find(view, taken, relaxed=relaxed)

    def find_decades(
        self, view: MessageView, taken: Sequence[bool], *, relaxed: bool = False
    ) -> list[AttributeSpan]:
        """ "80s", "'80s", "1980s", "the eighties", and years with a cue ("from 1999", "2005 movies")."""
        norms = view.norms
        spans: list[AttributeSpan] = []
        for i, word in enumerate(norms):
            if taken[i]:
                continue
            decade: int | None = _DECADE_WORDS.get(word)
            if decade is None:
                m = _DECADE_RE.match(word)
                if m:
                    tens = int(m.group("tens"))
                    century = m.group("century") or ("20" if tens <= 2 else "19")
                    decade = int(century) * 100 + tens * 10
            score = 1.0
            if decade is None and _YEAR_RE.match(word):
                before = norms[i - 1] if i > 0 else ""
                after = norms[i + 1] if i + 1 < len(norms) else ""
                if before in _YEAR_CUES or after in _MOVIE_WORDS or (relaxed and len(norms) <= 3):
                    decade, score = int(word) // 10 * 10, 0.9
            if decade is not None:
                attr = f"decade:{decade}s"
                spans.append(AttributeSpan(i, i + 1, ((attr, attr in self.vocabulary),), score))
        return spans


def _taggable(tag: str, key: tuple[str, ...]) -> bool:
    if not key or tag in _OPINION_TAGS or all(w in STOP_WORDS for w in key):
        return False
    if len(key) == 1:
        word = key[0]
        return len(word) >= 4 and word.isalpha() and zipf(word) < COMMON_TAG_ZIPF
    return True
