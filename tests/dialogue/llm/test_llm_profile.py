"""Profile text from typed preferences (template and scripted LLM), and the rule-based parser back."""

from __future__ import annotations

import pytest

from dialogue.llm.evalset import eval_catalog
from dialogue.llm.facts import item_attributes
from dialogue.llm.grounding import GuardVocabulary
from dialogue.llm.guard import OutputGuard
from dialogue.llm.profile_parse import AttributeVocabulary, liked_part, profile_to_preferences
from dialogue.llm.profile_text import (
    ProfileWriter,
    TypedPreferences,
    attribute_display,
    clean_profile,
    consistency_problems,
    template_profile,
)
from dialogue.llm.runtime import LLMConfig, LLMRuntime
from dialogue.llm.testing import ScriptedModel

CATALOG = eval_catalog()
BY_TITLE = {it.title: it for it in CATALOG}
GUARD = OutputGuard(GuardVocabulary.from_items(CATALOG), max_chars=220)
VOCAB = AttributeVocabulary(
    sorted({a for it in CATALOG for a in item_attributes(it)} | {"director:tom hanks"})
)

PREFS = TypedPreferences(
    liked_items=(BY_TITLE["Arrival"], BY_TITLE["Interstellar"]),
    disliked_items=(BY_TITLE["It"],),
    liked_attributes=("tag:slow-burn", "genre:sci-fi", "director:denis villeneuve"),
    disliked_attributes=("tag:gore",),
    utterances=("I loved Arrival", "nothing gory please"),
)


def writer(answer: str) -> tuple[ProfileWriter, ScriptedModel]:
    model = ScriptedModel(answer)
    return ProfileWriter(LLMRuntime(LLMConfig(model="scripted"), model=model), GUARD), model


def test_template_profile():
    assert template_profile(PREFS) == (
        "Likes slow-burn, sci-fi and Denis Villeneuve (liked Arrival and Interstellar); dislikes gore; "
        "did not enjoy It."
    )
    assert template_profile(TypedPreferences()) == "No preferences yet."
    only_items = TypedPreferences(liked_items=(BY_TITLE["Heat"],))
    assert template_profile(only_items) == "Liked Heat."
    assert len(template_profile(PREFS, max_chars=80)) <= 80


def test_template_profile_passes_the_guard_and_reads_back_consistently():
    for prefs in (
        PREFS,
        TypedPreferences(liked_items=(BY_TITLE["Up"],), disliked_attributes=("genre:horror",)),
    ):
        assert GUARD.check(template_profile(prefs), ProfileWriter.grounding(prefs)).ok
        assert consistency_problems(template_profile(prefs), prefs) == ()


def test_attribute_display_prefers_the_credited_spelling():
    assert attribute_display("director:denis villeneuve", [BY_TITLE["Arrival"]]) == "Denis Villeneuve"
    assert attribute_display("star:someone new") == "Someone New"
    assert attribute_display("genre:sci-fi") == "sci-fi"


def test_clean_profile():
    assert clean_profile('Profile: "The user loves slow-burn sci-fi."') == "Loves slow-burn sci-fi."
    assert clean_profile("This fan's taste is broad.") == "Taste is broad."


def test_llm_profile_is_used_when_grounded():
    w, model = writer("slow-burn sci-fi and Denis Villeneuve; finds gore off-putting.")
    result = w.write(PREFS)
    assert result.source == "llm"
    assert result.text == "Loves slow-burn sci-fi and Denis Villeneuve; finds gore off-putting."
    user = model.prompts[0].user
    assert "liked movies: Arrival, Interstellar" in user and "dislikes: gore" in user
    assert 'their own words: "I loved Arrival" / "nothing gory please"' in user
    assert model.prompts[0].answer_prefix == "Loves"


def test_llm_profile_naming_other_people_falls_back():
    w, _ = writer("Tom Hanks comedies.")
    result = w.write(PREFS)
    assert result.source == "template" and result.fallback == "guard"
    assert any("Tom Hanks" in p for p in result.problems)
    assert result.text == template_profile(PREFS)


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("gore and slashers like It.", "says they like tag:gore, which they dislike"),
        ("sci-fi but avoids anything slow-burn.", "says they dislike tag:slow-burn, which they like"),
        ("good movies with nice stories.", "names none of their preferences"),
        ("to love gore, and avoids gore.", "says they like tag:gore, which they dislike"),
        ("Denis Villeneuve, and avoids him.", "says something that is not a preference: 'and avoids him'"),
    ],
)
def test_llm_profile_contradicting_the_preferences_falls_back(answer, problem):
    w, _ = writer(answer)
    result = w.write(PREFS)
    assert result.source == "template" and problem in result.problems


