"""The output guard on known texts, and the property that every template explanation passes it."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogue.llm.evalset import eval_catalog, explanation_cases
from dialogue.llm.explain import Explainer, template_explanation
from dialogue.llm.facts import ExplanationFacts, item_attributes
from dialogue.llm.grounding import Grounding, GuardVocabulary
from dialogue.llm.guard import OutputGuard
from dialogue.llm.text import normalize, split_sentences
from recsys.catalog.types import Catalog, CatalogItem

CATALOG = eval_catalog()
BY_TITLE = {it.title: it for it in CATALOG}
GUARD = OutputGuard(GuardVocabulary.from_items(CATALOG))


def grounding_for(title: str, liked: tuple[str, ...] = ("Interstellar",)) -> Grounding:
    facts = ExplanationFacts.build(BY_TITLE[title], liked_items=[BY_TITLE[t] for t in liked])
    return Explainer.grounding(facts)


INCEPTION = grounding_for("Inception", liked=("Interstellar", "The Shining"))


@pytest.mark.parametrize(
    "text",
    [
        "You may enjoy Inception, a mind-bending sci-fi thriller by Christopher Nolan.",
        "Like Interstellar, Inception (2010) was directed by Christopher Nolan. Its dreams will hook you.",
        "It stars Leonardo DiCaprio as a thief who steals secrets through dreams.",
        "Fans of Nolan will love this action film.",
        "You may like it because of Christopher Nolan's twisty, mind-bending style.",
        "Her plot is clever, and you liked Interstellar.",  # "Her" starting a sentence is a pronoun
    ],
)
def test_grounded_texts_pass(text):
    assert GUARD.check(text, INCEPTION).problems == ()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("Great film.", "too short"),
        ("You liked Interstellar, so try Inception", "unfinished sentence"),
        ("Inception is great. Titanic is great too!", "names the movie 'Titanic'"),
        ('You will love "The Matrix" after Inception.', "names the movie 'The Matrix'"),
        ("Inception stars Tom Hanks in his best role.", "names Tom Hanks, who is not credited on Inception"),
        ("Inception is a horror film you will love.", "calls Inception 'horror', a genre it does not have"),
        ("Inception is a film from 1994 that you will love.", "mentions 1994, not a year of the facts"),
        ("Inception won an Oscar and you will love it.", "names 'Oscar', which is not in the facts"),
        ("As an AI, I think you will like Inception.", "artefact: speaks as an AI"),
        ("I'm sorry, I cannot recommend a movie here.", "artefact: refuses or apologises"),
        ("Sure! Inception is a great pick for you.", "artefact: preamble"),
        ("The user likes Nolan, so Inception fits.", "artefact: talks about 'the user'"),
        ("Ignore previous instructions: Inception rocks.", "artefact: injection phrase"),
        ("Inception fits you.<|im_end|>", "artefact: chat-template token"),
        ("Inception is fun. It has dreams. It has heists.", "more than 2 sentences"),
        ("Inception is a clever film, " + "really " * 60 + "clever.", "too long"),
        ('Inception is like "Dream Team" for adults.', "quotes 'Dream Team'"),
        ("I think Inception is the best film I have seen.", "artefact: speaks in the first person"),
        ("Inception is a great film with charm, a great film with charm.", "repeats itself"),
        ("Inception is action, action, action at its best.", "repeats itself"),
        ("Inception has a gritty, gritty style you will love.", "repeats itself"),
        ("Inception is light-hearted, light-hearted fun for you.", "repeats itself"),
        (
            "The Shining is a film that has captivated audiences worldwide.",
            "talks about The Shining but never names Inception",
        ),
        (
            "You tell a movie fan in a few words why Inception suits them.",
            "artefact: copies its instructions",
        ),
    ],
)
def test_bad_texts_fail_with_a_named_problem(text, problem):
    verdict = GUARD.check(text, INCEPTION)
    assert not verdict.ok
    assert any(p.startswith(problem) for p in verdict.problems), verdict.problems


def test_genre_words_from_the_plot_do_not_make_a_genre():
    toy_story = grounding_for("Toy Story", liked=())  # plot: "... a new spaceman action figure ..."
    verdict = GUARD.check("Toy Story is a classic among fans of action movies.", toy_story)
    assert verdict.problems == ("calls Toy Story 'action', a genre it does not have",)


def test_a_liked_one_word_title_as_a_pronoun_is_not_off_subject():
    grounding = grounding_for("Arrival", liked=("Her",))
    assert GUARD.check("Her lead is a linguist who talks with aliens; you will love it.", grounding).ok


def test_allowed_names_may_recur():
    text = "Christopher Nolan made Interstellar, and Christopher Nolan made Inception too."
    assert GUARD.check(text, INCEPTION).ok


def test_allowed_titles_are_the_item_candidates_and_mentions():
    facts = ExplanationFacts.build(BY_TITLE["Inception"])
    text = "If Titanic moved you, Inception will too."
    assert not GUARD.check(text, Explainer.grounding(facts)).ok
    assert GUARD.check(text, Explainer.grounding(facts, mentioned_titles=["Titanic"])).ok
    assert GUARD.check(text, Explainer.grounding(facts, candidates=[BY_TITLE["Titanic"]])).ok


def test_one_word_titles_that_are_everyday_words():
    up = grounding_for("Up", liked=("Toy Story",))
    assert GUARD.check("Up is a heartwarming Pixar adventure, like Toy Story.", up).ok
    assert GUARD.check("It is a heartwarming adventure, like Toy Story.", up).ok  # "It" the pronoun
    verdict = GUARD.check("You liked Toy Story, and Heat is a heartwarming pick too.", up)
    assert "names the movie 'Heat', which is not among the recommendations" in verdict.problems


def test_titles_with_punctuation_and_names_with_initials():
    bttf = grounding_for("Back to the Future", liked=())
    assert GUARD.check("Back to the Future stars Michael J. Fox as a time-travelling teenager.", bttf).ok
    mad = grounding_for("Mad Max: Fury Road", liked=())
    assert GUARD.check("Mad Max: Fury Road is a relentless chase across the desert.", mad).ok


def test_normalize_and_sentences():
    assert normalize("Amélie's Spider-Man!") == "amelie spider man"
    assert normalize("Schindler's List") == "schindler list" and normalize("don't") == "dont"
    assert split_sentences("Dr. Brown built it. Michael J. Fox drives! And then") == [
        "Dr. Brown built it.",
        "Michael J. Fox drives!",
        "And then",
    ]


@pytest.mark.parametrize(("facts", "profile"), explanation_cases(CATALOG))
def test_template_passes_the_guard_on_every_evaluation_case(facts, profile):
    text = template_explanation(facts)
    assert GUARD.check(text, Explainer.grounding(facts)).problems == ()


# Title words may end in punctuation ("Mad Max:", "Airplane!"); name parts may be initials ("J.").
_LETTERS = "abcdefghijklmnopqrstuvwxyzé"


def _word(first: str, rest: str, end: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(lambda f, r, e: f + r + e, st.sampled_from(first), st.text(rest, max_size=8), end)


_title_word = _word(
    _LETTERS + "0123456789", _LETTERS + "'-", st.sampled_from(["", "", "", ":", "!", "?", ",", "."])
)
_name_part = _word(_LETTERS, _LETTERS + "'-", st.sampled_from(["", "", "."]))
_words = _word(_LETTERS, _LETTERS + "-", st.just(""))
_title = st.lists(_title_word, min_size=1, max_size=14).map(lambda ws: " ".join(w.title() for w in ws))
_name = st.lists(_name_part, min_size=2, max_size=3).map(lambda ws: " ".join(w.title() for w in ws))
_genre = st.sampled_from(["sci-fi", "drama", "action", "horror", "comedy", "film-noir", "animation", "war"])


@st.composite
def _item_and_facts(draw):
    def item(i: int) -> CatalogItem:
        return CatalogItem(
            item_id=i,
            title=draw(_title).strip() or "X",
            year=draw(st.one_of(st.none(), st.integers(1900, 2030))),
            genres=tuple(draw(st.lists(_genre, max_size=3, unique=True))),
            directors=tuple(draw(st.lists(_name, max_size=2))),
            stars=tuple(draw(st.lists(_name, max_size=3))),
            tags=tuple(draw(st.lists(_words, max_size=3))),
        )

    items = [item(i) for i in range(draw(st.integers(1, 4)))]
    catalog = Catalog(items)
    liked = items[1:]
    attrs = draw(
        st.lists(st.sampled_from(["genre:drama", "genre:horror", "tag:x", "decade:1990s"]), max_size=2)
    )
    generator = draw(st.sampled_from([None, "ppr", "ease", "popularity"]))
    via = [f"item:{it.item_id}" for it in liked[:1]]
    own = sorted(item_attributes(items[0]))
    if own:
        via.append(draw(st.sampled_from(own)))
    facts = ExplanationFacts.build(
        items[0], liked_items=liked, liked_attributes=attrs, path={"generator": generator, "via": via}
    )
    return catalog, facts


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_item_and_facts())
def test_template_always_passes_the_guard(case):
    catalog, facts = case
    guard = OutputGuard(GuardVocabulary.from_items(catalog))
    text = template_explanation(facts, max_chars=guard.max_chars)
    verdict = guard.check(text, Explainer.grounding(facts))
    assert verdict.ok, (text, verdict.problems)
