"""The Recommender base class on a trivial model whose scores are known: validation, cold start routing,
top-k ties, chunked batches, exclusion, persistence, and the profile helpers."""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
import scipy.sparse as sp

import recsys.models.base as base
from recsys.errors import ArtifactError, NotFittedError, UnknownItemError, UnknownUserError, ValidationError
from recsys.models.base import Recommender, profile_item_vector, profiles_to_csr
from recsys.models.popularity import Popularity
from recsys.models.types import Profile, TrainData


class TableModel(Recommender):
    """Scores of user u: row u of a fixed table; scores of a profile: sum of its liked items' table columns
    (so a profile liking item i scores like the users who have i in their table row)."""

    name: ClassVar[str] = "table"

    def __init__(self, table: np.ndarray) -> None:
        super().__init__()
        self.table = np.asarray(table, dtype=np.float32)
        self.user_calls: list[int] = []
        self.profile_calls: list[int] = []

    def _fit(self, data: TrainData, *, show_progress: bool) -> None:
        assert self.table.shape == (data.n_users, data.n_items)

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        self.user_calls.append(len(users))
        return self.table[users]

    def _score_profiles(self, profiles: Sequence[Profile]) -> np.ndarray:
        self.profile_calls.append(len(profiles))
        return np.stack(
            [profile_item_vector(p, self.n_items) + 0.01 * np.arange(self.n_items) for p in profiles]
        )


class AttributeModel(TableModel):
    uses_attributes: ClassVar[bool] = True


N_USERS, N_ITEMS = 6, 8
TABLE = np.arange(N_USERS * N_ITEMS, dtype=np.float32).reshape(N_USERS, N_ITEMS) % 7  # ties on purpose


def _data() -> TrainData:
    ui = sp.csr_matrix(
        ([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], ([0, 0, 1, 2, 3, 4, 5], [1, 2, 2, 2, 3, 7, 2])),
        shape=(N_USERS, N_ITEMS),
    )
    ia = sp.csr_matrix(([1.0, 1.0, 1.0, 1.0], ([0, 4, 5, 5], [0, 0, 0, 1])), shape=(N_ITEMS, 2))
    return TrainData(user_items=ui, item_attributes=ia, attribute_names=("genre:a", "tag:b"))


@pytest.fixture
def model() -> TableModel:
    return TableModel(TABLE).fit(_data())


# ---- validation ---------------------------------------------------------------------------------------
def test_recommend_rejects_bad_requests(model: TableModel) -> None:
    with pytest.raises(ValidationError, match="either users or profiles"):
        model.recommend([0], profiles=[Profile()])
    with pytest.raises(ValidationError, match="either users or profiles"):
        model.recommend()
    with pytest.raises(ValidationError, match="k must be >= 1"):
        model.recommend([0], k=0)
    with pytest.raises(ValidationError, match="exclude has 1 rows for 2 queries"):
        model.recommend([0, 1], exclude=[[1]])
    with pytest.raises(ValidationError, match="1-D"):
        model.recommend(3)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="one weight per liked item"):
        model.recommend(profiles=[Profile(liked_items=(1, 2), item_weights=(1.0,))])


def test_unknown_ids_name_the_offending_index(model: TableModel) -> None:
    with pytest.raises(UnknownUserError, match=r"unknown user index 6 \(0\.\.5\)"):
        model.recommend([0, 6])
    with pytest.raises(UnknownItemError, match="unknown item index -2"):
        model.recommend(profiles=[Profile(liked_items=(-2,))])
    with pytest.raises(UnknownItemError, match="unknown attribute index 2"):
        model.recommend(profiles=[Profile(liked_attributes=(2,))])
    with pytest.raises(UnknownItemError, match="unknown item index 8"):
        model.similar_items([8])


def test_unfitted_model_and_empty_catalogue() -> None:
    with pytest.raises(NotFittedError, match="table: call fit"):
        TableModel(TABLE).recommend([0])
    with pytest.raises(ValidationError, match="no items"):
        Popularity().fit(TrainData(user_items=sp.csr_matrix((3, 0), dtype=np.float32)))


