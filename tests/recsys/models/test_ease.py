"""EASE: the contract, the closed form against numpy, the size guard, dislikes, validation."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.errors import NotFittedError, ValidationError
from recsys.models.base import Recommender
from recsys.models.ease import EASE, ease_weights
from recsys.models.types import Profile, TrainData
from tests.recsys.models.contract import RecommenderContract


class TestEASEContract(RecommenderContract):
    def make_model(self) -> Recommender:
        return EASE()


def _random_matrix(seed: int = 4, n_users: int = 50, n_items: int = 21) -> sp.csr_matrix:
    x = sp.random(n_users, n_items, density=0.3, format="csr", random_state=seed, dtype=np.float32)
    x.data[:] = 1.0
    return x


def _reference(x: sp.csr_matrix, l2: float) -> np.ndarray:
    gram = x.T.toarray().astype(np.float64) @ x.toarray() + l2 * np.eye(x.shape[1])
    p = np.linalg.inv(gram)
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    return b


@pytest.mark.parametrize("block_cells", [1 << 22, 40])  # one block, and many small blocks
def test_weights_match_the_closed_form(monkeypatch: pytest.MonkeyPatch, block_cells: int) -> None:
    import recsys.models.ease as mod

    monkeypatch.setattr(mod, "_BLOCK_CELLS", block_cells)
    x = _random_matrix()
    b = ease_weights(x, 7.0)
    assert b.dtype == np.float32 and b.flags.c_contiguous
    np.testing.assert_allclose(b, _reference(x, 7.0), rtol=1e-4, atol=1e-6)
    assert not np.diag(b).any()


def test_weights_minimise_the_ease_objective() -> None:
    # B solves min ||X - XB||^2 + l2 ||B||^2 s.t. diag(B) = 0: the gradient vanishes off the diagonal
    x = _random_matrix(seed=9).toarray().astype(np.float64)
    b = ease_weights(sp.csr_matrix(x), 3.0).astype(np.float64)
    grad = -2 * x.T @ (x - x @ b) + 2 * 3.0 * b
    np.fill_diagonal(grad, 0.0)
    assert np.abs(grad).max() < 1e-3


def test_scores_are_rows_times_b() -> None:
    x = _random_matrix()
    model = EASE(l2=5.0, disliked_weight=0.5).fit(TrainData(user_items=x))
    b = model.weights
    np.testing.assert_allclose(
        model.score_users(np.arange(x.shape[0])), x.toarray() @ b, rtol=1e-5, atol=1e-6
    )
    p = Profile(liked_items=(1, 4), disliked_items=(6,), item_weights=(1.0, 3.0))
    np.testing.assert_allclose(
        model.score_profiles([p])[0], b[1] + 3 * b[4] - 0.5 * b[6], rtol=1e-5, atol=1e-6
    )


def test_a_catalogue_above_max_items_is_refused_with_the_memory_it_would_need() -> None:
    x = _random_matrix(n_items=30)
    with pytest.raises(ValidationError, match=r"30 items exceed max_items=29.*GB"):
        EASE(max_items=29).fit(TrainData(user_items=x))
    assert EASE(max_items=30).fit(TrainData(user_items=x)).weights.shape == (30, 30)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"l2": 0.0}, "l2"), ({"max_items": 0}, "max_items"), ({"disliked_weight": -1.0}, "disliked_weight")],
)
def test_invalid_hyperparameters_are_rejected(kwargs: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        EASE(**kwargs)


def test_progress_is_shown_on_request(capsys: pytest.CaptureFixture[str]) -> None:
    data = TrainData(user_items=_random_matrix())
    EASE().fit(data, show_progress=True)
    assert "ease" in capsys.readouterr().err
    EASE().fit(data)
    assert capsys.readouterr().err == ""


def test_unfitted_weights_raise() -> None:
    with pytest.raises(NotFittedError):
        _ = EASE().weights
