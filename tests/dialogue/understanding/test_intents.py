"""Intent detection, with and without the dialogue context."""

from __future__ import annotations

import pytest

from dialogue.understanding import DialogueContext, Intent, RuleExtractor

I = Intent  # noqa: E741


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("can you recommend a comedy?", I.REQUEST_RECOMMENDATION),
        ("what should I watch tonight?", I.REQUEST_RECOMMENDATION),
        ("any suggestions?", I.REQUEST_RECOMMENDATION),
        ("I'm looking for a good thriller", I.REQUEST_RECOMMENDATION),
        ("horror please", I.REQUEST_RECOMMENDATION),
        ("I love comedies", I.STATE_PREFERENCE),
        ("I hated Crash", I.STATE_PREFERENCE),
        ("inception", I.STATE_PREFERENCE),
        ("less violent", I.CRITIQUE),
        ("something more recent", I.CRITIQUE),
        ("Like Superbad but funnier", I.CRITIQUE),
        ("why did you pick that?", I.ASK_WHY),
        ("what is Inception about?", I.ASK_ABOUT_ITEM),
        ("who is in Heat?", I.ASK_ABOUT_ITEM),
        ("have you seen star wars?", I.ASK_ABOUT_ITEM),
        ("hi", I.CHIT_CHAT),
        ("how are you?", I.CHIT_CHAT),
        ("bye", I.GOODBYE),
        ("thanks, that's all", I.GOODBYE),
        ("Thank you for all the suggestions!", I.GOODBYE),
        ("I'll watch that", I.ACCEPT),
        ("sounds great, thanks", I.ACCEPT),
        ("no, not that", I.REJECT),
        ("no horror or thrillers", I.STATE_PREFERENCE),  # "no" qualifies horror: not a refusal
        ("No, I haven't seen it", I.STATE_PREFERENCE),  # an answer about a movie, not a refusal
    ],
)
def test_intents_without_context(extractor: RuleExtractor, text: str, intent: Intent) -> None:
    assert extractor.extract(text).intent is intent


@pytest.fixture
def shown(ids) -> DialogueContext:
    return DialogueContext(last_recommended=(ids["Heat (1995)"], ids["Taken (2008)"]))


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("I've seen the first one", I.REJECT),
        ("seen them both", I.REJECT),
        ("I don't like the second one", I.REJECT),
        ("something else please", I.REJECT),
        ("Hmm, other ones please.", I.REJECT),
        ("Not really what I want.", I.REJECT),
        ("No, none of those. Something else?", I.REJECT),
        ("show me others", I.REJECT),
        ("the second one sounds good", I.ACCEPT),
        ("yes", I.ACCEPT),
        ("ok great, I'll add it to my list", I.ACCEPT),
        ("why the first one?", I.ASK_WHY),
        ("who is in the second one?", I.ASK_ABOUT_ITEM),
        ("something lighter", I.CRITIQUE),
        ("Neither, I want something funnier", I.CRITIQUE),
        ("thanks, bye!", I.GOODBYE),
    ],
)
def test_intents_after_a_recommendation(extractor: RuleExtractor, shown: DialogueContext, text: str, intent):
    assert extractor.extract(text, shown).intent is intent


def test_asking_for_other_ones_is_a_refusal_only_after_recommendations(extractor: RuleExtractor, shown):
    assert extractor.extract("Hmm, other ones please.").intent is not I.REJECT
    assert extractor.extract("Hmm, other ones please.", shown).intent is I.REJECT


def test_seen_them_all_is_a_refusal_only_after_recommendations(extractor: RuleExtractor, shown) -> None:
    text = "No more Adam Sandler movies, I've seen them all"
    assert extractor.extract(text).intent is I.STATE_PREFERENCE
    assert extractor.extract(text, shown).intent is I.REJECT


def test_every_detected_intent_is_listed_primary_first(extractor: RuleExtractor) -> None:
    u = extractor.extract("Great, I'll watch Inception. Bye!")
    assert u.intent is I.GOODBYE
    assert I.ACCEPT in u.intents and u.intents[0] is u.intent
    u = extractor.extract("Hi! I'm looking for a good comedy, I liked @100044")
    assert u.intents[:2] == (I.REQUEST_RECOMMENDATION, I.STATE_PREFERENCE)
