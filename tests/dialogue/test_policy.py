"""The dialogue policy's choices on constructed states, the question's entropy, and preset loading."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

from dialogue.catalog_index import CatalogIndex
from dialogue.policy import (
    PRESETS,
    Action,
    Policy,
    PolicyConfig,
    PolicyInput,
    answer_entropy,
    choose_question,
    load_policy,
)
from dialogue.preferences import Preferences
from dialogue.state import (
    AttributePreferred,
    Event,
    ItemMentioned,
    ItemsRecommended,
    QuestionAsked,
    SessionStarted,
)
from dialogue.state.state import DialogueState
from dialogue.understanding.types import AttributeMention, Intent, ItemMention, Polarity, Understanding
from recsys.errors import ConfigError

# Candidates for questions: 8 movies, genres split evenly in four, all from the 1990s (decade: no split).
ATTRS: dict[int, tuple[str, ...]] = {
    i: (f"genre:{('comedy', 'drama', 'horror', 'sci-fi')[i % 4]}", "decade:1990s") for i in range(8)
}


def state_of(*events: Event) -> DialogueState:
    return DialogueState.start(SessionStarted("s1")).apply_all(events)


def said(
    intent: Intent, items: Sequence[ItemMention] = (), attributes: Sequence[AttributeMention] = ()
) -> Understanding:
    return Understanding(
        intent=intent, items=tuple(items), attributes=tuple(attributes), text="...", intents=(intent,)
    )


def decide(
    policy: Policy,
    state: DialogueState,
    u: Understanding,
    attrs: dict[int, tuple[str, ...]] = ATTRS,
    **kw: bool,
):
    calls: list[int] = []

    def candidates() -> list[int]:
        calls.append(1)
        return list(attrs)

    def attributes_of(item: int) -> Iterable[str]:
        return attrs[item]

    decision = policy.decide(
        PolicyInput(state, Preferences.from_state(state), u, candidates, attributes_of, **kw)
    )
    return decision, calls


def test_asks_when_the_state_is_empty_and_picks_the_kind_that_splits_candidates() -> None:
    decision, calls = decide(Policy("default"), state_of(), said(Intent.CHIT_CHAT))
    assert decision.action is Action.ASK
    assert decision.question is not None
    assert decision.question.attribute_kind == "genre"  # decade does not split: all 1990s
    assert set(decision.question.options) == {"genre:comedy", "genre:drama", "genre:horror", "genre:sci-fi"}
    assert decision.question.entropy == pytest.approx(2.0)  # four equally likely answers
    assert calls == [1]


def test_asks_the_decade_when_genres_do_not_split() -> None:
    attrs = {i: ("genre:drama", f"decade:{1960 + 10 * (i % 4)}s") for i in range(8)}
    decision, _ = decide(Policy("default"), state_of(), said(Intent.REQUEST_RECOMMENDATION), attrs)
    assert decision.action is Action.ASK
    assert decision.question is not None and decision.question.attribute_kind == "decade"


def test_recommends_after_a_like_without_looking_at_candidates() -> None:
    state = state_of(ItemMentioned(item_id=3, polarity="liked", turn=1))
    decision, calls = decide(Policy("default"), state, said(Intent.STATE_PREFERENCE))
    assert decision.action is Action.RECOMMEND
    assert calls == []  # no question considered: no candidate ranking spent


def test_two_liked_attributes_are_enough_signal_one_is_not() -> None:
    attrs = {i: (f"genre:{('comedy', 'drama')[i % 2]}", f"decade:{1970 + 10 * (i % 3)}s") for i in range(9)}
    one = state_of(AttributePreferred(attribute="genre:comedy", polarity="liked", turn=1))
    decision, _ = decide(Policy("default"), one, said(Intent.STATE_PREFERENCE), attrs)
    assert decision.action is Action.ASK
    assert decision.question is not None and decision.question.attribute_kind == "decade"  # genre is known
    two = one.copy().apply(AttributePreferred(attribute="decade:1990s", polarity="liked", turn=1))
    assert decide(Policy("default"), two, said(Intent.STATE_PREFERENCE))[0].action is Action.RECOMMEND


def test_stops_asking_after_max_questions_and_never_repeats_a_kind() -> None:
    asked = state_of(
        QuestionAsked(turn=1, attribute_kind="genre"), QuestionAsked(turn=2, attribute_kind="decade")
    )
    decision, _ = decide(Policy("default"), asked, said(Intent.STATE_PREFERENCE))
    assert decision.action is Action.RECOMMEND
    curious = Policy("curious")  # 3 questions: genre and decade are taken, neither splits director/star here
    decision, _ = decide(curious, asked, said(Intent.STATE_PREFERENCE))
    assert decision.action is Action.RECOMMEND


def test_recommends_when_the_user_insists_or_has_no_preference() -> None:
    asked = state_of(QuestionAsked(turn=1, attribute_kind="genre"))
    decision, _ = decide(Policy("default"), asked, said(Intent.REQUEST_RECOMMENDATION))
    assert decision.action is Action.RECOMMEND and "now" in decision.reason
    decision, _ = decide(Policy("default"), asked, said(Intent.CHIT_CHAT), answered_without_preference=True)
    assert decision.action is Action.RECOMMEND


def test_explains_the_referenced_or_all_shown_items_on_ask_why() -> None:
    state = state_of(
        ItemMentioned(item_id=1, polarity="liked", turn=1),
        ItemsRecommended(turn=1, item_ids=(5, 6, 7), scores=(3.0, 2.0, 1.0)),
    )
    second = ItemMention(6, Polarity.NEUTRAL, 4, 14, "the second", 0.9, "reference")
    decision, _ = decide(Policy("default"), state, said(Intent.ASK_WHY, [second]))
    assert decision.action is Action.EXPLAIN and decision.targets == (6,)
    decision, _ = decide(Policy("default"), state, said(Intent.ASK_WHY))
    assert decision.targets == (5, 6, 7)


def test_answers_about_a_named_movie_and_says_goodbye() -> None:
    heat = ItemMention(9, Polarity.NEUTRAL, 0, 4, "Heat", 1.0, "title")
    decision, _ = decide(Policy("default"), state_of(), said(Intent.ASK_ABOUT_ITEM, [heat]))
    assert decision.action is Action.ANSWER and decision.targets == (9,)
    assert decide(Policy("default"), state_of(), said(Intent.GOODBYE))[0].action is Action.GOODBYE


def test_acceptance_is_acknowledged_not_answered_with_more_items() -> None:
    state = state_of(ItemsRecommended(turn=1, item_ids=(5, 6), scores=(1.0, 0.5)))
    first = ItemMention(5, Polarity.NEUTRAL, 0, 9, "the first", 0.95, "reference")
    decision, calls = decide(Policy("default"), state, said(Intent.ACCEPT, [first]))
    assert decision.action is Action.CHITCHAT and decision.targets == (5,) and calls == []
    decision, _ = decide(Policy("default"), state, said(Intent.ACCEPT))  # "thanks!"
    assert decision.action is Action.CHITCHAT and decision.targets == ()


def test_popularity_preset_never_asks() -> None:
    policy = Policy("popularity")
    for intent in (Intent.CHIT_CHAT, Intent.REQUEST_RECOMMENDATION, Intent.STATE_PREFERENCE):
        decision, calls = decide(policy, state_of(), said(intent))
        assert decision.action is Action.RECOMMEND
        assert calls == []
    assert policy.config.ranking_mode == "popularity"
    assert decide(Policy("eager"), state_of(), said(Intent.CHIT_CHAT))[0].action is Action.CHITCHAT


def test_answer_entropy_and_question_choice_on_known_distributions() -> None:
    assert answer_entropy([["a"], ["b"]], ["a", "b"]) == pytest.approx(1.0)
    assert answer_entropy([["a"], ["a"], ["x"], ["x"]], ["a", "b"]) == pytest.approx(1.0)  # a vs other
    assert answer_entropy([["a", "b"], ["a", "b"]], ["a", "b"]) == pytest.approx(1.0)  # shared mass
    three = answer_entropy([["a"], ["b"], ["c"]], ["a", "b", "c"])
    assert three == pytest.approx(math.log2(3))
    plan = choose_question([0, 1], lambda i: ATTRS[i], ["decade"])
    assert plan is None  # one value: nothing to choose between
    plan = choose_question(list(ATTRS), lambda i: ATTRS[i], ["genre"], n_options=2, exclude={"genre:comedy"})
    assert plan is not None and plan.options == ("genre:drama", "genre:horror")  # most frequent, by name


def test_presets_and_files(tmp_path: Path) -> None:
    assert load_policy("default") is PRESETS["default"]
    assert load_policy(None).name == "default"
    with pytest.raises(ConfigError, match=r"unknown policy 'chatty'.*default, eager, curious, popularity"):
        load_policy("chatty")
    toml = tmp_path / "ab.toml"
    toml.write_text('preset = "curious"\nk = 8\n[ranking]\ncritique_penalty = 0.9\n')
    config = load_policy(toml)
    assert (config.name, config.k, config.max_questions, config.ranking.critique_penalty) == ("ab", 8, 3, 0.9)
    js = tmp_path / "fast.json"
    js.write_text(json.dumps({"max_questions": 0, "fusion_weights": {"ppr": 2.0}}))
    assert load_policy(js).fusion_weights == {"ppr": 2.0}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"max_questions": -1, "colour": "red"}))
    with pytest.raises(ConfigError, match=r"bad.json: invalid policy: max_questions.*colour"):
        load_policy(bad)
    broken = tmp_path / "broken.toml"
    broken.write_text("k = ")
    with pytest.raises(ConfigError, match="cannot read policy file"):
        load_policy(broken)
    with pytest.raises(ValueError, match=r"unknown attribute kinds \['mood'\]"):
        PolicyConfig(question_kinds=("mood",))


def _reference_choose_question(
    candidates: Sequence[int],
    attributes_of: dict[int, list[str]],
    kinds: Sequence[str],
    n_options: int,
    exclude: set[str],
) -> tuple[str, tuple[str, ...], float] | None:
    """The straightforward per-kind scan the one-pass grouping in choose_question must reproduce."""
    from collections import Counter

    per_item = [list(attributes_of[i]) for i in candidates]
    best = None
    for kind in kinds:
        values = [[a for a in al if a.startswith(f"{kind}:") and a not in exclude] for al in per_item]
        counts = Counter(a for vals in values for a in vals)
        options = tuple(a for a, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n_options])
        if len(options) < 2:
            continue
        entropy = answer_entropy(values, options)
        if best is None or entropy > best[2] + 1e-12:
            best = (kind, options, entropy)
    return best


def test_choose_question_matches_the_per_kind_scan_on_random_catalogs() -> None:
    import random

    rng = random.Random(7)
    pool = [f"{k}:{v}" for k in ("genre", "decade", "director", "star", "tag") for v in "abcdefg"]
    pool += ["genre", "weird:", ":odd", "genre:x:y"]  # malformed names must be treated the same way
    kinds_pool = ["genre", "decade", "director", "star", "tag", "mood"]
    for _ in range(300):
        items = {i: rng.sample(pool, rng.randint(0, 8)) for i in range(rng.randint(0, 25))}
        candidates = list(items)
        kinds = rng.sample(kinds_pool, rng.randint(1, len(kinds_pool)))
        exclude = set(rng.sample(pool, rng.randint(0, 4)))
        n_options = rng.randint(1, 5)
        got = choose_question(candidates, items.__getitem__, kinds, n_options=n_options, exclude=exclude)
        want = _reference_choose_question(candidates, items, kinds, n_options, exclude)
        assert (got.attribute_kind, got.options, got.entropy) == want if got else want is None


def test_choose_question_with_a_kind_containing_a_colon_uses_its_prefix() -> None:
    items = {0: ["tag:x:1", "tag:x:2"], 1: ["tag:x:2"], 2: ["tag:x:1", "tag:y"], 3: ["genre:a"]}
    got = choose_question(list(items), items.__getitem__, ["tag:x"], n_options=3)
    want = _reference_choose_question(list(items), items, ["tag:x"], 3, set())
    assert got is not None and want is not None
    assert (got.attribute_kind, got.options, got.entropy) == want
    assert got.options == ("tag:x:1", "tag:x:2")


def _grouped(attrs: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Attributes grouped by the text before the first ":" (names without one left out), in order."""
    out: dict[str, list[str]] = {}
    for a in attrs:
        kind, sep, _ = a.partition(":")
        if sep:
            out.setdefault(kind, []).append(a)
    return {k: tuple(v) for k, v in out.items()}


