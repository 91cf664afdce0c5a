"""Facts, templates and the Explainer (LLM -> clean -> guard -> template fallback) with a scripted model."""

from __future__ import annotations

from dialogue.llm.evalset import eval_catalog
from dialogue.llm.explain import Explainer, clean_generated, enough_sentences, template_explanation
from dialogue.llm.facts import ExplanationFacts, item_attributes, main_generator
from dialogue.llm.grounding import GuardVocabulary
from dialogue.llm.guard import OutputGuard
from dialogue.llm.runtime import LLMConfig, LLMRuntime
from dialogue.llm.testing import ScriptedModel
from recsys.models.types import Trace

CATALOG = eval_catalog()
BY_TITLE = {it.title: it for it in CATALOG}
GUARD = OutputGuard(GuardVocabulary.from_items(CATALOG))


def explainer(respond, **kwargs) -> tuple[Explainer, ScriptedModel]:
    model = ScriptedModel(respond, **kwargs)
    runtime = LLMRuntime(LLMConfig(model="scripted"), model=model)
    return Explainer(runtime, GUARD), model


def nolan_facts() -> ExplanationFacts:
    return ExplanationFacts.build(
        BY_TITLE["Inception"],
        liked_items=[BY_TITLE["Interstellar"], BY_TITLE["Toy Story"]],
        path={"generator": "ppr", "via": ["director:christopher nolan", "item:1"]},
    )


def test_item_attributes_use_kind_value_names():
    attrs = item_attributes(BY_TITLE["Inception"])
    assert attrs["director:christopher nolan"] == "Christopher Nolan"
    assert attrs["genre:sci-fi"] == "sci-fi"
    assert attrs["star:elliot page"] == "Elliot Page"
    assert attrs["decade:2010s"] == "2010s"


def test_facts_keep_only_what_the_item_really_has():
    facts = ExplanationFacts.build(
        BY_TITLE["Inception"],
        liked_items=[BY_TITLE["Interstellar"]],
        liked_attributes=["genre:horror", "tag:mind-bending"],  # Inception is not horror
        path={"generator": "ppr", "via": ["director:tom hanks", "item:1", "item:99"]},
    )
    attrs = [r.attribute for r in facts.reasons]
    assert attrs[0] == "director:christopher nolan"  # shared with Interstellar: first
    assert "genre:horror" not in attrs and "director:tom hanks" not in attrs
    assert "tag:mind-bending" in attrs and "genre:sci-fi" in attrs
    assert facts.reasons[0].liked_titles == ("Interstellar",) and facts.reasons[0].origin == "shared"
    assert [it.title for it in facts.via_items] == ["Interstellar"]  # item:99 is not a liked item
    assert facts.generator == "ppr"


def test_template_from_shared_director():
    text = template_explanation(nolan_facts())
    assert text == (
        "Inception (2010) is a sci-fi and action film. "
        "You liked Interstellar, also directed by Christopher Nolan."
    )
    genre_link = ExplanationFacts.build(BY_TITLE["Heat"], liked_items=[BY_TITLE["Sicario"]])
    assert template_explanation(genre_link) == (
        "Heat (1995) is an action and crime film directed by Michael Mann. "
        "You liked Sicario, another action film."
    )


def test_template_without_any_link_names_the_generator():
    facts = ExplanationFacts.build(BY_TITLE["Up"], path={"generator": "popularity"})
    assert template_explanation(facts).endswith("It is one of the most watched films in the catalog.")
    liked_attr = ExplanationFacts.build(BY_TITLE["Heat"], liked_attributes=["genre:crime"])
    assert template_explanation(liked_attr).endswith("You asked for crime.")


def test_template_for_a_path_link_and_main_generator():
    facts = ExplanationFacts.build(
        BY_TITLE["Inception"], path={"generator": "ppr", "via": ["tag:mind-bending"]}
    )
    assert facts.reasons[0].origin == "path"
    assert template_explanation(facts).endswith(
        "It is linked to films you liked through the tag 'mind-bending'."
    )
    provenance = {"ease": Trace(0.9, 3), "ppr": Trace(0.2, 1), "popularity": Trace(5.0, 7)}
    assert main_generator(provenance) == "ppr" and main_generator({}) is None