# ---- top-k ----------------------------------------------------------------------------------------------
def test_top_k_orders_by_score_then_lowest_index(model: TableModel) -> None:
    row = np.array([1.0, 5.0, 5.0, 3.0, 5.0, -np.inf, np.nan, 3.0], dtype=np.float32)
    rec = model._top_k(row, 4)
    assert rec.items.tolist() == [1, 2, 4, 3]
    assert rec.scores.tolist() == [5.0, 5.0, 5.0, 3.0]
    assert [t["table"].rank for t in rec.provenance] == [1, 2, 3, 4]
    # -inf and NaN are never returned, even when k asks for everything
    assert model._top_k(row, 100).items.tolist() == [1, 2, 4, 3, 7, 0]
    assert len(model._top_k(np.full(5, -np.inf, dtype=np.float32), 3)) == 0


def test_ties_at_the_cut_keep_the_lowest_indices() -> None:
    rng = np.random.default_rng(0)
    m = TableModel(np.zeros((1, 2000))).fit(TrainData(user_items=sp.csr_matrix((1, 2000), dtype=np.float32)))
    row = np.zeros(2000, dtype=np.float32)
    high = rng.choice(2000, 3, replace=False)
    row[high] = [3.0, 2.0, 1.0]
    rec = m._top_k(row, 10)
    tied = sorted(set(range(2000)) - set(high.tolist()))[:7]
    assert rec.items.tolist() == high.tolist() + tied


