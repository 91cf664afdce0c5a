"""Context -> query: message understanding in order, profiles and the repeat boost, with known values."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from dialogue.understanding.types import (
    AttributeMention,
    DialogueContext,
    Intent,
    ItemMention,
    Polarity,
    Understanding,
)
from recsys.catalog.types import Catalog, CatalogItem
from recsys.data.redial import mention_spans
from recsys.data.types import Dialogue, Message
from recsys.errors import ValidationError
from recsys.eval.redial_context import (
    AttributeEvent,
    BoostConfig,
    ContextEncoder,
    ContextQuery,
    MentionEvent,
    ProfileConfig,
    build_profile,
    repeat_boost,
)
from recsys.eval.redial_samples import extract_samples

CATALOG = Catalog([CatalogItem(i, f"Movie {i}", redial_id=100 + i) for i in range(6)])
L, D, S, N = Polarity.LIKED, Polarity.DISLIKED, Polarity.SEEN, Polarity.NEUTRAL


def _dialogue(texts: list[tuple[bool, str]]) -> Dialogue:
    messages = tuple(
        Message(i, 1 if seeker else 2, text, i, mention_spans(text), is_seeker=seeker)
        for i, (seeker, text) in enumerate(texts)
    )
    return Dialogue(1, 1, 2, messages)


DIALOGUE = _dialogue(
    [
        (True, "I like @101, and comedies"),
        (False, "try @102 or @103 or @150"),  # @150 is not in the catalog
        (True, "TOO LONG"),  # the fake extractor refuses it
        (True, "not the first one, I hated it"),
        (False, "then @104"),
    ]
)


class FakeExtractor:
    """Answers from a table and records the context each message was read with."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, DialogueContext | None]] = []

    def extract(self, text: str, context: DialogueContext | None = None) -> Understanding:
        self.calls.append((text, context))
        if text == "TOO LONG":
            raise ValidationError("message too long")
        if text.startswith("CRASH"):
            raise IndexError("list index out of range")
        table = {
            "I like @101, and comedies": ([(1, L)], [("genre:comedy", L), ("genre:unknown-x", L, False)]),
            "try @102 or @103 or @150": ([(2, N), (3, N), (None, N)], []),
            "not the first one, I hated it": ([(2, D)], [("genre:horror", D)]),
            "then @104": ([(4, N)], []),
        }
        items, attrs = table[text]
        return Understanding(
            intent=Intent.STATE_PREFERENCE,
            items=tuple(ItemMention(i, p, 0, 1, "x", 1.0, "at_id") for i, p in items),
            attributes=tuple(AttributeMention(a[0], a[1], 0, 1, "x", 1.0, *a[2:]) for a in attrs),
            text=text,
        )


def test_encoder_reads_messages_in_order_with_the_last_recommendations() -> None:
    fake = FakeExtractor()
    encoder = ContextEncoder(CATALOG, fake)
    samples = extract_samples([DIALOGUE], CATALOG)
    assert [(s.position, s.item) for s in samples] == [(1, 2), (1, 3), (1, None), (4, 4)]
    queries = encoder.encode(samples)
    contexts = {text: ctx.last_recommended for text, ctx in fake.calls}
    assert contexts["I like @101, and comedies"] == ()
    assert contexts["try @102 or @103 or @150"] == ()  # recommender messages: no context
    assert contexts["not the first one, I hated it"] == (2, 3)  # the latest recommender message
    assert len(fake.calls) == 5  # each message once, although four samples share the dialogue
    assert queries[0].events == (MentionEvent(1, 0, True, L, "at_id"),)
    last = queries[3]
    assert last.position == 4
    assert [(e.item, e.position, e.polarity) for e in last.events] == [
        (1, 0, L),
        (2, 1, N),
        (3, 1, N),
        (2, 3, D),
    ]
    assert [a.attribute for a in last.attributes] == ["genre:comedy", "genre:horror"]  # unknown one dropped
    assert encoder.stats.not_understood == 1 and "too long" in encoder.stats.errors[0]
    assert encoder.stats.unknown_mentions == 1


def test_without_extractor_only_at_mentions_count() -> None:
    encoder = ContextEncoder(CATALOG, None)
    query = encoder.encode(extract_samples([DIALOGUE], CATALOG))[-1]
    assert [(e.item, e.polarity, e.by_seeker) for e in query.events] == [
        (1, N, True),
        (2, N, False),
        (3, N, False),
    ]
    assert query.attributes == ()
    assert query.items_by_recency() == [3, 2, 1]


