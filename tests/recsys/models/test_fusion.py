"""FusionRanker on generators with known scores: RRF arithmetic, provenance, exclusions, boosts, saving."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.errors import ArtifactError, ConfigError, UnknownUserError, ValidationError
from recsys.models.base import Recommender
from recsys.models.fusion import FusionRanker
from recsys.models.lists import blocked_items, contributions, top_k_columns, top_lists
from recsys.models.popularity import Popularity
from recsys.models.types import Profile, Trace, TrainData


class Fixed(Recommender):
    """Scores from a fixed users x items matrix; profiles get row 0. Counts scoring calls."""

    def __init__(self, name: str, scores: np.ndarray) -> None:
        super().__init__()
        self.name = name  # type: ignore[misc]
        self.scores = np.atleast_2d(np.asarray(scores, dtype=np.float32))
        self.fit_calls = 0
        self.score_calls = 0

    def _fit(self, data: TrainData, *, show_progress: bool) -> None:
        self.fit_calls += 1

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        self.score_calls += 1
        return self.scores[users]

    def _score_profiles(self, profiles: Sequence[Profile]) -> np.ndarray:
        self.score_calls += 1
        return np.repeat(self.scores[:1], len(profiles), axis=0)


class OwnRecommend(Fixed):
    """A generator with its own recommend(): the fusion must ask it through recommend()."""

    def recommend(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.own_calls = getattr(self, "own_calls", 0) + 1
        return super().recommend(*args, **kwargs)


# A ranks 0, 1, 2, 3, 4, 5 (scores 6..1); B ranks 2, 3, 0, 1, 5, 4 (scores 9, 8, 7, 6, 5, 4).
A_SCORES = [6, 5, 4, 3, 2, 1]
B_SCORES = [7, 6, 9, 8, 4, 5]


def _data(n_users: int = 1, n_items: int = 6, seen: dict[int, list[int]] | None = None) -> TrainData:
    ui = sp.lil_matrix((n_users, n_items), dtype=np.float32)
    for u, items in (seen or {}).items():
        ui[u, items] = 1.0
    return TrainData(user_items=sp.csr_matrix(ui))


def _fusion(depth: int = 3, **kwargs) -> FusionRanker:  # type: ignore[no-untyped-def]
    fusion = FusionRanker([Fixed("a", A_SCORES), Fixed("b", B_SCORES)], depth=depth, **kwargs)
    return fusion.fit(_data())


def test_rrf_arithmetic_and_tie_break() -> None:
    rec = _fusion(depth=3).recommend([0], k=3)[0]
    # item 0: A rank 1, B rank 3; item 2: A rank 3, B rank 1 (tie -> lower index first); item 1: A rank 2.
    expected = [(1 + 61 / 63) / 2, (61 / 63 + 1) / 2, (61 / 62) / 2]
    assert rec.items.tolist() == [0, 2, 1]
    np.testing.assert_allclose(rec.scores, expected, rtol=1e-6)


def test_weighted_rrf_and_weighted_scores() -> None:
    rec = _fusion(depth=3, weights=[2.0, 1.0]).recommend([0], k=4)[0]
    # depth is max(3, k=4): A top-4 = 0, 1, 2, 3; B top-4 = 2, 3, 0, 1
    c = {r: 61 / (60 + r) for r in range(1, 5)}
    fused = {0: 2 * c[1] + c[3], 1: 2 * c[2] + c[4], 2: 2 * c[3] + c[1], 3: 2 * c[4] + c[2]}
    order = sorted(fused, key=lambda i: (-fused[i], i))
    assert rec.items.tolist() == order
    np.testing.assert_allclose(rec.scores, [fused[i] / 3 for i in order], rtol=1e-6)
    scored = _fusion(depth=3, method="weighted").recommend([0], k=4)[0]
    # min-max over each top-4: A 6,5,4,3 -> 1, 2/3, 1/3, 0 ; B 9,8,7,6 -> 1, 2/3, 1/3, 0
    expected = {0: (1 + 1 / 3) / 2, 1: (2 / 3 + 0) / 2, 2: (1 / 3 + 1) / 2, 3: (0 + 2 / 3) / 2}
    assert scored.items.tolist() == [0, 2, 1, 3]
    np.testing.assert_allclose(scored.scores, [expected[i] for i in (0, 2, 1, 3)], rtol=1e-6)


def test_provenance_has_only_contributing_generators() -> None:
    rec = _fusion(depth=2).recommend([0], k=4)[0]  # depth 4: A 0,1,2,3 ; B 2,3,0,1
    rec3 = _fusion(depth=3).recommend([0], k=3)[0]
    prov = dict(zip(rec3.items.tolist(), rec3.provenance, strict=True))
    assert prov[0] == {"a": Trace(6.0, 1), "b": Trace(7.0, 3)}
    assert prov[2] == {"a": Trace(4.0, 3), "b": Trace(9.0, 1)}
    assert prov[1] == {"a": Trace(5.0, 2)}
    assert all(set(p) == {"a", "b"} for p in rec.provenance)


def test_exclusions_candidates_and_k_larger_than_catalog() -> None:
    fusion = FusionRanker([Fixed("a", A_SCORES), Fixed("b", B_SCORES)], depth=2).fit(_data(seen={0: [2]}))
    rec = fusion.recommend([0], k=2, exclude=[[0]])[0]
    # item 2 is seen, item 0 excluded: A top-2 = 1, 3 ; B top-2 = 3, 1 -> tie, lower index first
    assert rec.items.tolist() == [1, 3]
    assert 2 not in fusion.recommend([0], k=10)[0].items
    # depth becomes k: every item; pairs tie (A rank r + B rank s == B rank r + A rank s), lower index first
    assert fusion.recommend([0], k=10, filter_seen=False)[0].items.tolist() == [0, 2, 1, 3, 4, 5]
    assert sorted(fusion.recommend([0], k=10, candidates=[4, 5, 2])[0].items.tolist()) == [4, 5]
    assert len(fusion.recommend([0], k=100)[0]) == 5  # every item but the seen one


def test_batch_equals_single_and_profiles_work() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.random((5, 30)), rng.random((5, 30))
    fusion = FusionRanker([Fixed("a", a), Fixed("b", b)], depth=8).fit(_data(5, 30, {1: [0, 1], 3: [5]}))
    batch = fusion.recommend(np.arange(5), k=6, exclude=[[i] for i in range(5)])
    for u in range(5):
        single = fusion.recommend([u], k=6, exclude=[[u]])[0]
        assert single.items.tolist() == batch[u].items.tolist()
        np.testing.assert_array_equal(single.scores, batch[u].scores)
        assert single.provenance == batch[u].provenance
    prof = fusion.recommend(profiles=[Profile(liked_items=(3,))], k=5)[0]
    assert 3 not in prof.items and len(prof) == 5
    assert prof.items.tolist() == fusion.recommend([0], k=5, exclude=[[3]])[0].items.tolist()


def test_dense_scores_are_fused_over_the_pool_and_minus_inf_elsewhere() -> None:
    fusion = _fusion(depth=2)
    dense = fusion.score_users(np.array([0]))[0]
    # A top-2 = 0, 1 ; B top-2 = 2, 3 : each item is in exactly one list
    np.testing.assert_allclose(dense[[0, 1, 2, 3]], [0.5, 61 / 62 / 2, 0.5, 61 / 62 / 2], rtol=1e-6)
    assert np.isneginf(dense[[4, 5]]).all()
    prof = fusion.score_profiles([Profile(liked_items=(4,))])[0]
    np.testing.assert_allclose(prof, dense)


def test_item_boost_hook() -> None:
    fusion = _fusion(depth=3)
    boost = np.zeros(6)
    boost[5] = 2.0  # proposed by nobody: joins the pool with empty provenance, on top
    boost[0] = -np.inf  # removed
    rec = fusion.recommend([0], k=3, item_boost=[boost])[0]
    assert rec.items.tolist() == [5, 2, 1]
    assert rec.provenance[0] == {}
    assert rec.scores[0] == pytest.approx(2.0)
    np.testing.assert_allclose(rec.scores[1], (61 / 63 + 1) / 2, rtol=1e-6)
    excluded = fusion.recommend([0], k=3, item_boost=[boost], exclude=[[5]])[0]
    assert 5 not in excluded.items  # a boost never brings back an excluded item
    seen = FusionRanker([Fixed("a", A_SCORES)], depth=3).fit(_data(seen={0: [5]}))
    assert 5 not in seen.recommend([0], k=3, item_boost=[boost])[0].items
    assert fusion.recommend([0], k=3, item_boost=[None])[0].items.tolist() == [0, 2, 1]
    with pytest.raises(ValidationError, match="item_boost"):
        fusion.recommend([0], k=3, item_boost=[np.zeros(4)])
    with pytest.raises(ValidationError, match="item_boost has"):
        fusion.recommend([0], k=3, item_boost=[None, None])


def test_fit_fits_only_unfitted_generators_and_zero_weights_are_not_queried() -> None:
    a, b = Fixed("a", A_SCORES), Fixed("b", B_SCORES)
    b.fit(_data())
    fusion = FusionRanker([a, b], weights={"b": 0.0}).fit(_data())
    assert (a.fit_calls, b.fit_calls) == (1, 1)
    calls = b.score_calls
    rec = fusion.recommend([0], k=3)[0]
    assert b.score_calls == calls and rec.items.tolist() == [0, 1, 2]
    assert all(set(p) == {"a"} for p in rec.provenance)
    other = Fixed("c", [[1, 2, 3]]).fit(_data(1, 3))
    with pytest.raises(ValidationError, match="fitted on"):
        FusionRanker([a, other]).fit(_data())


def test_configuration_errors() -> None:
    with pytest.raises(ConfigError, match="at least one"):
        FusionRanker([])
    with pytest.raises(ConfigError, match="unknown fusion method"):
        FusionRanker([Popularity()], method="borda")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="depth must be"):
        FusionRanker([Popularity()], depth=0)
    with pytest.raises(ConfigError, match="rrf_k must be"):
        FusionRanker([Popularity()], rrf_k=-1)
    with pytest.raises(ConfigError, match="not all 0"):
        FusionRanker([Popularity()], weights=[0.0])
    with pytest.raises(ConfigError, match="unknown generators"):
        FusionRanker([Popularity()], weights={"nope": 1.0})
    with pytest.raises(ConfigError, match="Recommender"):
        FusionRanker([object()])  # type: ignore[list-item]
    assert FusionRanker([Popularity(), Popularity()]).generator_names == ("popularity", "popularity-2")
    with pytest.raises(UnknownUserError):
        _fusion().recommend([7])
    assert contributions("weighted", np.array([3.0, 3.0]), 60).tolist() == [1.0, 1.0]


def test_similar_items_fuses_generator_lists() -> None:
    fusion = _fusion(depth=3)
    rec = fusion.similar_items([4], k=3)[0]
    assert 4 not in rec.items
    assert rec.items.tolist() == [0, 2, 1]  # Fixed profiles score like user 0


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    ui = sp.csr_matrix((rng.random((12, 15)) < 0.3).astype(np.float32))
    fusion = FusionRanker([Popularity(), Popularity()], method="weighted", depth=5, weights=[1.0, 0.5])
    fusion.fit(TrainData(user_items=ui))
    out = fusion.save(tmp_path / "fusion")
    assert (out / "fusion.pkl").is_file() and len(list(out.glob("*.model"))) == 2
    loaded = FusionRanker.load(out)
    assert loaded.method == "weighted" and loaded.weights.tolist() == [1.0, 0.5] and loaded.depth == 5
    before = fusion.recommend(np.arange(12), k=4)
    after = loaded.recommend(np.arange(12), k=4)
    assert [r.items.tolist() for r in before] == [r.items.tolist() for r in after]
    assert [r.provenance for r in before] == [r.provenance for r in after]
    with pytest.raises(ArtifactError, match="no saved fusion"):
        FusionRanker.load(tmp_path / "missing")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "fusion.pkl").write_bytes(b"not a pickle")
    with pytest.raises(ArtifactError, match="not a readable fusion manifest"):
        FusionRanker.load(tmp_path / "broken")
    with pytest.raises(ValidationError, match="1-D"):
        fusion.recommend(np.array([[0, 1]]))
    (tmp_path / "file").write_text("x")
    with pytest.raises(ArtifactError, match="directory"):
        fusion.save(tmp_path / "file")


def test_fast_top_lists_equal_the_generators_own_recommend() -> None:
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 6, size=(6, 25)).astype(np.float32)  # many ties
    seen = {u: rng.choice(25, size=3, replace=False).tolist() for u in range(6)}
    data = _data(6, 25, seen)
    gen = Fixed("g", scores).fit(data)
    users = np.arange(6)
    exclude = [rng.choice(25, size=2, replace=False).tolist() for _ in users]
    allowed = np.zeros(25, dtype=bool)
    allowed[rng.choice(25, size=18, replace=False)] = True
    blocked = blocked_items(data.user_items, users, None, exclude, True)
    fast = top_lists(gen, users, None, 30, blocked, allowed)  # depth > catalog: every allowed item
    own = gen.recommend(users, k=30, exclude=exclude, candidates=np.flatnonzero(allowed))
    for (items, vals), rec in zip(fast, own, strict=True):
        assert items.tolist() == rec.items.tolist()
        np.testing.assert_array_equal(vals, rec.scores)
    # a shorter depth keeps the first items of that order: ties at the cut go to the lowest item index
    short = top_lists(gen, users, None, 4, blocked, None)
    full = top_lists(gen, users, None, 25, blocked, None)
    assert [items.tolist() for items, _ in short] == [items[:4].tolist() for items, _ in full]


def test_a_generator_overriding_recommend_is_asked_through_it() -> None:
    rng = np.random.default_rng(4)
    a, b = rng.random((4, 20)), rng.random((4, 20))
    data = _data(4, 20, {0: [1, 2]})
    plain = FusionRanker([Fixed("a", a), Fixed("b", b)], depth=5).fit(data)
    own_b = OwnRecommend("b", b)
    custom = FusionRanker([Fixed("a", a), own_b], depth=5).fit(data)
    kwargs = {"k": 4, "exclude": [[3], [], [0], [5]], "candidates": range(2, 20)}
    expected = plain.recommend(np.arange(4), **kwargs)
    got = custom.recommend(np.arange(4), **kwargs)
    assert own_b.own_calls == 1
    assert [r.items.tolist() for r in got] == [r.items.tolist() for r in expected]
    assert [r.provenance for r in got] == [r.provenance for r in expected]


class Untouchable(Fixed):
    """A generator that fails the test if it is asked for anything after fitting."""

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        raise AssertionError(f"{self.name} (weight 0) was scored for users")

    def _score_profiles(self, profiles: Sequence[Profile]) -> np.ndarray:
        raise AssertionError(f"{self.name} (weight 0) was scored for profiles")

    def similar_items(self, items, *, k=10):  # type: ignore[no-untyped-def]
        raise AssertionError(f"{self.name} (weight 0) was asked for similar items")


def test_a_zero_weight_member_is_never_called_on_any_path() -> None:
    zero = Untouchable("zero", B_SCORES)
    fusion = FusionRanker([Fixed("a", A_SCORES), zero], depth=3, weights={"zero": 0.0}).fit(_data())
    assert zero.fit_calls == 1  # fitted with the others (its weight may be raised later) ...
    warm, cold = Profile(liked_items=(5,)), Profile(liked_attributes=())
    for recs in (
        fusion.recommend([0], k=3),
        fusion.recommend(profiles=[warm, cold], k=3),
        fusion.similar_items([1], k=3),
    ):
        assert all(set(p) == {"a"} for r in recs for p in r.provenance)
    assert np.isfinite(fusion.score_profiles([warm])[0]).sum() == 3  # a's top-3 only
    assert np.isfinite(fusion.score_users(np.array([0]))[0]).sum() == 3
    assert fusion.recommend(profiles=[warm], k=2)[0].items.tolist() == [0, 1]  # a's order, item 5 seen
    fusion.set_weights({"zero": 1.0})  # ... and is queried as soon as it counts
    with pytest.raises(AssertionError, match="zero"):
        fusion.recommend([0], k=3)


def test_top_k_columns_of_one_row_equals_the_stable_sort() -> None:
    rng = np.random.default_rng(5)
    for _ in range(300):
        width = int(rng.integers(2, 40))
        k = int(rng.integers(1, width))
        row = rng.integers(0, 4, width).astype(np.float32)  # many ties
        row[rng.random(width) < 0.2] = -np.inf
        single = top_k_columns(row[None, :], k)[0]
        assert single.tolist() == np.argsort(-row, kind="stable")[:k].tolist()
        assert single.tolist() == top_k_columns(np.vstack([row, row]), k)[0].tolist()  # the batch path
