"""The leak guard, and that a simulated user never names a target whatever the system does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dialogue.simulation.leak import LeakGuard, normalise
from dialogue.simulation.simulator import simulate
from dialogue.simulation.users import GENERIC_OPENING, make_user
from recsys.catalog.types import Catalog, CatalogItem


def test_guard_finds_titles_articles_fuzzy_and_ids() -> None:
    guard = LeakGuard(["The Matrix", "Toy Story", "Amélie", "Blade Runner"], [123])
    assert guard.leaks("I want THE MATRIX!") == "the matrix"
    assert guard.leaks("something like matrix") == "matrix"  # without the article
    assert guard.leaks("toy-story please") == "toy story"
    assert guard.leaks("I adored amelie") == "amelie"  # accents normalised
    assert guard.leaks("I liked @123") == "@123"
    assert guard.leaks("blade runer again") == "blade runner"  # fuzzy (typo)
    assert guard.leaks("I liked @1234 and matrices") is None
    assert guard.leaks("a story about toys") is None


def test_scrub_removes_titles_and_mentions_but_keeps_the_rest() -> None:
    guard = LeakGuard(["The Matrix"], [123])
    assert (
        guard.scrub("I loved Blade Runner and The Matrix, what else?") == "I loved Blade Runner, what else?"
    )
    assert guard.scrub("@123 @77 is great") == "@77 is great"
    assert guard.scrub("The Matrix!", fallback="x") == "x"
    assert normalise("  Hello,   World! ") == "hello world"


def _item(i: int, title: str, year: int, genres: tuple[str, ...], person: str) -> CatalogItem:
    return CatalogItem(item_id=i, title=title, year=year, genres=genres, directors=(person,), stars=(person,))


# Targets whose titles are exactly what the user would naturally say: a genre, an era critique, a name.
TRICKY = Catalog(
    [
        _item(0, "Comedy", 1990, ("comedy", "drama"), "Tom Hanks"),
        _item(1, "Something More Recent", 2015, ("comedy",), "Jane Doe"),
        _item(2, "Tom Hanks", 2001, ("drama",), "Tom Hanks"),
        _item(3, "Filler One", 1950, ("horror",), "John Roe"),
        _item(4, "Filler Two", 1955, ("western",), "Ann Poe"),
    ]
)


class Stubborn:
    """A system that alternates questions (offering the targets' attributes) with wrong items."""

    def __init__(self) -> None:
        self.n = 0

    def start(self) -> str:
        return "s"

    def send(self, session_id: str, text: str) -> Mapping[str, Any]:
        self.n += 1
        kinds = ["genre", "decade", "star", "director"]
        if self.n % 2:
            kind = kinds[(self.n // 2) % len(kinds)]
            options = {"genre": ["genre:comedy", "genre:drama"], "decade": ["decade:2010s", "decade:1990s"]}
            opts = options.get(kind, [f"{kind}:tom hanks", f"{kind}:jane doe"])
            return {
                "action": "ask",
                "recommendations": [],
                "question": {"attribute_kind": kind, "options": opts},
            }
        return {"action": "recommend", "recommendations": [{"item_id": 3}, {"item_id": 4}], "question": None}


def test_user_never_says_a_target_title_even_when_the_opening_had_it() -> None:
    for targets in ([0], [1], [2], [0, 1, 2]):
        opening = "I want Comedy or Something More Recent, like Tom Hanks. @55"
        user = make_user("tricky", TRICKY, targets, opening, redial_ids=[55])
        assert user.guard.leaks(user.opening) is None
        out = simulate(user, Stubborn(), TRICKY, max_turns=12, seed=3)
        assert out.utterances, "the user said something"
        titles = [normalise(TRICKY[t].title) for t in targets]
        for text in out.utterances:
            assert not any(t in normalise(text) for t in titles), (targets, text)
            assert "@55" not in text
        assert not out.success


def test_opening_that_is_only_a_title_becomes_generic() -> None:
    user = make_user("u", TRICKY, [2], "Tom Hanks")
    assert user.opening == GENERIC_OPENING


def test_world_users_never_leak(managers, world) -> None:
    from tests.dialogue.simulation.conftest import world_users

    for user in world_users(world, 12):
        for policy in ("default", "popularity"):
            from dialogue.simulation.simulator import ManagerClient

            out = simulate(user, ManagerClient(managers[policy]), world, max_turns=5, seed=0)
            title = normalise(world[user.targets[0]].title)
            assert all(title not in normalise(t) for t in out.utterances), out.utterances
