"""Popularity and repeat baselines on a constructed dialogue with known rankings."""

from __future__ import annotations

import numpy as np

from recsys.catalog.types import Catalog, CatalogItem
from recsys.data.redial import mention_spans
from recsys.data.types import Dialogue, Message
from recsys.eval.redial_baselines import (
    context_movies,
    popularity_order,
    popularity_rankings,
    repeat_rankings,
)
from recsys.eval.redial_metrics import summarize, target_ranks
from recsys.eval.redial_samples import extract_samples

CATALOG = Catalog([CatalogItem(i, f"Movie {i}", redial_id=100 + i) for i in range(8)])


def _dialogue(texts: list[tuple[bool, str]]) -> Dialogue:
    messages = tuple(
        Message(i, 1 if seeker else 2, text, i, mention_spans(text), is_seeker=seeker)
        for i, (seeker, text) in enumerate(texts)
    )
    return Dialogue(7, 1, 2, messages)


DIALOGUE = _dialogue(
    [
        (True, "I love @101 and @103"),  # items 1, 3
        (False, "what about @105?"),  # item 5 (target: new)
        (True, "@105 was boring, and @101 is my favourite"),  # items 5, 1
        (False, "ok, then @101 or @106"),  # item 1 (repeat), item 6 (new)
    ]
)
COUNTS = np.array([5, 1, 9, 0, 9, 3, 2, 7], dtype=np.float32)  # items 2 and 4 tie: lower id first


def test_popularity_order_breaks_ties_by_id() -> None:
    assert popularity_order(COUNTS, np.arange(8)).tolist() == [2, 4, 7, 0, 5, 6, 1, 3]
    assert popularity_order(COUNTS, np.array([6, 1, 3])).tolist() == [6, 1, 3]


def test_context_movies_most_recent_first() -> None:
    samples = extract_samples([DIALOGUE], CATALOG)
    assert [(s.position, s.item, s.repeat) for s in samples] == [(1, 5, False), (3, 1, True), (3, 6, False)]
    # before message 3: "@105 ... @101" (message 2, later mention first), then message 0 "@101 and @103"
    assert context_movies(samples[1], CATALOG) == [1, 5, 3]
    assert context_movies(samples[0], CATALOG) == [3, 1]


def test_repeat_ranking_and_its_figures() -> None:
    samples = extract_samples([DIALOGUE], CATALOG)
    order = popularity_order(COUNTS, np.arange(8))
    rankings = repeat_rankings(samples, CATALOG, order, k=5)
    assert rankings[0].tolist() == [3, 1, 2, 4, 7]
    assert rankings[1].tolist() == [1, 5, 3, 2, 4]
    ranks = target_ranks(rankings, [s.item for s in samples])
    assert ranks.tolist() == [0, 1, 0]  # 5 and 6 are not in the top 5, the repeated 1 is first
    assert summarize(ranks)["recall@1"] == 1 / 3


def test_repeat_ranking_keeps_only_candidates() -> None:
    samples = extract_samples([DIALOGUE], CATALOG)
    order = popularity_order(COUNTS, np.array([0, 2, 4, 5, 6, 7]))
    rankings = repeat_rankings(samples, CATALOG, order, k=4, candidates=np.array([0, 2, 4, 5, 6, 7]))
    assert rankings[1].tolist() == [5, 2, 4, 7]  # 1 and 3 are not ranked items


def test_popularity_rankings_with_exclusions() -> None:
    order = popularity_order(COUNTS, np.arange(8))
    same = popularity_rankings(order, None, 2, k=3)
    assert [r.tolist() for r in same] == [[2, 4, 7], [2, 4, 7]]
    excluded = popularity_rankings(order, [[4], [2, 7, 9]], 2, k=3)
    assert [r.tolist() for r in excluded] == [[2, 7, 0], [4, 0, 5]]