def test_template_shortens_to_fit():
    facts = nolan_facts()
    full = template_explanation(facts)
    short = template_explanation(facts, max_chars=100)
    assert len(short) <= 100 < len(full)
    assert short.startswith("Inception (2010) is")


def test_clean_generated():
    assert (
        clean_generated('Explanation: "The user loves Nolan. Great pick. Third."')
        == "You love Nolan. Great pick."
    )
    assert clean_generated("The user's taste fits. And the user watches") == "Your taste fits."
    assert enough_sentences("One. Two.") and not enough_sentences("One. Two")


def test_llm_text_that_passes_the_guard_is_used():
    exp, model = explainer("you loved Interstellar, another mind-bending Christopher Nolan film.")
    result = exp.explain(nolan_facts(), profile_text="Loves clever sci-fi; finds gore off-putting.")
    assert result.source == "llm" and result.fallback is None
    assert result.text == (
        "You may like Inception because you loved Interstellar, another mind-bending Christopher Nolan film."
    )
    prompt = model.prompts[0]
    assert "movie: Inception (2010)" in prompt.user and "directed by Christopher Nolan" in prompt.user
    assert 'their taste: "Loves clever sci-fi"' in prompt.user  # only what they like: no dislike to parrot
    assert "gore" not in prompt.user
    assert prompt.answer_prefix == "You may like Inception because"  # the model continues this


def test_hallucinated_title_falls_back_to_the_template():
    exp, _ = explainer("fans of Titanic love it too.")
    result = exp.explain(nolan_facts())
    assert result.source == "template" and result.fallback == "guard"
    assert result.text == template_explanation(nolan_facts())
    assert result.problems == ("names the movie 'Titanic', which is not among the recommendations",)
    assert result.llm_text == "You may like Inception because fans of Titanic love it too."


def test_wrong_person_and_genre_fall_back():
    exp, _ = explainer("Inception is a horror film starring Tom Hanks.")
    result = exp.explain(nolan_facts())
    assert result.source == "template"
    assert "names Tom Hanks, who is not credited on Inception" in result.problems
    assert "calls Inception 'horror', a genre it does not have" in result.problems


def test_other_candidates_may_be_named():
    exp, _ = explainer("Inception pairs well with The Prestige, another Christopher Nolan puzzle.")
    facts = nolan_facts()
    alone = exp.explain(facts)
    together = exp.explain(facts, candidates=[BY_TITLE["Inception"], BY_TITLE["The Prestige"]])
    assert alone.source == "template" and together.source == "llm"


def test_explain_many_is_one_batched_call_with_per_item_guard():
    answers = {
        "Inception": "Inception is a mind-bending Christopher Nolan film, like Interstellar.",
        "Arrival": "Arrival stars Tom Hanks.",
    }
    exp, model = explainer(lambda p: next(v for k, v in answers.items() if f"movie: {k}" in p.user))
    facts = [
        nolan_facts(),
        ExplanationFacts.build(BY_TITLE["Arrival"], liked_items=[BY_TITLE["Interstellar"]]),
    ]
    results = exp.explain_many(facts, profile_text="Sci-fi fan.")
    assert model.calls == ["generate_batch"]
    assert [r.source for r in results] == ["llm", "template"]
    assert [r.item_id for r in results] == [0, 3]


def test_no_runtime_timeout_and_disabled_give_templates():
    facts = nolan_facts()
    assert Explainer(None, GUARD).explain(facts).fallback == "disabled"
    off = Explainer(LLMRuntime(LLMConfig(model="none")), GUARD).explain(facts)
    assert off.source == "template" and off.fallback == "disabled"
    slow = ScriptedModel("word " * 100, seconds_per_token=0.05)
    exp = Explainer(LLMRuntime(LLMConfig(model="scripted"), model=slow), GUARD, timeout=0.2)
    result = exp.explain(facts)
    assert result.source == "template" and result.fallback == "timeout"
    assert result.text == template_explanation(facts)
