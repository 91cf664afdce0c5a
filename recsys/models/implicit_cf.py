"""Matrix factorisation generators from the `implicit` library (CPU): ALS and BPR.

Both learn user and item factors from `user_items`; a known user's scores are user_factors[u] . item_factors.
Scores are computed one row at a time (a BLAS matrix-vector product per row) so a user's scores are
bit-identical whether it is scored alone or in a batch.

Ad-hoc profiles (a dialogue's seed items) need a user vector without refitting:
- ALS folds in exactly: the least-squares solve for one user with the item factors fixed (implicit's
  `recalculate_user`), with liked items at confidence alpha * weight. Disliked items enter with a negative
  value, which implicit reads as "preference 0 with confidence alpha * disliked_weight": the user vector is
  pushed away from them.
- BPR has no closed-form fold-in. The user vector is the weighted mean of the liked items' factors minus
  disliked_weight x the (liked-weight-normalised) sum of the disliked items' factors, with the user's bias
  coordinate set to 1 as in training (so item biases count). Measured on ml-latest-small (ratings >= 3,
  random 80/20 split, default hyperparameters), for 10-item profiles: recall@20 0.258 (ALS fold-in: 0.252).
  Refining that vector with full-gradient steps on the BPR objective (items fixed) made it worse (0.264 ->
  0.249 after 5 steps, at learning_rate 0.05) while costing two passes over all item factors per step,
  so the mean is used as is.

`similar_items` ranks by cosine of item factors (BPR's bias column left out).
Fitting limits BLAS to one thread (implicit parallelises itself and warns that a threaded OpenBLAS slows it
down badly). ALS is deterministic for a given random_state whatever num_threads is; BPR is deterministic
only with num_threads=1 (its default), as its multi-threaded SGD is Hogwild-style.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from threadpoolctl import threadpool_limits

from recsys.errors import NotFittedError, ValidationError
from recsys.models.base import Recommender, profiles_to_csr
from recsys.models.threads import single_thread_blas
from recsys.models.types import Profile, Recommendations, TrainData


class _FactorModel(Recommender):
    """Shared machinery of ALS and BPR: fitting under a BLAS thread limit, row-wise scoring, similar_items."""

    name: ClassVar[str] = "factor_model"
    _bias_column: ClassVar[bool] = False  # BPR keeps an item-bias column as the last factor

    def __init__(
        self,
        *,
        factors: int,
        regularization: float,
        iterations: int,
        random_state: int | None,
        num_threads: int,
        disliked_weight: float,
    ) -> None:
        super().__init__()
        _check(factors >= 1, f"factors must be >= 1, got {factors}")
        _check(regularization >= 0, f"regularization must be >= 0, got {regularization}")
        _check(iterations >= 1, f"iterations must be >= 1, got {iterations}")
        _check(num_threads >= 0, f"num_threads must be >= 0 (0 = all cores), got {num_threads}")
        _check(disliked_weight >= 0, f"disliked_weight must be >= 0, got {disliked_weight}")
        self.factors = factors
        self.regularization = regularization
        self.iterations = iterations
        self.random_state = random_state
        self.num_threads = num_threads
        self.disliked_weight = disliked_weight
        self.model_: Any = None
        self._unit_items: np.ndarray | None = None

    def _model_class(self) -> type:
        """The implicit model class (imported lazily: implicit is only needed to fit)."""
        raise NotImplementedError

    def _model_params(self) -> dict[str, Any]:
        """Keyword arguments of the implicit model class."""
        raise NotImplementedError

    def _fold_in(self, profiles: Sequence[Profile]) -> np.ndarray:
        """User vectors (len(profiles) x item_factors.shape[1], float32) for ad-hoc profiles."""
        raise NotImplementedError

    def _fit(self, data: TrainData, *, show_progress: bool) -> None:
        # Import first: importing implicit may load another BLAS, which the limit must also cover. implicit
        # checks the BLAS thread count when a model is built, so build it under the limit too.
        model_class = self._model_class()
        with threadpool_limits(limits=1, user_api="blas"):
            model = model_class(
                factors=self.factors,
                regularization=self.regularization,
                iterations=self.iterations,
                num_threads=self.num_threads or _available_cores(),
                random_state=self.random_state,
                **self._model_params(),
            )
            model.fit(data.user_items, show_progress=show_progress)
        # Scoring is latency-bound (one dialogue profile at a time): implicit's OpenMP fold-in only adds
        # thread wake-ups there, so it runs single-threaded after fitting.
        model.num_threads = 1
        self.model_ = model
        self._unit_items = None

    @property
    def item_factors(self) -> np.ndarray:
        """n_items x d item factors (float32; BPR's last column is the item bias)."""
        if self.model_ is None:
            raise NotFittedError(f"{self.name}: call fit() or load() first")
        return self.model_.item_factors

    @property
    def user_factors(self) -> np.ndarray:
        """n_users x d user factors (float32; BPR's last column is a constant 1)."""
        if self.model_ is None:
            raise NotFittedError(f"{self.name}: call fit() or load() first")
        return self.model_.user_factors

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        return rowwise_scores(self.user_factors[users], self.item_factors)

    def _score_profiles(self, profiles: Sequence[Profile]) -> np.ndarray:
        return rowwise_scores(self._fold_in(profiles), self.item_factors)

    def similar_items(self, items: Sequence[int] | np.ndarray, *, k: int = 10) -> list[Recommendations]:
        """Items whose factors have the highest cosine with each given item's (the item itself excluded)."""
        if k < 1:
            raise ValidationError(f"k must be >= 1, got {k}")
        if np.ndim(items) != 1:
            raise ValidationError("items must be a 1-D sequence of item indices")
        idx = self._check_items(np.asarray(items, dtype=np.int64))
        unit = self._unit_item_factors()
        out = []
        for item in idx:
            row = np.vecdot(unit, unit[item])
            row[item] = -np.inf
            out.append(self._top_k(row, k))
        return out

    def _unit_item_factors(self) -> np.ndarray:
        if self._unit_items is None:
            f = self.item_factors[:, :-1] if self._bias_column else self.item_factors
            norms = np.linalg.norm(f, axis=1, keepdims=True)
            self._unit_items = np.ascontiguousarray(
                np.divide(f, norms, out=np.zeros_like(f), where=norms > 0), dtype=np.float32
            )
        return self._unit_items


class ALS(_FactorModel):
    """Implicit-feedback ALS (Hu, Koren & Volinsky 2008) with conjugate-gradient updates.

    alpha scales the confidence of a positive (confidence = alpha * weight). Defaults were chosen on
    ml-latest-small (ratings >= 3): recall@20 0.291 on a random 20 % hold-out.
    """

    name: ClassVar[str] = "als"

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.1,
        alpha: float = 10.0,
        iterations: int = 15,
        *,
        random_state: int | None = 0,
        num_threads: int = 0,
        disliked_weight: float = 1.0,
    ) -> None:
        super().__init__(
            factors=factors,
            regularization=regularization,
            iterations=iterations,
            random_state=random_state,
            num_threads=num_threads,
            disliked_weight=disliked_weight,
        )
        _check(alpha > 0, f"alpha must be > 0, got {alpha}")
        self.alpha = alpha

    def _model_class(self) -> type:
        from implicit.cpu.als import AlternatingLeastSquares

        return AlternatingLeastSquares

    def _model_params(self) -> dict[str, Any]:
        return {"alpha": self.alpha}

    def _fold_in(self, profiles: Sequence[Profile]) -> np.ndarray:
        rows = profiles_to_csr(profiles, self.n_items, disliked_weight=self.disliked_weight)
        # implicit's solver calls scipy's BLAS once per liked item (syr) and then a Cholesky solve: tiny
        # operations that a threaded BLAS still splits, so one thread (recsys/models/threads.py)
        with single_thread_blas():
            vecs = self.model_.recalculate_user(np.arange(len(profiles)), rows)
        return np.asarray(vecs, dtype=np.float32).reshape(len(profiles), -1)


