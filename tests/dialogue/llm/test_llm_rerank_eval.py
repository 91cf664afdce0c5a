"""The pure parts of the re-ranking evaluation: list metrics and the blended order."""

from __future__ import annotations

import math

import pytest

from dialogue.llm.rerank import Candidate, LLMReranker
from dialogue.llm.rerank_eval import blended_order, ranking_metrics
from dialogue.llm.runtime import LLMConfig, LLMRuntime
from dialogue.llm.testing import ScriptedModel
from recsys.catalog.types import CatalogItem


def test_ranking_metrics_of_a_hit_at_rank_two_and_of_a_miss() -> None:
    hit = ranking_metrics([5, 7, 9], target=7, k=3)
    assert hit == {
        "hr@1": 0.0,
        "hr@3": 1.0,
        "hr@5": 1.0,
        "mrr@3": 0.5,
        "ndcg@3": pytest.approx(1 / math.log2(3)),
    }
    miss = ranking_metrics([5, 7, 9], target=4, k=3)
    assert set(miss.values()) == {0.0}


def test_blended_order_matches_the_reranker() -> None:
    items = [CatalogItem(item_id=i, title=f"Movie {i}") for i in range(4)]
    fused = [0.9, 0.8, 0.5, 0.1]
    p_yes = {0: 0.1, 1: 0.2, 2: 0.95, 3: 0.9}

    def score(prompt, option: str) -> float:
        p = p_yes[int(prompt.user.split("Movie ")[1][0])]
        return math.log(p if option == "Yes" else 1 - p)

    model = ScriptedModel(score=score)
    runtime = LLMRuntime(LLMConfig(model="scripted"), model=model)
    for weight in (0.0, 0.3, 0.7, 1.0):
        reranked = LLMReranker(runtime, weight=weight).rerank(
            [Candidate(it, s) for it, s in zip(items, fused, strict=True)], "x"
        )
        order = blended_order([0, 1, 2, 3], fused, [p_yes[i] for i in range(4)], weight)
        assert reranked.item_ids == order, weight
    assert blended_order([0, 1, 2, 3], fused, [p_yes[i] for i in range(4)], 0.0) == [0, 1, 2, 3]
    assert blended_order([0, 1, 2, 3], fused, [p_yes[i] for i in range(4)], 1.0) == [2, 3, 1, 0]
