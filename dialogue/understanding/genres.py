"""Genre wordings users type, mapped to catalog attributes.

A phrase maps to one or more *slots*; a slot lists alternative attributes, and the first one the catalog
has is used ("kids movies" -> genre:children, or genre:family in a catalog without "children"). When no
alternative exists the first is kept and reported as unknown, so nothing the user said is lost.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from dialogue.understanding.text import word_set

Slot = tuple[str, ...]

# phrase -> slots. Plurals and "X movies" forms are added by `genre_phrases`.
GENRE_SYNONYMS: dict[str, tuple[Slot, ...]] = {
    "action": (("genre:action",),),
    "adventure": (("genre:adventure",),),
    "adventures": (("genre:adventure",),),
    "animation": (("genre:animation",),),
    "animated": (("genre:animation",),),
    "cartoon": (("genre:animation",),),
    "cartoons": (("genre:animation",),),
    "anime": (("genre:animation",),),
    "kids": (("genre:children", "genre:family"),),
    "kid": (("genre:children", "genre:family"),),
    "kids movies": (("genre:children", "genre:family"),),
    "childrens": (("genre:children", "genre:family"),),
    "children": (("genre:children", "genre:family"),),
    "for kids": (("genre:children", "genre:family"),),
    "kid friendly": (("genre:children", "genre:family"),),
    "family": (("genre:family", "genre:children"),),
    "family friendly": (("genre:family", "genre:children"),),
    "comedy": (("genre:comedy",),),
    "comedies": (("genre:comedy",),),
    "crime": (("genre:crime",),),
    "dark comedy": (("tag:dark comedy", "genre:comedy"), ("genre:comedy",)),
    "dark comedies": (("tag:dark comedy", "genre:comedy"), ("genre:comedy",)),
    "dark humor": (("tag:dark comedy", "genre:comedy"), ("genre:comedy",)),
    "dark humour": (("tag:dark comedy", "genre:comedy"), ("genre:comedy",)),
    "black comedy": (("tag:dark comedy", "genre:comedy"), ("genre:comedy",)),
    "gangster": (("genre:crime",),),
    "mafia": (("genre:crime",),),
    "mob": (("genre:crime",),),
    "heist": (("tag:heist", "genre:crime"),),
    "documentary": (("genre:documentary",),),
    "documentaries": (("genre:documentary",),),
    "docs": (("genre:documentary",),),
    "drama": (("genre:drama",),),
    "dramas": (("genre:drama",),),
    "fantasy": (("genre:fantasy",),),
    "noir": (("genre:film-noir",),),
    "film noir": (("genre:film-noir",),),
    "horror": (("genre:horror",),),
    "horrors": (("genre:horror",),),
    "slasher": (("genre:horror",), ("tag:slasher",)),
    "slashers": (("genre:horror",), ("tag:slasher",)),
    "musical": (("genre:musical",),),
    "musicals": (("genre:musical",),),
    "mystery": (("genre:mystery",),),
    "mysteries": (("genre:mystery",),),
    "whodunit": (("genre:mystery",),),
    "whodunnit": (("genre:mystery",),),
    "detective": (("genre:mystery", "genre:crime"),),
    "romance": (("genre:romance",),),
    "romances": (("genre:romance",),),
    "romantic": (("genre:romance",),),
    "love story": (("genre:romance",),),
    "love stories": (("genre:romance",),),
    "chick flick": (("genre:romance",),),
    "chick flicks": (("genre:romance",),),
    "rom com": (("genre:romance",), ("genre:comedy",)),
    "romcom": (("genre:romance",), ("genre:comedy",)),
    "rom coms": (("genre:romance",), ("genre:comedy",)),
    "romcoms": (("genre:romance",), ("genre:comedy",)),
    "romantic comedy": (("genre:romance",), ("genre:comedy",)),
    "romantic comedies": (("genre:romance",), ("genre:comedy",)),
    "sci fi": (("genre:sci-fi",),),
    "scifi": (("genre:sci-fi",),),
    "science fiction": (("genre:sci-fi",),),
    "sf": (("genre:sci-fi",),),
    "thriller": (("genre:thriller",),),
    "thrillers": (("genre:thriller",),),
    "psychological thriller": (("genre:thriller",), ("tag:psychological",)),
    "psychological thrillers": (("genre:thriller",), ("tag:psychological",)),
    "war": (("genre:war",),),
    "war movies": (("genre:war",),),
    "western": (("genre:western",),),
    "westerns": (("genre:western",),),
    "cowboy": (("genre:western",),),
    "biopic": (("genre:biography", "tag:biography", "genre:drama"),),
    "biopics": (("genre:biography", "tag:biography", "genre:drama"),),
    "biography": (("genre:biography", "tag:biography", "genre:drama"),),
    "biographical": (("genre:biography", "tag:biography", "genre:drama"),),
    "historical": (("genre:history", "tag:historical", "genre:drama"),),
    "history": (("genre:history", "tag:historical"),),
    "period piece": (("genre:history", "tag:historical", "genre:drama"),),
    "period drama": (("genre:history", "tag:historical", "genre:drama"),),
    "sports": (("genre:sport", "tag:sports"),),
    "sport": (("genre:sport", "tag:sports"),),
    "superhero": (("tag:superhero", "genre:action"),),
    "superheroes": (("tag:superhero", "genre:action"),),
    "super hero": (("tag:superhero", "genre:action"),),
    "comic book": (("tag:superhero", "tag:comic book", "genre:action"),),
    "marvel": (("tag:marvel", "tag:superhero"),),
    "zombie": (("tag:zombies", "tag:zombie", "genre:horror"),),
    "zombies": (("tag:zombies", "tag:zombie", "genre:horror"),),
    "martial arts": (("tag:martial arts", "genre:action"),),
    "kung fu": (("tag:martial arts", "genre:action"),),
    "spy": (("tag:espionage", "tag:spy", "genre:thriller"),),
    "spies": (("tag:espionage", "tag:spy", "genre:thriller"),),
    "christmas": (("tag:christmas",),),
    "holiday": (("tag:christmas", "tag:holiday"),),
    "disney": (("tag:disney", "genre:animation"),),
    "pixar": (("tag:pixar", "genre:animation"),),
    "space": (("tag:space", "genre:sci-fi"),),
    "time travel": (("tag:time travel", "genre:sci-fi"),),
}

# Phrases that are genres only next to a movie word: "family movies" yes, "my family" no.
NEEDS_MOVIE_WORD = word_set(
    """family war history sport kid kids children space holiday mob spy cowboy docs sf detective"""
)
MOVIE_WORDS = (
    "movie",
    "movies",
    "film",
    "films",
    "flick",
    "flicks",
    "stuff",
    "genre",
    "ones",
    "show",
    "shows",
)


def genre_phrases(catalog_genres: Collection[str]) -> dict[str, tuple[Slot, ...]]:
    """All genre phrases: the synonyms, every catalog genre by name ("film-noir" -> "film noir"),
    and "<phrase> movies/films" forms; phrases in NEEDS_MOVIE_WORD only in those forms."""
    table: dict[str, tuple[Slot, ...]] = {}
    for genre in sorted(catalog_genres):
        slots: tuple[Slot, ...] = ((f"genre:{genre}",),)
        table.setdefault(genre.replace("-", " "), slots)
        if not genre.endswith("s"):
            table.setdefault(genre.replace("-", " ") + "s", slots)
    table.update(GENRE_SYNONYMS)
    out: dict[str, tuple[Slot, ...]] = {}
    for phrase, slots in table.items():
        if phrase not in NEEDS_MOVIE_WORD:
            out[phrase] = slots
        for word in MOVIE_WORDS:
            out.setdefault(f"{phrase} {word}", slots)
    return out


def resolve_slots(slots: Sequence[Slot], vocabulary: Collection[str]) -> tuple[tuple[str, bool], ...]:
    """The attribute each slot resolves to in this catalog, with whether the catalog knows it.

    The first slot is the phrase's meaning and is kept even when unknown; later slots are refinements
    ("slasher" -> horror, then tag:slasher) and are dropped when the catalog has none of their attributes.
    """
    out: list[tuple[str, bool]] = []
    for n, slot in enumerate(slots):
        chosen = next(((a, True) for a in slot if a in vocabulary), None)
        if chosen is None and n == 0:
            chosen = (slot[0], False)
        if chosen is not None and chosen not in out:
            out.append(chosen)
    return tuple(out)