# ---- batches ----------------------------------------------------------------------------------------------
def test_batches_are_scored_in_chunks_with_the_same_results(
    model: TableModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = [5, 0, 3, 1, 2, 4, 0]
    exclude = [{i % N_ITEMS} for i in range(len(users))]  # a different item per row
    whole = model.recommend(users, k=4, exclude=exclude)
    monkeypatch.setattr(base, "_SCORE_CHUNK", 3)
    model.user_calls.clear()
    chunked = model.recommend(users, k=4, exclude=exclude)
    assert model.user_calls == [3, 3, 1]
    for a, b, u, ex in zip(whole, chunked, users, exclude, strict=True):
        np.testing.assert_array_equal(a.items, b.items)
        assert not ex & set(b.items.tolist())
        seen = set(model.data.user_items[u].indices.tolist())
        expected = [i for i in np.lexsort((np.arange(N_ITEMS), -TABLE[u])) if i not in seen | ex][:4]
        assert b.items.tolist() == expected
    profiles = [Profile(liked_items=(i,)) for i in range(5)]
    model.profile_calls.clear()
    recs = model.recommend(profiles=profiles, k=2)
    assert model.profile_calls == [3, 2]
    assert [r.items.tolist() for r in recs] == [[7, 6] if i < 6 else [7, 5] for i in range(5)]


def test_candidates_restrict_and_filter_seen_applies_per_query(model: TableModel) -> None:
    rec = model.recommend([0], k=10, candidates=[1, 4, 6])[0]
    assert rec.items.tolist() == [6, 4]  # 1 is user 0's training item
    assert model.recommend([0], k=10, candidates=[1, 4, 6], filter_seen=False)[0].items.tolist() == [6, 4, 1]
    assert len(model.recommend([0], k=3, candidates=[])[0]) == 0
    p = Profile(liked_items=(7,), disliked_items=(6,))
    assert model.recommend(profiles=[p], k=2)[0].items.tolist() == [5, 4]
    assert model.recommend(profiles=[p], k=2, filter_seen=False)[0].items.tolist() == [7, 6]


# ---- cold start -------------------------------------------------------------------------------------------
def test_attribute_only_profiles_are_scored_by_attribute_match_with_a_popularity_tie_break(
    model: TableModel,
) -> None:
    pop = model.data.item_popularity()  # item 2 is the most popular
    pop_norm = np.log1p(pop) / np.log1p(pop).max()
    p = Profile(liked_attributes=(0,), disliked_attributes=(1,))
    expected = np.array([1, 0, 0, 0, 1, 0, 0, 0], dtype=np.float32) + 0.1 * pop_norm
    np.testing.assert_allclose(model.score_profiles([p])[0], expected, rtol=1e-6)
    assert model.recommend(profiles=[p], k=3)[0].items.tolist() == [0, 4, 2]
    np.testing.assert_allclose(model.score_profiles([Profile()])[0], pop_norm, rtol=1e-6)
    assert model.profile_calls == []  # neither reached the model


def test_a_mixed_batch_routes_each_profile(model: TableModel) -> None:
    profiles = [Profile(liked_attributes=(1,)), Profile(liked_items=(3,)), Profile()]
    scores = model.score_profiles(profiles)
    assert model.profile_calls == [1]
    assert scores[1].argmax() == 3 and scores[0].argmax() == 5 and scores[2].argmax() == 2


def test_models_that_use_attributes_get_attribute_profiles_but_not_empty_ones() -> None:
    m = AttributeModel(TABLE).fit(_data())
    m.score_profiles([Profile(liked_attributes=(1,)), Profile(disliked_items=(1,))])
    assert m.profile_calls == [1]


# ---- persistence ------------------------------------------------------------------------------------------
def test_save_and_load(model: TableModel, tmp_path: Path) -> None:
    path = model.save(tmp_path / "sub" / "table.pkl")
    assert path.is_file() and not path.with_suffix(".pkl.tmp").exists()
    for cls in (TableModel, Recommender):
        loaded = cls.load(path)
        assert isinstance(loaded, TableModel)
        np.testing.assert_array_equal(loaded.score_users(np.arange(N_USERS)), TABLE)
    with pytest.raises(ArtifactError, match=r"holds a .*TableModel, not a .*Popularity"):
        Popularity.load(path)
    with pytest.raises(ArtifactError, match="no saved model"):
        TableModel.load(tmp_path / "missing.pkl")
    (tmp_path / "broken.pkl").write_bytes(b"not a pickle at all")
    with pytest.raises(ArtifactError, match="not a readable saved model"):
        TableModel.load(tmp_path / "broken.pkl")
    (tmp_path / "other.pkl").write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(ArtifactError, match="not a saved model"):
        TableModel.load(tmp_path / "other.pkl")


# ---- helpers ----------------------------------------------------------------------------------------------
def test_profile_vectors_and_rows() -> None:
    p = Profile(liked_items=(1, 3), disliked_items=(0, 3), item_weights=(2.0, 0.5))
    np.testing.assert_array_equal(profile_item_vector(p, 5), [0, 2, 0, 0.5, 0])
    np.testing.assert_array_equal(profile_item_vector(p, 5, disliked_weight=1.0), [-1, 2, 0, -0.5, 0])
    rows = profiles_to_csr([p, Profile(liked_items=(4,))], 5)
    np.testing.assert_array_equal(rows.toarray(), [[0, 2, 0, 0.5, 0], [0, 0, 0, 0, 1]])
    rows = profiles_to_csr([p], 5, disliked_weight=1.0)
    np.testing.assert_array_equal(rows.toarray(), [[-1, 2, 0, -0.5, 0]])
    assert rows.dtype == np.float32
    # repeated liked items add up; rows come out canonical (sorted, one entry per item); empty rows stay
    rows = profiles_to_csr([Profile(liked_items=(4, 2, 4)), Profile(), Profile(liked_items=(0,))], 5)
    np.testing.assert_array_equal(rows.toarray(), [[0, 0, 1, 0, 2], [0] * 5, [1, 0, 0, 0, 0]])
    assert rows.has_canonical_format and rows.indices.tolist() == [2, 4, 0]
    assert profiles_to_csr([], 5).shape == (0, 5)