def test_choose_question_from_grouped_attributes_matches_the_per_kind_scan() -> None:
    """The fast path (attributes already grouped by kind, as the manager passes them) gives the same
    question, options and entropy as the scan over every attribute, on random catalogs."""
    import random

    rng = random.Random(11)
    pool = [f"{k}:{v}" for k in ("genre", "decade", "director", "star", "tag") for v in "abcdefg"]
    pool += ["genre", "weird:", ":odd", "genre:x:y"]
    kinds_pool = ["genre", "decade", "director", "star", "tag", "mood"]
    for _ in range(300):
        items = {i: rng.sample(pool, rng.randint(0, 8)) for i in range(rng.randint(0, 25))}
        grouped = {i: _grouped(a) for i, a in items.items()}
        kinds = rng.sample(kinds_pool, rng.randint(1, len(kinds_pool)))
        exclude = set(rng.sample(pool, rng.randint(0, 4))) if rng.random() < 0.5 else set()
        n_options = rng.randint(1, 5)
        got = choose_question(
            list(items), items.__getitem__, kinds, n_options=n_options, exclude=exclude,
            attributes_by_kind=grouped.__getitem__,
        )  # fmt: skip
        want = _reference_choose_question(list(items), items, kinds, n_options, exclude)
        assert (got.attribute_kind, got.options, got.entropy) == want if got else want is None
    # a kind with a colon is a prefix, not a group: the grouped attributes are not used for it
    items = {0: ["tag:x:1", "tag:x:2"], 1: ["tag:x:2"], 2: ["tag:x:1", "tag:y"]}
    got = choose_question(
        list(items), items.__getitem__, ["tag:x"], n_options=3, attributes_by_kind=lambda i: {}
    )
    assert got is not None and got.options == ("tag:x:1", "tag:x:2")


