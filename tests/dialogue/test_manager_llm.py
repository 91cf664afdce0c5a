"""The LLM layer inside dialogue turns (scripted model, real rule extractor, fitted fusion, real Redis):
batched guarded explanations, the language profile (written on change, versioned, the user's edit wins
and steers the ranking), the LLM re-ranking, and the template behaviour with the LLM off."""

from __future__ import annotations

import re

import pytest

from api.profiles import edit_profile
from dialogue.catalog_index import CatalogIndex
from dialogue.llm.profile_match import ProfileTextMatcher
from dialogue.llm.rerank import LLMReranker
from dialogue.llm.runtime import LLMConfig, LLMRuntime
from dialogue.llm.testing import ScriptedModel
from dialogue.llm.turn import LanguageProfiler, LLMTurnExplainer
from dialogue.llm.types import ChatPrompt
from dialogue.manager import DialogueManager
from dialogue.nlg import ItemExplanation, TemplateExplainer, explain_all
from dialogue.preferences import Preferences
from dialogue.results import ProfileView
from dialogue.state import ProfileEdited
from dialogue.store import StateStore
from dialogue.understanding import RuleExtractor
from recsys.catalog.types import Catalog
from recsys.models.fusion import FusionRanker
from tests.dialogue.llm.test_llm_profile_match import WordEncoder
from tests.dialogue.world import HORROR, ID, SCI_FI, WAR


def field(prompt: ChatPrompt, name: str) -> str:
    m = re.search(rf"^{re.escape(name)}: (.*)$", prompt.user, re.MULTILINE)
    return m.group(1) if m else ""


def grounded(prompt: ChatPrompt) -> str:
    """A scripted LLM that states true facts: explanations name the item's genre and director; a
    profile continues "Loves" with the liked attributes or movies."""
    if prompt.answer_prefix.startswith("You may like"):
        genre = field(prompt, "genres").split(",")[0]
        return f"it is a {genre} film directed by {field(prompt, 'directed by').split(',')[0]}."
    likes = field(prompt, "likes") or field(prompt, "liked movies")
    return f"{likes} and films like it."


@pytest.fixture
def parts(world_fusion: FusionRanker, world_extractor: RuleExtractor, store: StateStore, world: Catalog):
    return world_fusion, world_extractor, store, world


def llm_manager(
    parts, world_index: CatalogIndex, respond=grounded, **kwargs
) -> tuple[DialogueManager, ScriptedModel]:
    model = ScriptedModel(respond)
    runtime = LLMRuntime(LLMConfig(model="scripted"), model=model)
    manager = DialogueManager(
        *parts,
        "eager",
        index=world_index,
        explainer=LLMTurnExplainer(world_index, runtime),
        profiler=LanguageProfiler(world_index, runtime),
        **kwargs,
    )
    return manager, model


def test_one_batched_call_explains_every_recommended_item(parts, world_index) -> None:
    manager, model = llm_manager(parts, world_index)
    sid = manager.start_session()
    result = manager.turn(sid, "I loved The Matrix")
    assert result.action == "recommend" and len(result.recommendations) >= 3
    assert model.calls.count("generate_batch") == 1  # all the turn's explanations in one call
    assert len(model.prompts) == 3 + 1  # the first three items (and the profile) by the LLM
    for rec in result.recommendations[:3]:
        item = manager.catalog[rec.item_id]
        assert rec.explanation_source == "llm"
        facts = f"a {item.genres[0]} film directed by {item.directors[0]}."
        assert rec.explanation == f"You may like {item.title} because it is {facts}"
    for rec in result.recommendations[3:]:  # the rest: the template from the same facts
        assert rec.explanation_source == "template"
        assert rec.explanation.startswith(manager.catalog[rec.item_id].display)
    data = result.to_dict()
    assert all(r["explanation"] for r in data["recommendations"])


def test_an_explanation_failing_the_guard_becomes_the_template(parts, world_index) -> None:
    # Claims a director the item does not have (Kubrick directed none of the sci-fi films).
    manager, _ = llm_manager(
        parts,
        world_index,
        respond=lambda p: (
            "it is directed by Stanley Kubrick." if p.answer_prefix.startswith("You") else "sci-fi."
        ),
    )
    sid = manager.start_session()
    result = manager.turn(sid, "I loved The Matrix")
    assert result.recommendations
    for rec in result.recommendations:
        item = manager.catalog[rec.item_id]
        assert rec.explanation_source == "template"
        assert "Kubrick" not in rec.explanation or "Stanley Kubrick" in item.directors
        assert rec.explanation.startswith(item.display)  # the facts template: "<Title (year)> is a ..."


