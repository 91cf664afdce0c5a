"""Template explanations and replies from catalog facts; the catalog index; understanding -> events."""

from __future__ import annotations

import numpy as np

from dialogue.catalog_index import CatalogIndex
from dialogue.interpret import interpret, label
from dialogue.nlg import TemplateExplainer, acknowledgement, answer_text, join_words, question_text
from dialogue.policy import QuestionPlan
from dialogue.preferences import Preferences
from dialogue.state import (
    AttributePreferred,
    CritiqueGiven,
    ItemAccepted,
    ItemMentioned,
    ItemRejected,
    ItemsRecommended,
    QuestionAnswered,
    QuestionAsked,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from dialogue.state.state import DialogueState
from dialogue.understanding import RuleExtractor
from dialogue.understanding.types import DialogueContext
from recsys.catalog.types import Catalog
from recsys.models.types import Trace
from tests.dialogue.world import ID


def prefs_liking(*titles: str, attributes: tuple[str, ...] = ()) -> Preferences:
    return Preferences.from_lists([ID[t] for t in titles], liked_attributes=attributes)


def test_explanations_name_the_shared_fact(world: Catalog, world_index: CatalogIndex) -> None:
    explain = TemplateExplainer(world_index).explain
    knn = {"itemknn": Trace(0.5, 1)}
    # a director shared with a liked movie comes first
    text = explain(world[ID["Dunkirk"]], prefs_liking("Interstellar"), knn)
    assert text.startswith("Directed by Christopher Nolan, like Interstellar.")
    assert text.endswith("People who liked Interstellar also liked it.")
    # then the liked attributes it matches
    text = explain(world[ID["Superbad"]], prefs_liking(attributes=("genre:comedy", "decade:2000s")), {})
    assert text.startswith("It matches what you asked for: comedy and 2000s.")
    # then genres shared with a liked movie, with the generator that proposed it
    text = explain(
        world[ID["Gattaca"]], prefs_liking("Arrival"), {"ppr": Trace(0.1, 2), "itemknn": Trace(0.2, 7)}
    )
    assert text == (
        "A sci-fi and drama movie, like Arrival. "
        "It is closely linked to Arrival through shared cast, crew, genres and conversations."
    )
    assert explain(world[ID["Titanic"]], Preferences(), {"popularity": Trace(1.0, 1)}) == (
        "It is one of the most popular movies in the catalog."
    )


def test_replies(world: Catalog, world_index: CatalogIndex) -> None:
    assert join_words(["a", "b", "c"], "or") == "a, b or c"
    plan = QuestionPlan("director", ("director:christopher nolan", "director:ridley scott"), 1.0)
    assert question_text(plan, world_index).endswith("For example Christopher Nolan or Ridley Scott.")
    events = [
        ItemMentioned(item_id=ID["The Matrix"], polarity="liked", turn=1),
        AttributePreferred(attribute="genre:horror", polarity="disliked", turn=1),
        CritiqueGiven(turn=1, dimension="violence", direction="less"),
    ]
    assert (
        acknowledgement(events, world_index)
        == "Got it: you liked The Matrix; no horror; something less violent."
    )
    text = answer_text(world[ID["Blade Runner"]])
    assert text == (
        "Blade Runner (1982) is a sci-fi and thriller movie directed by Ridley Scott. "
        "It stars Harrison Ford. The story of Blade Runner."
    )


def test_catalog_index(world: Catalog, world_index: CatalogIndex) -> None:
    assert set(world_index.items_with("director:christopher nolan").tolist()) == {
        ID["Inception"],
        ID["Interstellar"],
        ID["Dunkirk"],
    }
    assert world_index.display("star:leonardo dicaprio") == "Leonardo DiCaprio"
    assert world_index.display("decade:1990s") == "1990s"
    assert world_index.median_year([ID["Casablanca"], ID["The Matrix"], ID["Arrival"]]) == 1999
    assert world_index.median_year([]) is None
    assert world_index.values_of(ID["The Matrix"], "genre") == ["genre:action", "genre:sci-fi"]
    assert set(world_index.groups["funny"].tolist()) == {
        i for i, it in enumerate(world) if "comedy" in it.genres
    }
    assert world_index.year_rank[ID["Casablanca"]] == 0.0 and world_index.year_rank[ID["Hereditary"]] == 1.0
    assert np.all(np.diff(world_index.popularity[world_index.by_popularity]) <= 0)
    assert world_index.attribute_indices(["genre:comedy", "genre:unknown"]) == (
        world_index.model_attributes["genre:comedy"],
    )


def _state(*events) -> DialogueState:
    return DialogueState.start(SessionStarted("s1")).apply_all(events)


def test_interpretation_of_messages(world_extractor: RuleExtractor, world_index: CatalogIndex) -> None:
    shown = (ID["Arrival"], ID["Gattaca"], ID["Inception"])
    state = _state(
        ItemsRecommended(turn=1, item_ids=shown, scores=(3.0, 2.0, 1.0)),
        QuestionAsked(turn=1, attribute_kind="genre", options=("genre:comedy", "genre:drama")),
    )

    def events_of(text: str, st: DialogueState = state):
        context = DialogueContext(last_recommended=shown, last_question_kind=st.pending_question)
        return interpret(world_extractor.extract(text, context), st, 2, world_index)

    out = events_of("comedy but no horror, and I loved The Matrix")
    kinds = [type(e) for e in out.events]
    assert kinds[0] is UserUttered and out.events[0].text.startswith("comedy")
    assert ItemMentioned in kinds
    answered = next(e for e in out.events if isinstance(e, QuestionAnswered))
    assert answered.liked == ("genre:comedy",) and answered.disliked == ("genre:horror",)

    out = events_of("I'll watch the first one")
    assert any(isinstance(e, ItemAccepted) and e.item_id == ID["Arrival"] for e in out.events)
    out = events_of("not the second one")
    assert any(isinstance(e, ItemRejected) and e.item_id == ID["Gattaca"] for e in out.events)
    out = events_of("why the second one?")
    assert [type(e) for e in out.events] == [UserUttered]  # the subject of a question is no preference

    out = events_of("anything")  # an answer without a preference
    assert out.answered_without_preference
    assert [type(e) for e in out.events] == [UserUttered, QuestionAnswered]

    out = events_of("something more recent")  # comparative: the year window moves past the shown median
    slot = next(e for e in out.events if isinstance(e, SlotSet))
    assert (slot.name, slot.value) == ("year_min", 2010)

    assert label("Too Long!") == "too_long" and label("9lives") == "d_9lives"


def _reference_explain(index: CatalogIndex, item, prefs: Preferences, provenance) -> str:
    """The template explanation as first written: seeds' names lower-cased again for every item."""
    from dialogue.nlg import _ROLES

    seeds = [index.item(i) for i in prefs.seed_items[:20]]
    person = None
    for field, verb in _ROLES:
        mine = {p.lower(): p for p in getattr(item, field)}
        for seed in seeds:
            common = [mine[p.lower()] for p in getattr(seed, field) if p.lower() in mine]
            if common and person is None:
                person = f"{verb} {join_words(common[:2])}, like {seed.title}."
        if person is not None:
            break
    reasons = [r for r in (person, TemplateExplainer(index)._liked_attributes(item, prefs)) if r]
    if not reasons:
        shared = TemplateExplainer._shared_genres(item, seeds)
        if shared:
            reasons.append(shared)
    if len(reasons) < 2:
        reasons.append(TemplateExplainer._generator(provenance, seeds))
    return " ".join(reasons[:2])


def test_explain_many_equals_the_reference_explanation_of_each_item(
    world: Catalog, world_index: CatalogIndex
) -> None:
    import random

    rng = random.Random(3)
    explainer = TemplateExplainer(world_index)
    attributes = sorted({a for i in range(len(world)) for a in world_index.item_attributes[i]})
    generators = ["itemknn", "ppr", "popularity", "als", "no-such-generator"]
    for _ in range(150):
        liked = rng.sample(range(len(world)), rng.randint(0, 4))
        prefs = Preferences.from_lists(liked, liked_attributes=rng.sample(attributes, rng.randint(0, 3)))
        items = [world[i] for i in rng.sample(range(len(world)), rng.randint(1, 6))]
        provs = [
            {g: Trace(rng.random(), rng.randint(1, 9)) for g in rng.sample(generators, rng.randint(0, 2))}
            for _ in items
        ]
        want = [_reference_explain(world_index, it, prefs, p) for it, p in zip(items, provs, strict=True)]
        got = explainer.explain_many(items, prefs, provs)
        assert [e.text for e in got] == want
        assert [explainer.explain(it, prefs, p) for it, p in zip(items, provs, strict=True)] == want


def test_a_subclass_explain_is_used_by_explain_many(world: Catalog, world_index: CatalogIndex) -> None:
    class Loud(TemplateExplainer):
        def explain(self, item, prefs, provenance) -> str:
            return super().explain(item, prefs, provenance).upper()

    got = Loud(world_index).explain_many([world[ID["Dunkirk"]]], prefs_liking("Interstellar"), [{}])
    assert got[0].text.startswith("DIRECTED BY CHRISTOPHER NOLAN, LIKE INTERSTELLAR.")
