"""ALS and BPR (implicit): the contract, fold-in, similar items, seeding, BLAS threads, validation."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from recsys.errors import NotFittedError, ValidationError
from recsys.models.base import Recommender
from recsys.models.implicit_cf import ALS, BPR, rowwise_scores
from recsys.models.types import Profile
from recsys.settings import PROJECT_ROOT as ROOT
from tests.recsys.models.contract import ContractData, RecommenderContract, make_contract_data


class TestALSContract(RecommenderContract):
    def make_model(self) -> Recommender:
        return ALS(factors=8, regularization=20.0, iterations=15, random_state=1, num_threads=1)


class TestBPRContract(RecommenderContract):
    def make_model(self) -> Recommender:
        return BPR(factors=8, regularization=0.1, iterations=300, random_state=1)


@pytest.fixture(scope="module")
def cdata() -> ContractData:
    return make_contract_data()


@pytest.fixture(scope="module")
def als(cdata: ContractData) -> ALS:
    return ALS(factors=8, regularization=20.0, iterations=20, random_state=3, num_threads=1).fit(cdata.data)


@pytest.fixture(scope="module")
def bpr(cdata: ContractData) -> BPR:
    return BPR(factors=8, regularization=0.1, iterations=300, random_state=3).fit(cdata.data)


def test_rowwise_scores_equal_the_matrix_product() -> None:
    rng = np.random.default_rng(0)
    u, q = rng.random((5, 4), dtype=np.float32), rng.random((9, 4), dtype=np.float32)
    out = rowwise_scores(u, q)
    assert out.dtype == np.float32 and out.shape == (5, 9)
    np.testing.assert_allclose(out, u @ q.T, rtol=1e-6)
    np.testing.assert_array_equal(rowwise_scores(u[2:3], q)[0], out[2])


def test_als_fold_in_is_implicits_least_squares_solve(als: ALS, cdata: ContractData) -> None:
    p = Profile(liked_items=(0, 3, 5), item_weights=(1.0, 2.0, 1.0))
    row = np.zeros((1, cdata.data.n_items), dtype=np.float32)
    row[0, [0, 3, 5]] = [1.0, 2.0, 1.0]
    # the normal equations of the implicit-ALS user update: (Y^T C Y + reg I) x = Y^T C p, C = 1 + (c - 1)
    y = als.item_factors.astype(np.float64)
    conf = als.alpha * row[0]
    a = y.T @ y + als.regularization * np.eye(y.shape[1]) + (y.T * np.where(conf > 0, conf - 1, 0)) @ y
    x = np.linalg.solve(a, y.T @ conf)
    np.testing.assert_allclose(als.score_profiles([p])[0], y @ x, rtol=1e-3, atol=1e-4)


def test_als_fold_in_of_a_training_user_approximates_the_learned_user(als: ALS, cdata: ContractData) -> None:
    for u in range(0, cdata.data.n_users, 5):
        p = Profile(liked_items=tuple(int(i) for i in cdata.seen(u)))
        learned, folded = als.score_users(np.array([u]))[0], als.score_profiles([p])[0]
        assert np.corrcoef(learned, folded)[0, 1] > 0.99


def test_bpr_fold_in_is_the_weighted_mean_of_liked_factors_with_the_bias(bpr: BPR) -> None:
    q = bpr.item_factors
    p = Profile(liked_items=(1, 4), disliked_items=(15,), item_weights=(3.0, 1.0))
    user = np.append((3 * q[1, :-1] + q[4, :-1] - bpr.disliked_weight * q[15, :-1]) / 4.0, 1.0)
    np.testing.assert_allclose(bpr.score_profiles([p])[0], q @ user, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["als", "bpr"])
def test_similar_items_rank_by_factor_cosine(name: str, request: pytest.FixtureRequest) -> None:
    model = request.getfixturevalue(name)
    f = model.item_factors[:, :-1] if name == "bpr" else model.item_factors
    unit = f / np.linalg.norm(f, axis=1, keepdims=True).clip(1e-12)
    rec = model.similar_items([4], k=5)[0]
    cos = unit @ unit[4]
    cos[4] = -np.inf
    np.testing.assert_allclose(rec.scores, cos[rec.items], rtol=1e-5, atol=1e-6)
    assert rec.scores[-1] >= np.sort(cos)[-5] - 1e-6  # the five best cosines (up to rounding)
    with pytest.raises(ValidationError):
        model.similar_items([4], k=0)


def test_bpr_items_nobody_liked_have_zero_factors_and_zero_similarity(bpr: BPR, cdata: ContractData) -> None:
    cold = int(np.flatnonzero(cdata.item_block == -1)[0])
    assert not bpr.item_factors[cold].any()
    assert np.all(bpr.similar_items([cold], k=cdata.data.n_items)[0].scores == 0.0)


@pytest.mark.parametrize("cls", [ALS, BPR])
def test_the_seed_decides_the_factors(cls: type, cdata: ContractData) -> None:
    a = cls(factors=4, iterations=3, random_state=7, num_threads=1).fit(cdata.data)
    b = cls(factors=4, iterations=3, random_state=7, num_threads=1).fit(cdata.data)
    c = cls(factors=4, iterations=3, random_state=8, num_threads=1).fit(cdata.data)
    np.testing.assert_array_equal(a.item_factors, b.item_factors)
    assert not np.array_equal(a.item_factors, c.item_factors)


def test_als_is_deterministic_with_several_threads(cdata: ContractData) -> None:
    one = ALS(factors=4, iterations=3, num_threads=1).fit(cdata.data)
    two = ALS(factors=4, iterations=3, num_threads=2).fit(cdata.data)
    np.testing.assert_array_equal(one.item_factors, two.item_factors)


def test_fit_limits_blas_threads_only_while_fitting() -> None:
    # a fresh interpreter, so implicit is imported (and checks BLAS) for the first time inside fit
    code = "\n".join(
        [
            "import warnings; warnings.simplefilter('error', RuntimeWarning)",
            "import implicit.utils",
            "from threadpoolctl import threadpool_info",
            "from recsys.models.implicit_cf import ALS, BPR",
            "from tests.recsys.models.contract import make_contract_data",
            "for cls in (ALS, BPR):",
            "    implicit.utils._checked_blas_config = False  # implicit checks once per process",
            "    cls(factors=4, iterations=2, num_threads=1).fit(make_contract_data().data)",
            "blas = [a for a in threadpool_info() if a['user_api'] == 'blas']",
            "threads = {a['filepath']: a['num_threads'] for a in blas}",
            "assert threads and all(n == 2 for n in threads.values()), threads",
            "print('ok')",
        ]
    )
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2"}
    env.pop("OMP_NUM_THREADS", None)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_progress_bar_is_shown_on_request(cdata: ContractData, capsys: pytest.CaptureFixture[str]) -> None:
    ALS(factors=4, iterations=3, num_threads=1).fit(cdata.data, show_progress=True)
    assert "3/3" in capsys.readouterr().err
    ALS(factors=4, iterations=3, num_threads=1).fit(cdata.data)
    assert "3/3" not in capsys.readouterr().err


def test_unfitted_factors_raise() -> None:
    with pytest.raises(NotFittedError):
        _ = ALS().item_factors


@pytest.mark.parametrize(
    ("cls", "kwargs", "message"),
    [
        (ALS, {"factors": 0}, "factors"),
        (ALS, {"alpha": 0.0}, "alpha"),
        (ALS, {"iterations": 0}, "iterations"),
        (ALS, {"regularization": -1.0}, "regularization"),
        (ALS, {"num_threads": -1}, "num_threads"),
        (BPR, {"learning_rate": 0.0}, "learning_rate"),
        (BPR, {"disliked_weight": -1.0}, "disliked_weight"),
    ],
)
def test_invalid_hyperparameters_are_rejected(cls: type, kwargs: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        cls(**kwargs)