def test_the_catalog_index_groups_each_items_attributes_by_kind(world_index: CatalogIndex) -> None:
    for item in range(len(world_index)):
        attrs = world_index.item_attributes[item]
        grouped = world_index.attributes_by_kind(item)
        assert grouped == _grouped(attrs)  # same groups, each in the iteration order of the set
        assert world_index.attributes_by_kind(item) is grouped  # built once
    matrix = world_index.item(0).title
    assert matrix == "The Matrix"
    assert world_index.attributes_by_kind(0)["genre"] == tuple(
        a for a in world_index.item_attributes[0] if a.startswith("genre:")
    )
    assert set(world_index.attributes_by_kind(0)["director"]) == {"director:lana wachowski"}


def test_cached_preference_views_match_a_fresh_computation_and_keep_equality() -> None:
    prefs = Preferences(
        liked_items=(3, 1),
        reference_items=(1, 7),
        accepted_items=(9,),
        profile_liked_items=(7, 2),
        liked_attributes=("genre:drama", "decade:1990s"),
        profile_liked_attributes=("decade:1990s", "star:x"),
    )
    twin = Preferences(**{f: getattr(prefs, f) for f in prefs.__dataclass_fields__})
    assert prefs.seed_items == (3, 1, 7, 9, 2) and prefs.n_liked_items == 5
    assert prefs.all_liked_attributes == ("genre:drama", "decade:1990s", "star:x")
    assert prefs.seed_items is prefs.seed_items  # computed once
    assert prefs == twin and hash(prefs) == hash(twin)  # the cache is not part of the value