def test_profile_is_written_when_the_preferences_change_and_versioned(parts, world_index) -> None:
    manager, model = llm_manager(parts, world_index)
    sid = manager.start_session("ann")
    hello = manager.turn(sid, "hello")
    assert hello.profile is not None and hello.profile.text == "No preferences yet."
    assert not hello.profile.updated and manager.store.get_profile("ann").profile_text is None
    first = manager.turn(sid, "I loved The Matrix")
    assert first.profile.updated and first.profile.source == "llm"
    assert first.profile.text == "Loves The Matrix and films like it."
    stored = manager.store.get_profile("ann")
    assert stored.profile_text == first.profile.text and stored.profile_version == 1
    assert not stored.edited_by_user
    profile_calls = sum(1 for p in model.prompts if p.answer_prefix == "Loves")
    thanks = manager.turn(sid, "thanks")  # nothing new: no rewrite, no LLM call
    assert not thanks.profile.updated and thanks.profile.source == "stored"
    assert thanks.profile.text == first.profile.text
    assert sum(1 for p in model.prompts if p.answer_prefix == "Loves") == profile_calls
    comedies = manager.turn(sid, "I also like comedies")
    assert comedies.profile.updated and comedies.profile.text == "Loves comedy and films like it."
    stored = manager.store.get_profile("ann")
    assert stored.profile_version == 2 and stored.profile_text == comedies.profile.text
    events = [e for e in manager.store.load_events(sid) if isinstance(e, ProfileEdited)]
    assert len(events) == 2 and all(e.source == "llm" for e in events)


def test_users_edit_wins_and_the_typed_preferences_follow_it(parts, world_index, world: Catalog) -> None:
    manager, _ = llm_manager(parts, world_index)
    sid = manager.start_session("bea")
    manager.turn(sid, "I like horror movies")
    assert "genre:horror" in manager.store.get_profile("bea").liked_attributes
    edited = edit_profile(
        manager.store, world, "bea", {"profile_text": "No horror. I love war movies."}, None
    )
    assert edited.edited_by_user and edited.profile_text == "No horror. I love war movies."
    assert "genre:horror" in edited.disliked_attributes and "genre:horror" not in edited.liked_attributes
    assert "genre:war" in edited.liked_attributes
    # Ranking follows the edit: no horror any more, war first.
    recs = manager.recommend_for(user_id="bea", k=5)
    assert not {r.item_id for r in recs} & HORROR and recs[0].item_id in WAR
    result = manager.turn(sid, "I loved The Matrix")  # inference changes the preferences ...
    assert result.profile.source == "user" and result.profile.text == "No horror. I love war movies."
    assert not {r.item_id for r in result.recommendations} & HORROR
    stored = manager.store.get_profile("bea")  # ... but never overwrites the user's text
    assert stored.profile_text == "No horror. I love war movies." and stored.edited_by_user
    assert ID["The Matrix"] in stored.liked_items


def test_templates_when_the_llm_is_off(parts, world_index) -> None:
    manager = DialogueManager(*parts, "eager", index=world_index)  # defaults: template explainer + profile
    assert isinstance(manager.explainer, TemplateExplainer)
    sid = manager.start_session("cid")
    result = manager.turn(sid, "I loved The Matrix, no horror please")
    assert result.recommendations and all(r.explanation for r in result.recommendations)
    assert all(r.explanation_source == "template" for r in result.recommendations)
    assert result.profile.source == "template" and result.profile.updated
    assert result.profile.text == "Liked The Matrix; dislikes horror."
    data = result.to_dict()
    assert data["profile"] == "Liked The Matrix; dislikes horror."
    assert data["profile_info"]["version"] == 1 and data["profile_info"]["updated"] is True