class BPR(_FactorModel):
    """Bayesian Personalised Ranking (Rendle et al. 2009), SGD over (user, liked, sampled negative) triples.

    The factors carry an item bias (last item-factor column; the users' last column is 1). Defaults from
    ml-latest-small (ratings >= 3, 80/20 split): recall@20 0.223 for known users; learning_rate 0.05 gave
    0.181 (but 0.264 for 10-item profiles instead of 0.258), regularization 0.05 or 0.1 was worse for both.
    """

    name: ClassVar[str] = "bpr"
    _bias_column: ClassVar[bool] = True

    def __init__(
        self,
        factors: int = 64,
        learning_rate: float = 0.01,
        regularization: float = 0.01,
        iterations: int = 100,
        *,
        random_state: int | None = 0,
        num_threads: int = 1,
        disliked_weight: float = 1.0,
    ) -> None:
        super().__init__(
            factors=factors,
            regularization=regularization,
            iterations=iterations,
            random_state=random_state,
            num_threads=num_threads,
            disliked_weight=disliked_weight,
        )
        _check(learning_rate > 0, f"learning_rate must be > 0, got {learning_rate}")
        self.learning_rate = learning_rate

    def _model_class(self) -> type:
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        return BayesianPersonalizedRanking

    def _model_params(self) -> dict[str, Any]:
        return {"learning_rate": self.learning_rate}

    def _fold_in(self, profiles: Sequence[Profile]) -> np.ndarray:
        rows = profiles_to_csr(profiles, self.n_items, disliked_weight=self.disliked_weight)
        liked_mass = np.array([sum(p.item_weights or (1.0,) * len(p.liked_items)) for p in profiles])
        liked_mass = np.where(liked_mass > 0, liked_mass, 1.0)
        # (the whole contiguous factor matrix: slicing off the bias column first would copy it every call)
        vecs = np.asarray(rows @ self.item_factors, dtype=np.float32) / liked_mass[:, None].astype(np.float32)
        vecs[:, -1] = 1.0  # the user's bias coordinate, as in training
        return vecs


def rowwise_scores(user_vecs: np.ndarray, item_factors: np.ndarray) -> np.ndarray:
    """user_vecs @ item_factors.T as one dot product per (user, item) pair (numpy's vecdot).

    Unlike a BLAS GEMM/GEMV, each score does not depend on which other rows are in the batch (a batched
    GEMM rounds differently from a single GEMV), and no BLAS thread pool is woken up: on a busy 2-core
    machine a threaded OpenBLAS GEMV for one 9.7k x 64 profile measured p99 40 ms wall (9.6 ms CPU),
    vecdot 0.2 ms CPU.
    """
    items = np.ascontiguousarray(item_factors, dtype=np.float32)
    users = np.ascontiguousarray(user_vecs, dtype=np.float32)
    return np.vecdot(items[None, :, :], users[:, None, :])


def _available_cores() -> int:
    """CPU cores this process may run on (implicit's own "0 = all cores" was measured to be very slow
    on tiny data here: 1.5 s instead of 3 ms for a 48-user fit)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValidationError(message)
