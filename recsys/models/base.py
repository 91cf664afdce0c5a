"""The one Recommender contract (after implicit's RecommenderBase), implemented by every candidate
generator and by the fusion ranker. Evaluation imports only this module.

A model implements `_fit`, `_score_users` and `_score_profiles` (dense scores, batch x n_items); the base
class does validation, cold start, exclusion, top-k and provenance, so every model behaves the same
at the edges:
- unknown user / item ids raise UnknownUserError / UnknownItemError;
- k larger than the catalog returns every item that is not excluded;
- a profile with no liked items but liked attributes is scored by attribute match (popularity breaks ties),
  unless the model sets `uses_attributes = True` and handles attributes itself; an empty profile gets
  popularity.
"""

from __future__ import annotations

import importlib
import pickle
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from recsys.errors import ArtifactError, NotFittedError, UnknownItemError, UnknownUserError, ValidationError
from recsys.models.threads import single_thread_blas
from recsys.models.types import Profile, Recommendations, Trace, TrainData

_SCORE_CHUNK = 1024  # rows scored at once in batch calls (bounds memory on large catalogs)
# what pickle.load raises on a truncated, corrupt or foreign file
_UNPICKLING_ERRORS = (
    pickle.UnpicklingError,
    EOFError,
    AttributeError,
    ImportError,
    IndexError,
    ValueError,
    TypeError,
)