def test_reranker_reorders_the_fused_head_and_never_adds(parts, world_index) -> None:
    favourite = "Galaxy Quest"

    def judge(prompt: ChatPrompt, option: str) -> float:
        yes = favourite in prompt.user
        return (0.0 if yes else -5.0) if option == "Yes" else (-5.0 if yes else 0.0)

    model = ScriptedModel(grounded, score=judge)
    runtime = LLMRuntime(LLMConfig(model="scripted"), model=model)
    plain = DialogueManager(*parts, "eager", index=world_index)
    reranked = DialogueManager(
        *parts, "eager", index=world_index, reranker=LLMReranker(runtime, weight=0.9, max_candidates=10)
    )
    before = plain.turn(plain.start_session(), "I loved The Matrix")
    after = reranked.turn(reranked.start_session(), "I loved The Matrix")
    head = plain.ranker.rank(Preferences(liked_items=(ID["The Matrix"],), excluded_items=frozenset({0})), 10)
    assert ID[favourite] in {r.item_id for r in head}
    assert after.recommendations[0].item_id == ID[favourite]
    assert before.recommendations[0].item_id != ID[favourite]
    assert {r.item_id for r in after.recommendations} <= {r.item_id for r in head}
    assert model.calls.count("score_options") == 1


def test_explain_all_loops_over_a_one_item_explainer(world_index) -> None:
    class OneByOne:
        def explain(self, item, prefs, provenance) -> str:
            return f"{item.title} fits."

    items = [world_index.item(i) for i in sorted(SCI_FI)[:3]]
    out = explain_all(OneByOne(), items, Preferences(), [{}, {}, {}])
    assert out == [ItemExplanation(f"{it.title} fits.", "OneByOne") for it in items]
    with pytest.raises(ValueError, match="3 items but 2 provenances"):
        explain_all(OneByOne(), items, Preferences(), [{}, {}])


class SpyMatcher(ProfileTextMatcher):
    """A matcher over a bag-of-words encoder that records the texts it is asked to match."""

    def __init__(self, catalog: Catalog) -> None:
        super().__init__(catalog, encoder_factory=WordEncoder)
        self.asked: list[str] = []

    def scores(self, profile_text: str):  # type: ignore[no-untyped-def]
        self.asked.append(profile_text)
        return super().scores(profile_text)


def test_only_a_profile_text_beyond_the_typed_preferences_is_matched(
    parts, world_index, world: Catalog
) -> None:
    matcher = SpyMatcher(world)
    manager = DialogueManager(*parts, "eager", index=world_index, profile_matcher=matcher)  # templates
    sid = manager.start_session("dan")
    first = manager.turn(sid, "I loved The Matrix")
    assert first.profile.source == "template" and first.recommendations
    again = manager.turn(sid, "something funnier")  # the stored template: still nothing new
    assert again.profile.source == "stored" and again.recommendations
    manager.recommend_for(user_id="dan", k=3)
    assert matcher.asked == []  # the template restates the typed preferences: never embedded
    edit_profile(manager.store, world, "dan", {"profile_text": "Loves slow space adventures."}, None)
    mine = manager.turn(sid, "more like that")
    assert mine.profile.source == "user" and matcher.asked == ["Loves slow space adventures."]
    manager.recommend_for(user_id="dan", k=3)
    assert matcher.asked == ["Loves slow space adventures."] * 2

    llm, _ = llm_manager(parts, world_index, profile_matcher=SpyMatcher(world))
    written = llm.turn(llm.start_session(), "I loved The Matrix")
    assert written.profile.source == "llm"
    assert llm.ranker.matcher.asked == ["Loves The Matrix and films like it."]  # type: ignore[attr-defined]


def test_ranking_text_of_each_profile_source(world_index) -> None:
    profiler = LanguageProfiler(world_index, None)
    prefs = Preferences(liked_items=(ID["The Matrix"],), liked_attributes=("genre:comedy",))
    template = profiler.template(prefs)
    assert template == profiler.write(prefs).text
    assert profiler.ranking_text(ProfileView(template, "template"), prefs) == ""
    assert profiler.ranking_text(ProfileView(template, "stored"), prefs) == ""
    assert profiler.ranking_text(ProfileView("No preferences yet.", "stored"), Preferences()) == ""
    other = profiler.template(Preferences(liked_items=(ID["Blade Runner"],)))
    assert profiler.ranking_text(ProfileView(other, "stored"), prefs) == other  # not today's template
    profiler.write(Preferences(liked_items=(ID["Blade Runner"],)))  # ... but one this profiler wrote
    assert profiler.ranking_text(ProfileView(other, "stored"), prefs) == ""
    for source in ("llm", "user", "stored"):
        assert profiler.ranking_text(ProfileView("Loves quiet films.", source), prefs) == "Loves quiet films."
    assert profiler.ranking_text(ProfileView(template, "user"), prefs) == template  # the user's words
