"""What a generated text may mention: the catalog's vocabulary (titles, people, genres) and, per text,
the grounding (allowed titles, people, genres, years, and the words of its facts)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from dialogue.llm.text import normalize
from recsys.catalog.normalize import canonical_genre
from recsys.catalog.types import CatalogItem

_GENRE_FORMS = {"comedic": "comedy", "romantic": "romance", "animated": "animation", "musicals": "musical"}


def genre_forms(genres: Iterable[str]) -> dict[str, str]:
    """Surface forms (normalised) of a genre vocabulary -> canonical genre: plurals, "science fiction"..."""
    forms: dict[str, str] = {}
    for genre in genres:
        base = normalize(genre)
        variants = {base, base + "s", base[:-1] + "ies" if base.endswith("y") else base}
        for variant in variants:
            forms.setdefault(variant, genre)
    for surface in ("science fiction", "sci fi", "scifi", "film noir", "noir", "animated", "biopic"):
        target = canonical_genre(surface)
        if target in genres:
            forms.setdefault(normalize(surface), target)
    for surface, target in _GENRE_FORMS.items():
        if target in genres:
            forms.setdefault(surface, target)
    return forms


@dataclass(frozen=True)
class GuardVocabulary:
    """What the catalog can name: titles (normalised -> item ids), people, genre surface forms."""

    titles: dict[str, frozenset[int]]
    people: frozenset[str]
    genres: dict[str, str]  # normalised surface form -> canonical genre
    max_title_words: int = 1

    @classmethod
    def from_items(cls, items: Iterable[CatalogItem]) -> GuardVocabulary:
        titles: dict[str, set[int]] = {}
        people: set[str] = set()
        genres: set[str] = set()
        for item in items:
            for alias in title_aliases(item.title):
                titles.setdefault(alias, set()).add(item.item_id)
            people.update(normalize(p) for p in (*item.directors, *item.writers, *item.stars))
            genres.update(item.genres)
        people.discard("")
        longest = max((len(t.split()) for t in titles), default=1)
        return cls(
            {t: frozenset(ids) for t, ids in titles.items()},
            frozenset(people),
            genre_forms(genres),
            min(longest, 14),
        )


def title_aliases(title: str) -> set[str]:
    """Normalised forms a title is written in: as is, and without its leading article."""
    norm = normalize(title)
    aliases = {norm} if norm else set()
    first, _, rest = norm.partition(" ")
    if first in ("the", "a", "an") and rest:
        aliases.add(rest)
    return aliases


@dataclass(frozen=True)
class Grounding:
    """What one text may mention: allowed titles and people (normalised), genres, years, and the facts'
    own words (a capitalised word or a genre word found there is grounded)."""

    titles: frozenset[str] = frozenset()
    people: frozenset[str] = frozenset()
    genres: frozenset[str] = frozenset()
    years: frozenset[int] = frozenset()
    words: frozenset[str] = frozenset()
    subject: str = "the movie"  # named in problem messages
    # normalised title -> the punctuation it ends with ("airplane" -> "!"), not a sentence end
    title_endings: Mapping[str, str] = field(default_factory=dict)
    # the text's subject (normalised aliases): a text that names other titles must name it too
    subject_titles: frozenset[str] = frozenset()
    # texts the output must not copy (system prompt, task, field labels): 5-word overlaps are artefacts
    echo: tuple[str, ...] = ()

    @classmethod
    def build(
        cls,
        *,
        items: Sequence[CatalogItem] = (),
        people: Iterable[str] = (),
        genres: Iterable[str] = (),
        titles: Iterable[str] = (),
        texts: Iterable[str] = (),
        subject: str = "the movie",
        subject_item: CatalogItem | None = None,
        echo: Sequence[str] = (),
    ) -> Grounding:
        """Allowed: the titles and years of `items` plus `titles`; `people`; `genres`; words of `texts`.
        `subject_item` is what the text is about; `echo` the instruction texts it must not copy."""
        all_titles = {a for it in items for a in title_aliases(it.title)}
        all_titles.update(a for t in titles for a in title_aliases(t))
        allowed_people = {normalize(p) for p in people} - {""}
        allowed_genres = set(genres)
        words = {
            w for t in (*texts, *all_titles, *allowed_people, *allowed_genres) for w in normalize(t).split()
        }
        years = frozenset(it.year for it in items if it.year)
        endings = {}
        for raw in (*(it.title for it in items), *titles):
            tail = re.search(r"[^\w\s]*$", raw.rstrip())
            if tail and tail.group(0):
                endings.update(dict.fromkeys(title_aliases(raw), tail.group(0)))
        return cls(
            frozenset(all_titles),
            frozenset(allowed_people),
            frozenset(allowed_genres),
            years,
            frozenset(words),
            subject,
            endings,
            frozenset(title_aliases(subject_item.title)) if subject_item else frozenset(),
            tuple(echo),
        )
