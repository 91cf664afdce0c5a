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
