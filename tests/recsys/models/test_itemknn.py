"""ItemKNN: the contract, the similarity against a brute-force computation, pruning, dislikes, validation."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.errors import NotFittedError, ValidationError
from recsys.models.base import Recommender, profiles_to_csr
from recsys.models.itemknn import ItemKNN, item_similarity
from recsys.models.types import Profile, TrainData
from tests.recsys.models.contract import RecommenderContract, make_contract_data


class TestItemKNNContract(RecommenderContract):
    def make_model(self) -> Recommender:
        return ItemKNN(k_neighbors=20, shrink=2.0)


class TestJaccardItemKNNContract(RecommenderContract):
    def make_model(self) -> Recommender:
        return ItemKNN(k_neighbors=20, shrink=0.0, similarity="jaccard")


def _random_matrix(seed: int = 3) -> sp.csr_matrix:
    x = sp.random(40, 15, density=0.3, format="csr", random_state=seed, dtype=np.float32)
    x.data = np.ceil(x.data * 3).astype(np.float32)  # weights 1..3
    return x


def _brute_force(x: sp.csr_matrix, similarity: str, shrink: float) -> np.ndarray:
    d = x.toarray().astype(np.float64)
    if similarity == "cosine":
        norms = np.linalg.norm(d, axis=0)
        sims = d.T @ d / (np.outer(norms, norms) + shrink)
    else:
        b = (d != 0).astype(np.float64)
        inter = b.T @ b
        size = b.sum(axis=0)
        sims = inter / (size[:, None] + size[None, :] - inter + shrink)
    np.fill_diagonal(sims, 0.0)
    return np.nan_to_num(sims)


@pytest.mark.parametrize("similarity", ["cosine", "jaccard"])
@pytest.mark.parametrize("shrink", [0.0, 5.0])
def test_similarity_matches_brute_force_when_nothing_is_pruned(similarity: str, shrink: float) -> None:
    x = _random_matrix()
    got = item_similarity(x, k_neighbors=100, shrink=shrink, similarity=similarity)  # type: ignore[arg-type]
    np.testing.assert_allclose(got.toarray(), _brute_force(x, similarity, shrink), rtol=1e-5, atol=1e-7)


def test_pruning_keeps_each_items_k_most_similar(monkeypatch: pytest.MonkeyPatch) -> None:
    import recsys.models.itemknn as mod

    monkeypatch.setattr(mod, "_BLOCK_CELLS", 30)  # several blocks of rows
    x = _random_matrix(seed=5)
    ref = _brute_force(x, "cosine", 1.0)
    got = item_similarity(x, k_neighbors=4, shrink=1.0).toarray()
    for i in range(ref.shape[0]):
        kept = np.flatnonzero(got[i])
        assert len(kept) == min(4, np.count_nonzero(ref[i] > 0))
        # every kept neighbour is at least as similar as every dropped one
        dropped = np.setdiff1d(np.flatnonzero(ref[i] > 0), kept)
        if len(dropped):
            assert ref[i, kept].min() >= ref[i, dropped].max() - 1e-6
        np.testing.assert_allclose(got[i, kept], ref[i, kept], rtol=1e-5)
        assert got[i, i] == 0


def test_item_nobody_liked_has_no_neighbours_and_no_division_by_zero() -> None:
    x = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 0]], dtype=np.float32))
    sims = item_similarity(x, k_neighbors=5).toarray()
    assert np.all(np.isfinite(sims))
    assert not sims[2].any() and not sims[:, 2].any()
    assert sims[0, 1] == pytest.approx(1 / np.sqrt(2))


def test_user_scores_are_the_user_row_times_the_similarity() -> None:
    x = _random_matrix()
    model = ItemKNN(k_neighbors=5, shrink=1.0).fit(TrainData(user_items=x))
    expected = (x @ model.sim).toarray()
    np.testing.assert_allclose(model.score_users(np.arange(x.shape[0])), expected, rtol=1e-6)


def test_profile_scores_use_weights_and_subtract_dislikes() -> None:
    x = _random_matrix()
    model = ItemKNN(k_neighbors=6, shrink=1.0, disliked_weight=0.5).fit(TrainData(user_items=x))
    s = model.sim.toarray()
    p = Profile(liked_items=(0, 3), disliked_items=(7,), item_weights=(2.0, 1.0))
    np.testing.assert_allclose(
        model.score_profiles([p])[0], 2 * s[0] + s[3] - 0.5 * s[7], rtol=1e-5, atol=1e-7
    )


def test_a_disliked_item_demotes_its_neighbours_below_unrelated_items() -> None:
    cdata = make_contract_data()
    model = ItemKNN(k_neighbors=30).fit(cdata.data)
    liked = tuple(int(i) for i in cdata.block_items(0)[:3])
    disliked = int(cdata.block_items(1)[0])
    profile = Profile(liked_items=liked, disliked_items=(disliked,))
    rec = model.recommend(profiles=[profile], k=cdata.data.n_items)[0]
    order = rec.items.tolist()
    cold = np.flatnonzero(cdata.item_block == -1)
    # items similar to the disliked one now score below cold items (score 0) that nobody liked
    assert all(order.index(c) < order.index(int(b)) for c in cold for b in cdata.block_items(1)[1:])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k_neighbors": 0}, "k_neighbors"),
        ({"shrink": -1.0}, "shrink"),
        ({"similarity": "pearson"}, "similarity"),
        ({"disliked_weight": -0.1}, "disliked_weight"),
    ],
)
def test_invalid_hyperparameters_are_rejected(kwargs: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ItemKNN(**kwargs)


def test_progress_is_shown_on_request(capsys: pytest.CaptureFixture[str]) -> None:
    data = TrainData(user_items=_random_matrix())
    ItemKNN().fit(data, show_progress=True)
    assert "itemknn similarity" in capsys.readouterr().err
    ItemKNN().fit(data)
    assert capsys.readouterr().err == ""


def test_unfitted_similarity_raises() -> None:
    with pytest.raises(NotFittedError):
        _ = ItemKNN().sim


def test_few_profiles_are_scored_row_by_row_exactly_as_the_sparse_product() -> None:
    """_profile_row adds the seeds' rows of S in the order scipy's product does: the same float32 bits,
    with weights, dislikes, a zero weight, and a seed listed twice (which falls back to the product)."""
    rng = np.random.default_rng(8)
    x = sp.random(300, 120, density=0.08, format="csr", random_state=9, dtype=np.float32)
    model = ItemKNN(k_neighbors=30, shrink=1.5, disliked_weight=0.7).fit(TrainData(user_items=x))
    profiles = [
        Profile(liked_items=(5,)),
        Profile(liked_items=(90, 3, 47), item_weights=(0.3, 1.0, 0.85), disliked_items=(11, 60)),
        Profile(liked_items=(7, 8), item_weights=(0.0, 2.5)),
        Profile(liked_items=(4, 9), disliked_items=(4,)),  # 4 liked and disliked: the product sums it
    ]
    for _ in range(30):
        items = rng.choice(120, int(rng.integers(1, 9)), replace=False)
        profiles.append(
            Profile(
                liked_items=tuple(int(i) for i in items[:-1]) or (int(items[0]),),
                item_weights=None
                if rng.random() < 0.3
                else tuple(rng.uniform(0.1, 1.0, max(len(items) - 1, 1))),
                disliked_items=(int(items[-1]),) if len(items) > 1 else (),
            )
        )
    reference = (profiles_to_csr(profiles, 120, disliked_weight=0.7) @ model.sim).toarray()
    for row, p in enumerate(profiles):
        one = model.score_profiles([p])[0]
        assert one.dtype == np.float32
        np.testing.assert_array_equal(one, reference[row].astype(np.float32))
    assert model._profile_row(profiles[3]) is None
    np.testing.assert_array_equal(model.score_profiles(profiles[:4]), reference[:4].astype(np.float32))