def test_profile_of_dislikes_only_starts_with_avoids():
    prefs = TypedPreferences(disliked_attributes=("genre:horror",))
    w, model = writer("horror of any kind.")
    result = w.write(prefs)
    assert model.prompts[0].answer_prefix == "Avoids"
    assert result.source == "llm" and result.text == "Avoids horror of any kind."


def test_empty_preferences_and_no_runtime():
    w, model = writer("Loves everything.")
    assert w.write(TypedPreferences()).fallback == "empty" and model.prompts == []
    assert ProfileWriter(None, GUARD).write(PREFS).text == template_profile(PREFS)


@pytest.mark.parametrize(
    ("text", "liked", "disliked"),
    [
        ("no horror", (), ("genre:horror",)),
        ("I love Tom Hanks", ("star:tom hanks", "director:tom hanks"), ()),
        ("I love movies directed by Tom Hanks", ("director:tom hanks",), ()),
        (
            "Loves slow-burn sci-fi and Denis Villeneuve; finds gore off-putting",
            ("tag:slow-burn", "genre:sci-fi", "director:denis villeneuve"),
            ("tag:gore",),
        ),
        ("I don't like horror but I love comedies", ("genre:comedy",), ("genre:horror",)),
        (
            "I love sci-fi, thrillers and Nolan",
            ("genre:sci-fi", "genre:thriller", "director:christopher nolan"),
            (),
        ),
        ("Nolan is great, horror is boring", ("director:christopher nolan",), ("genre:horror",)),
        ("more 90s crime please", ("decade:1990s", "genre:crime"), ()),
        ("less gore, more heist movies", ("tag:heist",), ("tag:gore",)),
        ("science fiction yes. No more romance!", ("genre:sci-fi",), ("genre:romance",)),
        ("I love horror. Actually, no horror.", (), ("genre:horror",)),  # the later mention wins
    ],
)
def test_profile_to_preferences(text, liked, disliked):
    edit = profile_to_preferences(text, VOCAB)
    assert sorted(edit.liked) == sorted(liked)
    assert sorted(edit.disliked) == sorted(disliked)


def test_unmatched_clauses_are_reported_not_dropped():
    edit = profile_to_preferences("I love sci-fi, and musicals too. Something for a rainy day", VOCAB)
    assert edit.liked == ("genre:sci-fi",)
    assert edit.unmatched == ("and musicals too", "Something for a rainy day")


def test_lower_case_surname_is_not_a_person():
    assert profile_to_preferences("I love Nolan", VOCAB).liked == ("director:christopher nolan",)
    assert profile_to_preferences("something to watch now", VOCAB).liked == ()


def test_parser_accepts_a_plain_attribute_list():
    edit = profile_to_preferences("no horror", ["genre:horror", "genre:comedy"])
    assert edit.disliked == ("genre:horror",) and edit.mentions[0].phrase == "horror"


def test_round_trip_template_profile():
    edit = profile_to_preferences(template_profile(PREFS), VOCAB)
    assert set(PREFS.liked_attributes) <= set(edit.liked)
    assert set(PREFS.disliked_attributes) <= set(edit.disliked)


def test_liked_part_keeps_only_the_clauses_that_say_what_the_user_likes():
    assert liked_part("Loves slow-burn sci-fi and Denis Villeneuve; finds gore off-putting.") == (
        "Loves slow-burn sci-fi and Denis Villeneuve"
    )
    assert liked_part("Liked Arrival and Interstellar; dislikes horror.") == "Liked Arrival and Interstellar"
    assert liked_part("No horror. I love war movies.") == "I love war movies"
    assert liked_part("Likes comedy (liked Superbad), but not romance") == "Likes comedy (liked Superbad)"
    assert liked_part("I don't like musicals") == ""


def test_a_profile_contradicting_the_liked_or_disliked_movies_is_rejected():
    t = {item.title: item for item in eval_catalog()}
    prefs = TypedPreferences(liked_items=(t["Up"], t["Toy Story"]), disliked_items=(t["Titanic"],))
    assert consistency_problems("Loves Up and dislikes Toy Story.", prefs) == (
        "says they dislike 'toy story', a movie they liked",
    )
    assert consistency_problems("Loves Titanic and Up.", prefs) == (
        "says they like 'titanic', a movie they disliked",
    )
    assert consistency_problems("Loves Up and Toy Story; did not enjoy Titanic.", prefs) == ()
