"""Yes/no re-ranking with a scripted judge: blending, dropping, fallbacks, and never adding items."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogue.llm.evalset import eval_catalog
from dialogue.llm.rerank import Candidate, LLMReranker, judgement_prompt
from dialogue.llm.runtime import LLMConfig, LLMRuntime
from dialogue.llm.testing import ScriptedModel
from recsys.errors import ValidationError

CATALOG = eval_catalog()
BY_TITLE = {it.title: it for it in CATALOG}


def judge(p_yes_by_title: dict[str, float]) -> ScriptedModel:
    """A model answering "Yes" with the given probability per movie (read from the prompt)."""

    def score(prompt, option):
        title = next(t for t in p_yes_by_title if f"movie: {BY_TITLE[t].display}" in prompt.user)
        p = p_yes_by_title[title]
        return math.log(p) if option == "Yes" else math.log(1 - p)

    return ScriptedModel(score=score)


def reranker(model: ScriptedModel, **kwargs) -> LLMReranker:
    return LLMReranker(LLMRuntime(LLMConfig(model="scripted"), model=model), **kwargs)


def cands(*pairs: tuple[str, float]) -> list[Candidate]:
    return [Candidate(BY_TITLE[t], s) for t, s in pairs]


def test_llm_judgement_reorders_close_candidates():
    model = judge({"Inception": 0.1, "Arrival": 0.95, "Heat": 0.5})
    result = reranker(model, weight=0.5).rerank(
        cands(("Inception", 1.0), ("Arrival", 0.9), ("Heat", 0.0)),
        "Loves slow-burn sci-fi",
        "something calmer",
    )
    assert result.used_llm and result.fallback is None
    assert [r.item.title for r in result.items] == ["Arrival", "Inception", "Heat"]
    arrival = result.items[0]
    assert arrival.p_yes == pytest.approx(0.95) and arrival.original_rank == 2
    assert arrival.score == pytest.approx(0.5 * 0.9 + 0.5 * 0.95)
    assert model.calls == ["score_options"]  # all candidates judged in one call


def test_weight_zero_keeps_the_fused_order_and_weight_one_follows_the_llm():
    model = judge({"Inception": 0.2, "Arrival": 0.9, "Heat": 0.6})
    given_order = cands(("Inception", 3.0), ("Arrival", 2.0), ("Heat", 1.0))
    assert [r.item.title for r in reranker(model, weight=0.0).rerank(given_order, "x").items] == [
        "Inception",
        "Arrival",
        "Heat",
    ]
    assert [r.item.title for r in reranker(model, weight=1.0).rerank(given_order, "x").items] == [
        "Arrival",
        "Heat",
        "Inception",
    ]


def test_drop_below_removes_rejected_candidates_but_keeps_min_keep():
    model = judge({"Inception": 0.05, "Arrival": 0.9, "Heat": 0.1})
    result = reranker(model, weight=0.5, drop_below=0.3).rerank(
        cands(("Inception", 1.0), ("Arrival", 0.5), ("Heat", 0.0)), "x"
    )
    assert [r.item.title for r in result.items] == ["Arrival"]
    assert sorted(r.item.title for r in result.dropped) == ["Heat", "Inception"]
    everyone_bad = judge({"Inception": 0.01, "Heat": 0.02})
    kept = reranker(everyone_bad, drop_below=0.5, min_keep=1).rerank(
        cands(("Inception", 1.0), ("Heat", 0.5)), "x"
    )
    assert [r.item.title for r in kept.items] == ["Inception"]


def test_only_the_head_is_judged_and_the_tail_follows_unchanged():
    model = judge({"Inception": 0.1, "Arrival": 0.9, "Heat": 0.9, "Up": 0.9})
    result = reranker(model, weight=1.0, max_candidates=2).rerank(
        cands(("Inception", 4.0), ("Arrival", 3.0), ("Heat", 2.0), ("Up", 1.0)), "x"
    )
    assert [r.item.title for r in result.items] == ["Arrival", "Inception", "Heat", "Up"]
    assert result.items[2].p_yes is None and len(model.prompts) == 2


def test_fallbacks_return_the_input_order():
    given_order = cands(("Heat", 2.0), ("Up", 1.0))
    off = LLMReranker(LLMRuntime(LLMConfig(model="none"))).rerank(given_order, "x")
    assert off.fallback == "disabled" and not off.used_llm
    assert [r.item.title for r in off.items] == ["Heat", "Up"]
    assert LLMReranker(None).rerank(given_order, "x").fallback == "disabled"
    assert LLMReranker(None).rerank([], "x").items == ()


def test_invalid_input_is_rejected():
    with pytest.raises(ValidationError, match=r"repeated item ids: \[0\]"):
        LLMReranker(None).rerank(cands(("Inception", 1.0), ("Inception", 0.5)), "x")
    with pytest.raises(ValidationError, match="weight"):
        LLMReranker(None, weight=1.5)
    with pytest.raises(ValidationError, match="finite"):
        reranker(judge({"Up": 0.5})).rerank([Candidate(BY_TITLE["Up"], math.nan)], "x")


def test_judgement_prompt_contains_the_facts_and_quoted_user_text():
    prompt = judgement_prompt(BY_TITLE["Arrival"], "Loves slow-burn sci-fi", "no gore")
    assert "movie: Arrival (2016)" in prompt.user and "directed by: Denis Villeneuve" in prompt.user
    assert 'the user\'s taste: "Loves slow-burn sci-fi"' in prompt.user
    assert 'the user\'s latest request: "no gore"' in prompt.user
    assert prompt.user.rstrip().endswith("Answer Yes or No.")


@settings(max_examples=60, deadline=None)
@given(
    picks=st.lists(st.integers(0, len(CATALOG) - 1), min_size=1, max_size=12, unique=True),
    p_yes=st.lists(st.floats(0.001, 0.999), min_size=len(CATALOG), max_size=len(CATALOG)),
    weight=st.floats(0.0, 1.0),
    drop=st.one_of(st.none(), st.floats(0.0, 1.0)),
    max_candidates=st.integers(1, 12),
)
def test_rerank_never_adds_or_duplicates(picks, p_yes, weight, drop, max_candidates):
    model = judge({it.title: p for it, p in zip(CATALOG, p_yes, strict=True)})
    candidates = [Candidate(CATALOG[i], float(len(picks) - r)) for r, i in enumerate(picks)]
    rr = reranker(model, weight=weight, drop_below=drop, max_candidates=max_candidates)
    try:
        result = rr.rerank(candidates, "x")
    finally:
        rr.runtime.close()
    out = [r.item.item_id for r in result.items]
    dropped = [r.item.item_id for r in result.dropped]
    assert len(out) == len(set(out)) and set(out) <= set(picks)
    assert sorted(out + dropped) == sorted(picks)  # every candidate is either kept or reported dropped
    assert len(out) >= min(1, len(picks))
