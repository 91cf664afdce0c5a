"""api.main.warm_walks: the API computes the PageRank walks of the most popular items before serving,
as many as CRS_PPR_WARM_SEEDS asks, and does nothing for systems without a PageRank generator."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from api.main import warm_walks
from recsys.settings import Settings


class _Ppr:
    def __init__(self) -> None:
        self.calls: list[int] = []

    def warm_seed_cache(self, n_popular: int = 200, **_: Any) -> int:
        self.calls.append(n_popular)
        return n_popular + 7


def _manager(generators: dict[str, Any]) -> Any:
    return SimpleNamespace(recommender=SimpleNamespace(generators=generators))


def test_the_ppr_generator_is_warmed_with_the_configured_number_of_items() -> None:
    ppr = _Ppr()
    walks = warm_walks(_manager({"ppr": ppr, "itemknn": object()}), Settings(ppr_warm_seeds=42))
    assert ppr.calls == [42]
    assert walks == 49


def test_without_a_ppr_generator_nothing_is_walked() -> None:
    assert warm_walks(_manager({"itemknn": object()}), Settings()) == 0
    assert warm_walks(SimpleNamespace(recommender=object()), Settings()) == 0


def test_the_default_warms_the_300_most_popular_items() -> None:
    ppr = _Ppr()
    warm_walks(_manager({"ppr": ppr}), Settings())
    assert ppr.calls == [300]