class Recommender(ABC):
    """fit / recommend / similar_items / save / load, batch-first."""

    name: ClassVar[str] = "recommender"
    uses_attributes: ClassVar[bool] = False  # True: _score_profiles handles attribute-only profiles itself

    def __init__(self) -> None:
        self._data: TrainData | None = None
        self._popularity: np.ndarray | None = None

    # ---- to implement -------------------------------------------------------------------------------
    @abstractmethod
    def _fit(self, data: TrainData, *, show_progress: bool) -> None: ...

    @abstractmethod
    def _score_users(self, users: np.ndarray) -> np.ndarray:
        """Scores (len(users) x n_items, float32) for known users (indices already validated)."""

    @abstractmethod
    def _score_profiles(self, profiles: Sequence[Profile]) -> np.ndarray:
        """Scores (len(profiles) x n_items, float32) for ad-hoc profiles with at least one liked item
        (or any non-empty profile when uses_attributes is True)."""

    # ---- public contract ----------------------------------------------------------------------------
    def fit(self, data: TrainData, *, show_progress: bool = False) -> Self:
        if data.n_items == 0:
            raise ValidationError("cannot fit on data with no items")
        self._data = data
        self._popularity = data.item_popularity()
        self._fit(data, show_progress=show_progress)
        return self

    @property
    def data(self) -> TrainData:
        if self._data is None:
            raise NotFittedError(f"{self.name}: call fit() or load() first")
        return self._data

    @property
    def n_items(self) -> int:
        return self.data.n_items

    def recommend(
        self,
        users: Sequence[int] | np.ndarray | None = None,
        *,
        profiles: Sequence[Profile] | None = None,
        k: int = 10,
        exclude: Sequence[Iterable[int]] | None = None,
        filter_seen: bool = True,
        candidates: Iterable[int] | None = None,
    ) -> list[Recommendations]:
        """Top-k for a batch of known users *or* a batch of ad-hoc profiles (exactly one of the two).

        exclude: per-row item indices never to return. filter_seen: drop the user's training items (or the
        profile's liked and disliked items). candidates: restrict the ranking to these item indices.
        """
        if (users is None) == (profiles is None):
            raise ValidationError("recommend() takes either users or profiles, not both and not neither")
        if users is not None and np.ndim(users) != 1:
            raise ValidationError(
                "users must be a 1-D sequence of user indices (wrap a single user in a list)"
            )
        if k < 1:
            raise ValidationError(f"k must be >= 1, got {k}")
        n_rows = len(users) if users is not None else len(profiles)  # type: ignore[arg-type]
        if exclude is not None and len(exclude) != n_rows:
            raise ValidationError(f"exclude has {len(exclude)} rows for {n_rows} queries")
        allowed = None
        if candidates is not None:
            cand = self._check_items(np.fromiter(candidates, dtype=np.int64))
            allowed = np.zeros(self.n_items, dtype=bool)
            allowed[cand] = True
        results: list[Recommendations] = []
        for start in range(0, n_rows, _SCORE_CHUNK):
            stop = min(start + _SCORE_CHUNK, n_rows)
            if users is not None:
                uidx = self._check_users(np.asarray(users[start:stop], dtype=np.int64))
                scores = self.score_users(uidx)
                seen_rows = [self.data.user_items[u].indices for u in uidx] if filter_seen else None
            else:
                chunk = list(profiles[start:stop])  # type: ignore[index]
                scores = self.score_profiles(chunk)
                seen_rows = (
                    [np.asarray(p.liked_items + p.disliked_items, dtype=np.int64) for p in chunk]
                    if filter_seen
                    else None
                )
            scores = np.array(scores, dtype=np.float32, copy=True)
            if allowed is not None:
                scores[:, ~allowed] = -np.inf
            for row in range(stop - start):
                if seen_rows is not None and len(seen_rows[row]):
                    scores[row, seen_rows[row]] = -np.inf
                if exclude is not None:
                    ex = np.fromiter(exclude[start + row], dtype=np.int64)
                    if len(ex):
                        scores[row, self._check_items(ex)] = -np.inf
                results.append(self._top_k(scores[row], k))
        return results

    def similar_items(self, items: Sequence[int] | np.ndarray, *, k: int = 10) -> list[Recommendations]:
        """Items most similar to each given item (the item itself excluded). Default: a one-item profile."""
        idx = self._check_items(np.asarray(items, dtype=np.int64))
        return self.recommend(profiles=[Profile(liked_items=(int(i),)) for i in idx], k=k)

    def score_users(self, users: np.ndarray) -> np.ndarray:
        return self._score_users(users)

    def score_profiles(self, profiles: Sequence[Profile]) -> np.ndarray:
        """Dense scores for profiles, routing cold-start profiles to attribute / popularity scoring.

        Runs with BLAS limited to one thread (recsys.models.threads): profile scoring is the dialogue's
        latency-bound path, where a threaded BLAS only adds waiting on a busy machine.
        """
        for p in profiles:
            self._check_profile(p)
        return self.route_profiles(profiles)

    def route_profiles(self, profiles: Sequence[Profile]) -> np.ndarray:
        """`score_profiles` for profiles validated already (`_check_profile`), e.g. once by a fusion
        ranker for all its generators: warm profiles to `_score_profiles`, the others to cold start."""
        out = np.empty((len(profiles), self.n_items), dtype=np.float32)
        warm = [i for i, p in enumerate(profiles) if self._is_warm(p)]
        if warm and len(warm) == len(profiles):  # the usual case: no fancy-indexed copy of the rows
            with single_thread_blas():
                out[...] = self._score_profiles(profiles)
            return out
        if warm:
            with single_thread_blas():
                out[warm] = self._score_profiles([profiles[i] for i in warm])
        warm_set = set(warm)
        for i, p in enumerate(profiles):
            if i not in warm_set:
                out[i] = self.cold_start_scores(p)
        return out

    def cold_start_scores(self, profile: Profile) -> np.ndarray:
        """Attribute match (liked minus disliked) with a small popularity tie-break; popularity if empty."""
        pop = self._popularity if self._popularity is not None else self.data.item_popularity()
        pop_norm = np.log1p(pop) / max(float(np.log1p(pop).max()), 1e-9)
        ia = self.data.item_attributes
        if ia is None or not (profile.liked_attributes or profile.disliked_attributes):
            return pop_norm.astype(np.float32)
        vec = np.zeros(ia.shape[1], dtype=np.float32)
        vec[list(profile.liked_attributes)] += 1.0
        vec[list(profile.disliked_attributes)] -= 1.0
        match = np.asarray(ia @ vec, dtype=np.float32).ravel()
        return (match + 0.1 * pop_norm).astype(np.float32)

    # ---- persistence --------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Pickle the fitted model to `path` (models with tensors override `_state` / `_set_state`)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"class": f"{type(self).__module__}.{type(self).__qualname__}", "state": self._state()}
        tmp = path.with_suffix(path.suffix + ".tmp")
        with tmp.open("wb") as fh:
            pickle.dump(payload, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Self:
        path = Path(path)
        if not path.is_file():
            raise ArtifactError(f"{path}: no saved model")
        try:
            with path.open("rb") as fh:
                payload = pickle.load(fh)
        except _UNPICKLING_ERRORS as exc:
            raise ArtifactError(f"{path}: not a readable saved model ({exc})") from exc
        if not isinstance(payload, dict) or "state" not in payload:
            raise ArtifactError(f"{path}: not a saved model (unexpected content)")
        expected = f"{cls.__module__}.{cls.__qualname__}"
        if payload.get("class") != expected and cls is not Recommender:
            raise ArtifactError(f"{path}: holds a {payload.get('class')}, not a {expected}")
        target = _saved_class(str(payload.get("class")), path) if cls is Recommender else cls
        obj = target.__new__(target)
        obj._set_state(payload["state"])
        return obj

    def _state(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def _set_state(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    # ---- helpers ------------------------------------------------------------------------------------
    def _is_warm(self, p: Profile) -> bool:
        return bool(p.liked_items) or (self.uses_attributes and not p.is_empty)

    def _check_users(self, users: np.ndarray) -> np.ndarray:
        bad = users[(users < 0) | (users >= self.data.n_users)]
        if len(bad):
            raise UnknownUserError(
                f"{self.name}: unknown user index {int(bad[0])} (0..{self.data.n_users - 1})"
            )
        return users

    def _check_items(self, items: np.ndarray) -> np.ndarray:
        bad = items[(items < 0) | (items >= self.n_items)]
        if len(bad):
            raise UnknownItemError(f"{self.name}: unknown item index {int(bad[0])} (0..{self.n_items - 1})")
        return items

    def _check_profile(self, p: Profile) -> None:
        self._check_items(np.asarray(p.liked_items + p.disliked_items, dtype=np.int64))
        attrs = np.asarray(p.liked_attributes + p.disliked_attributes, dtype=np.int64)
        bad = attrs[(attrs < 0) | (attrs >= self.data.n_attributes)]
        if len(bad):
            raise UnknownItemError(f"{self.name}: unknown attribute index {int(bad[0])}")
        if p.item_weights is not None and len(p.item_weights) != len(p.liked_items):
            raise ValidationError("item_weights must have one weight per liked item")

    def _top_k(self, row: np.ndarray, k: int) -> Recommendations:
        valid = np.flatnonzero(np.isfinite(row))
        k = min(k, len(valid))
        if k == 0:
            return Recommendations(np.empty(0, np.int64), np.empty(0, np.float32), ())
        vals = row[valid]
        if k < len(valid):
            # everything above the k-th best score, then the lowest item indices among those tied with it
            # (argpartition alone would pick an arbitrary subset of the items tied at the boundary)
            # (selecting on -vals: numpy's partition is ~10x slower selecting near the end of an array with
            # many equal values, the usual shape of sparse-model scores)
            kth = -np.partition(-vals, k - 1)[k - 1]
            above = np.flatnonzero(vals > kth)
            part = np.concatenate([above, np.flatnonzero(vals == kth)[: k - len(above)]])
        else:
            part = np.arange(len(valid))
        # stable order: score desc, then item index asc (deterministic ties)
        order = np.lexsort((valid[part], -vals[part]))
        items = valid[part][order].astype(np.int64)
        scores = vals[part][order].astype(np.float32)
        prov = tuple({self.name: Trace(float(s), r + 1)} for r, s in enumerate(scores))
        return Recommendations(items, scores, prov)


def _saved_class(qualified: str, path: Path) -> type[Recommender]:
    """The Recommender subclass named in a saved payload ("module.Class"), for `Recommender.load`."""
    module_name, _, class_name = qualified.rpartition(".")
    try:
        target = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ArtifactError(f"{path}: saved model class {qualified} cannot be imported ({exc})") from exc
    if not (isinstance(target, type) and issubclass(target, Recommender)):
        raise ArtifactError(f"{path}: {qualified} is not a Recommender")
    return target


def profile_item_vector(profile: Profile, n_items: int, *, disliked_weight: float = 0.0) -> np.ndarray:
    """A dense n_items vector of a profile's liked items (with weights) and optionally negative dislikes."""
    vec = np.zeros(n_items, dtype=np.float32)
    weights = profile.item_weights or (1.0,) * len(profile.liked_items)
    for item, w in zip(profile.liked_items, weights, strict=True):
        vec[item] += w
    if disliked_weight:
        vec[list(profile.disliked_items)] -= disliked_weight
    return vec


def profiles_to_csr(
    profiles: Sequence[Profile], n_items: int, *, disliked_weight: float = 0.0
) -> sp.csr_matrix:
    """Liked items of each profile as rows of a CSR matrix (the fold-in input of CF models).

    With `disliked_weight` > 0, disliked items enter the row with weight -disliked_weight (duplicates add up).
    Built from arrays directly (no COO detour: this runs on every dialogue turn, 4x faster).
    """
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    indptr = np.zeros(len(profiles) + 1, dtype=np.int32)
    for r, p in enumerate(profiles):
        items = np.asarray(p.liked_items, dtype=np.int32)
        w = (
            np.asarray(p.item_weights, dtype=np.float32)
            if p.item_weights
            else np.ones(len(items), dtype=np.float32)
        )
        if disliked_weight and p.disliked_items:
            items = np.concatenate([items, np.asarray(p.disliked_items, dtype=np.int32)])
            w = np.concatenate([w, np.full(len(p.disliked_items), -disliked_weight, dtype=np.float32)])
        cols.append(items)
        vals.append(w)
        indptr[r + 1] = indptr[r] + len(items)
    matrix = sp.csr_matrix(
        (
            np.concatenate(vals) if vals else np.empty(0, np.float32),
            np.concatenate(cols) if cols else np.empty(0, np.int32),
            indptr,
        ),
        shape=(len(profiles), n_items),
    )
    matrix.sum_duplicates()  # also sorts each row's indices
    return matrix
