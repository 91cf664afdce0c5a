"""The ReDial generators (mention popularity, co-mention) on constructed data with known scores."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.catalog.types import Catalog, CatalogItem
from recsys.data.redial import mention_spans
from recsys.data.types import Dialogue, Message
from recsys.errors import ValidationError
from recsys.eval.redial_generators import CoMention, MentionPopularity, dialogue_occurrences, mention_counts
from recsys.models.types import Profile, TrainData

CATALOG = Catalog(
    [CatalogItem(i, f"Movie {i}", redial_id=100 + i) for i in range(4)], redial_aliases={200: 1}
)


def _dialogue(conv: int, texts: list[str], mentions: dict[int, str] | None = None) -> Dialogue:
    messages = tuple(Message(i, 1, t, i, mention_spans(t)) for i, t in enumerate(texts))
    return Dialogue(conv, 1, 2, messages, movie_mentions=mentions or {})


DIALOGUES = [
    _dialogue(1, ["@100 and @101", "@101 again, @999"]),  # 999 unknown: not counted
    _dialogue(2, ["@200"], {103: "Movie 3"}),  # alias of item 1; 103 only in movieMentions
]


def test_counts_and_occurrences() -> None:
    assert mention_counts(CATALOG, DIALOGUES).tolist() == [1, 3, 0, 0]
    assert dialogue_occurrences(CATALOG, DIALOGUES).tolist() == [1, 2, 0, 1]


def _data() -> TrainData:
    # co-mentions: 0-1 in 4 dialogues, 1-2 in 1, 2-3 in 2
    rows, cols, vals = [0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2], [4, 4, 1, 1, 2, 2]
    item_item = sp.csr_matrix((vals, (rows, cols)), shape=(4, 4))
    return TrainData(user_items=sp.csr_matrix(np.eye(4)), item_item=item_item)


def test_comention_scores() -> None:
    occ = np.array([4.0, 9.0, 1.0, 4.0])
    model = CoMention(occ, alpha=0.5, beta=0.5, shrink=0.0, disliked_weight=1.0, tie_break=0.0).fit(_data())
    scores = model.score_profiles([Profile(liked_items=(1,))])[0]
    # S_1j = C_1j / sqrt(n_1 n_j): 4 / sqrt(9 * 4), 1 / sqrt(9 * 1)
    assert scores == pytest.approx([4 / 6, 0.0, 1 / 3, 0.0])
    weighted = model.score_profiles([Profile(liked_items=(1, 3), item_weights=(1.0, 0.5))])[0]
    assert weighted[2] == pytest.approx(1 / 3 + 0.5 * 2 / 2)
    minus = model.score_profiles([Profile(liked_items=(1,), disliked_items=(3,))])[0]
    assert minus[2] == pytest.approx(1 / 3 - 1.0)
    top = model.recommend(profiles=[Profile(liked_items=(1,))], k=2)[0]
    assert top.items.tolist() == [0, 2]


def test_comention_tie_break_orders_unrelated_items_by_occurrence() -> None:
    model = CoMention(np.array([4.0, 9.0, 1.0, 4.0]), tie_break=1e-3).fit(_data())
    rec = model.recommend(profiles=[Profile(liked_items=(0,))], k=3, filter_seen=True)[0]
    assert rec.items.tolist() == [1, 3, 2]  # 1 co-mentioned; then 3 (4 dialogues) before 2 (1)


def test_comention_needs_co_mentions() -> None:
    with pytest.raises(ValidationError):
        CoMention(np.ones(4)).fit(TrainData(user_items=sp.csr_matrix(np.eye(4))))
    with pytest.raises(ValidationError):
        CoMention(np.ones(3)).fit(_data())


def test_mention_popularity_ignores_the_profile() -> None:
    model = MentionPopularity(np.array([1.0, 3.0, 0.0, 2.0])).fit(_data())
    a = model.recommend(profiles=[Profile(liked_items=(1,))], k=4, filter_seen=False)[0]
    b = model.recommend(profiles=[Profile(liked_attributes=())], k=4, filter_seen=False)[0]
    assert a.items.tolist() == b.items.tolist() == [1, 3, 0, 2]
    with pytest.raises(ValidationError):
        MentionPopularity(np.array([1.0, -1.0]))


def test_comention_cold_start_uses_the_redial_prior() -> None:
    model = CoMention(np.array([4.0, 9.0, 1.0, 5.0])).fit(_data())  # TrainData popularity is flat
    assert model.recommend(profiles=[Profile()], k=4)[0].items.tolist() == [1, 3, 0, 2]