QUERY = ContextQuery(
    position=5,
    events=(
        MentionEvent(1, 0, True, L, "at_id"),
        MentionEvent(2, 1, False, N, "at_id"),
        MentionEvent(3, 1, False, N, "title"),
        MentionEvent(2, 2, True, D, "reference"),  # the seeker rejects the suggestion
        MentionEvent(4, 3, True, S, "at_id"),
        MentionEvent(5, 4, False, N, "at_id"),
    ),
    attributes=(
        AttributeEvent("genre:comedy", 0, True, L),
        AttributeEvent("genre:drama", 1, False, L),  # the recommender's: ignored by default
        AttributeEvent("genre:horror", 2, True, L),
        AttributeEvent("genre:horror", 3, True, D),  # the later statement wins
    ),
)
ATTRS = {"genre:comedy": 0, "genre:drama": 1, "genre:horror": 2}


def test_profile_weights_stances_and_attributes() -> None:
    every_source = ProfileConfig(
        use_titles=True, use_references=True, reference_rejections=True, recommender_attributes=False
    )
    config = replace(every_source, seeker_weight=1.0, recommender_weight=0.5, decay=0.5, seen_weight=0.5)
    p = build_profile(QUERY, ATTRS, config)
    assert p.disliked_items == (2,)
    weights = dict(zip(p.liked_items, p.item_weights or (), strict=True))
    # weight = role * decay ** (age - 1), age = 5 - position: item 1 (seeker, age 5) 0.5**4;
    # item 3 (recommender, age 4) 0.5 * 0.5**3; item 4 (seeker, seen, age 2) 0.5 * 0.5;
    # item 5 (recommender, age 1) 0.5
    assert weights == pytest.approx({1: 0.0625, 3: 0.0625, 4: 0.25, 5: 0.5})
    assert p.liked_attributes == (0,) and p.disliked_attributes == (2,)
    with_rec = build_profile(QUERY, ATTRS, replace(every_source, recommender_attributes=True))
    assert set(with_rec.liked_attributes) == {0, 1}
    no_titles = build_profile(QUERY, ATTRS, replace(every_source, use_titles=False, use_references=False))
    assert 3 not in no_titles.liked_items
    assert no_titles.disliked_items == (2,)  # a rejection by reference still counts
    none = replace(every_source, use_titles=False, use_references=False, reference_rejections=False)
    assert build_profile(QUERY, ATTRS, none).disliked_items == ()
    assert 2 in build_profile(QUERY, ATTRS, none).liked_items  # the suggestion, not known to be rejected
    assert build_profile(QUERY, ATTRS, replace(every_source, use_attributes=False)).liked_attributes == ()


def test_default_profile_counts_every_at_mention_alike() -> None:
    p = build_profile(QUERY, ATTRS, ProfileConfig())
    # titles and references are left out: item 3 (a title) is absent, item 2's rejection (a reference)
    # is not seen, so the recommender's suggestion 2 is liked; no decay, both speakers weigh 1
    assert dict(zip(p.liked_items, p.item_weights or (), strict=True)) == {1: 1.0, 2: 1.0, 4: 1.0, 5: 1.0}
    assert p.disliked_items == ()
    assert set(p.liked_attributes) == {0, 1} and p.disliked_attributes == (2,)


def test_repeat_boost_values() -> None:
    boost = repeat_boost(QUERY, 6, BoostConfig(seeker=1.0, recommender=0.5, decay=0.5))
    assert boost is not None
    # max over mentions of role * decay ** (age - 1); item 2 was disliked: no boost
    expected = np.array([0.0, 0.5**4, 0.0, 0.5 * 0.5**3, 0.5, 0.5])
    assert boost == pytest.approx(expected)
    assert repeat_boost(QUERY, 6, BoostConfig()) is None
    assert repeat_boost(ContextQuery(position=0), 6, BoostConfig(1.0, 1.0)) is None


def test_a_crashing_extractor_is_counted_and_the_mentions_kept() -> None:
    dialogue = _dialogue([(True, "CRASH @101"), (False, "then @104")])
    encoder = ContextEncoder(CATALOG, FakeExtractor())
    query = encoder.encode(extract_samples([dialogue], CATALOG))[0]
    assert [(e.item, e.polarity) for e in query.events] == [(1, N)]
    assert encoder.stats.extractor_failures == 1
    assert "IndexError" in encoder.stats.errors[0]
