"""A large synthetic catalog (default 60,000 titles) for index-size and speed tests.

Titles mix invented words ("Korvalin") with everyday title words ("Night", "Love", "Return of the"),
so the index sees realistic collisions; a few real titles are planted at known ids (see PLANTED) so
tests can check typo resolution among 60k candidates. Deterministic for a given seed.
"""

from __future__ import annotations

import random

from recsys.catalog.types import Catalog, CatalogItem

_ONSETS = [
    "b",
    "br",
    "c",
    "ch",
    "d",
    "dr",
    "f",
    "g",
    "gr",
    "h",
    "j",
    "k",
    "kr",
    "l",
    "m",
    "n",
    "p",
    "pr",
    "r",
    "s",
    "st",
    "t",
    "tr",
    "v",
    "w",
    "z",
]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "io", "ou"]
_CODAS = ["", "n", "r", "l", "s", "th", "x", "nd", "rk", "m"]
_COMMON = [
    "love",
    "night",
    "dark",
    "day",
    "man",
    "woman",
    "girl",
    "boy",
    "story",
    "life",
    "death",
    "war",
    "king",
    "queen",
    "house",
    "secret",
    "lost",
    "black",
    "blood",
    "summer",
    "winter",
    "dead",
    "little",
    "big",
    "city",
    "road",
    "home",
    "heart",
    "world",
    "time",
    "fire",
    "water",
    "star",
    "stars",
    "moon",
    "sun",
    "game",
    "last",
    "first",
    "final",
    "return",
    "rise",
    "fall",
    "red",
    "white",
    "blue",
    "gold",
    "shadow",
    "light",
    "ghost",
    "river",
    "island",
    "dream",
    "dreams",
]
_GENRES = [
    "action",
    "adventure",
    "animation",
    "children",
    "comedy",
    "crime",
    "documentary",
    "drama",
    "fantasy",
    "film-noir",
    "horror",
    "musical",
    "mystery",
    "romance",
    "sci-fi",
    "thriller",
    "war",
    "western",
    "family",
]
_TAGS = """time travel|twist ending|dystopia|zombies|heist|revenge|superhero|space|survival|haunted house|
dark comedy|based on a book|road trip|coming of age|high school|cult film|visually appealing""".replace(
    "\n", ""
)

# (catalog id, title, year, popularity): real titles planted in the synthetic catalog.
PLANTED = (
    (1000, "Inception", 2010, 5000.0),
    (2000, "The Godfather", 1972, 5000.0),
    (3000, "The Dark Knight", 2008, 5000.0),
    (4000, "Heat", 1995, 3000.0),
    (5000, "Up", 2009, 3000.0),
    (6000, "It", 2017, 3000.0),
    (7000, "Pulp Fiction", 1994, 5000.0),
    (8000, "Schindler's List", 1993, 4000.0),
)


def _word(rng: random.Random) -> str:
    n = rng.choice((2, 2, 3))
    return "".join(
        rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(n)
    ).capitalize()


def _title(rng: random.Random) -> str:
    w = lambda: _word(rng) if rng.random() < 0.6 else rng.choice(_COMMON).capitalize()  # noqa: E731
    pattern = rng.randrange(7)
    if pattern == 0:
        return w()
    if pattern == 1:
        return f"The {w()} {w()}"
    if pattern == 2:
        return f"{w()} of the {w()}"
    if pattern == 3:
        return f"{w()} {w()}: {w()} {w()}"
    if pattern == 4:
        return f"{w()} {rng.randint(2, 5)}"
    if pattern == 5:
        return f"A {w()} in {w()}"
    return f"{w()} {w()}"


def _person(rng: random.Random) -> str:
    return f"{_word(rng)} {_word(rng)}"


def synthetic_catalog(n_items: int = 60_000, seed: int = 0) -> Catalog:
    """n_items movies with titles, years, genres, 1 director, 2-3 stars, 0-2 tags and Pareto popularity."""
    rng = random.Random(seed)
    planted = {i: (t, y, p) for i, t, y, p in PLANTED if i < n_items}
    directors = [_person(rng) for _ in range(max(1, n_items // 6))]
    stars = [_person(rng) for _ in range(max(1, n_items // 2))]
    tags = _TAGS.split("|")
    items = []
    for i in range(n_items):
        title, year, pop = planted.get(i, (_title(rng), rng.randint(1920, 2023), rng.paretovariate(1.2)))
        items.append(
            CatalogItem(
                item_id=i,
                title=title,
                year=year,
                genres=tuple(rng.sample(_GENRES, rng.randint(1, 3))),
                directors=(rng.choice(directors),),
                stars=tuple(rng.sample(stars, rng.randint(2, 3))),
                tags=tuple(rng.sample(tags, rng.randint(0, 2))),
                popularity=round(pop, 2),
                redial_id=200_000 + i,
            )
        )
    return Catalog(items)
