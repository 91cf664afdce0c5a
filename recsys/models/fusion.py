"""The fusion ranker: one Recommender that merges the top lists of several candidate generators.

Each active generator (weight > 0) returns its top-`depth` list; the fused score of an item is the
weighted mean of its per-generator contributions (an item absent from a list contributes 0 there):
- method "rrf" (reciprocal-rank fusion): contribution = (rrf_k + 1) / (rrf_k + rank), so rank 1 gives 1.0;
- method "weighted": contribution = the generator's raw score min-max normalised over its own list
  (1.0 for its best item, 0.0 for the last one; 1.0 for all when the list's scores are all equal).
Fused scores therefore lie in [0, 1] (1 = ranked first by every active generator). Equal weights with
"rrf" is plain RRF, the floor; `tune()` learns weights on a validation split (recsys.eval.fusion_tuning).

Provenance: `Recommendations.provenance[i]` maps each generator that proposed items[i] to its Trace (raw
score and 1-based rank in that generator's list); generators that did not propose it have no entry.

Per-call boosts (the dialogue's hook): `recommend(..., item_boost=[vec or None per row])`, each vec a dense
float array of length n_items added to the fused score. Items with a positive boost that no generator
proposed join the pool (fused part 0, empty provenance) unless excluded; -inf removes an item. Since fused
scores are in [0, 1], a boost of 0.1 is worth a tenth of the best possible fused score.
"""

from __future__ import annotations

import importlib
import pickle
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np

from recsys.errors import ArtifactError, ConfigError, ValidationError
from recsys.models.base import Recommender
from recsys.models.lists import (
    FusionMethod,
    TopList,
    blocked_items,
    contributions,
    keep_masks,
    top_lists,
)
from recsys.models.threads import single_thread_blas
from recsys.models.types import Profile, Recommendations, Trace, TrainData

_MANIFEST = "fusion.pkl"
_CHUNK = 256  # query rows scored at once (bounds the dense rows x n_items score matrices)
_FORMAT = 1


class FusionRanker(Recommender):
    """Fuses the ranked lists of several fitted (or to-be-fitted) generators; see the module docstring."""

    name = "fusion"
    uses_attributes = True  # every generator handles its own cold start

    def __init__(
        self,
        generators: Sequence[Recommender] | Mapping[str, Recommender],
        *,
        method: FusionMethod = "rrf",
        rrf_k: float = 60,
        depth: int = 100,
        weights: Sequence[float] | Mapping[str, float] | None = None,
    ) -> None:
        super().__init__()
        items = _named(generators)
        if not items:
            raise ConfigError("FusionRanker needs at least one generator")
        self.generators: dict[str, Recommender] = dict(items)
        self.method, self.rrf_k, self.depth = "rrf", 60.0, 100
        self.configure(method=method, rrf_k=rrf_k, depth=depth)
        self.weights = np.ones(len(items), dtype=np.float64)
        if weights is not None:
            self.set_weights(weights)
        self.tuning_: Any = None  # a recsys.eval.fusion_tuning.TuningResult after tune()

    # ---- configuration ------------------------------------------------------------------------------
    @property
    def generator_names(self) -> tuple[str, ...]:
        return tuple(self.generators)

    @property
    def active(self) -> list[tuple[str, Recommender, float]]:
        """(name, generator, weight) of the generators with a positive weight, the only ones queried."""
        return [
            (n, g, float(w)) for (n, g), w in zip(self.generators.items(), self.weights, strict=True) if w > 0
        ]

    def set_weights(self, weights: Sequence[float] | Mapping[str, float]) -> None:
        """Per-generator weights: a sequence in generator order, or name -> weight (others unchanged)."""
        new = self.weights.copy()
        if isinstance(weights, Mapping):
            unknown = set(weights) - set(self.generators)
            if unknown:
                raise ConfigError(f"unknown generators {sorted(unknown)}; have {list(self.generators)}")
            for i, name in enumerate(self.generators):
                new[i] = weights.get(name, new[i])
        else:
            if len(weights) != len(self.generators):
                raise ConfigError(f"{len(weights)} weights for {len(self.generators)} generators")
            new = np.asarray(weights, dtype=np.float64)
        if np.any(~np.isfinite(new)) or np.any(new < 0) or not np.any(new > 0):
            raise ConfigError(f"weights must be finite, >= 0 and not all 0, got {new.tolist()}")
        self.weights = np.asarray(new, dtype=np.float64)

    def configure(
        self, *, method: str | None = None, rrf_k: float | None = None, depth: int | None = None
    ) -> None:
        """Change the fusion method, rrf_k (>= 0) or depth (>= 1); used by tuning."""
        if method is not None:
            contributions(method, np.empty(0), self.rrf_k)  # validates the name
            self.method = method
        if rrf_k is not None:
            if rrf_k < 0:
                raise ConfigError(f"rrf_k must be >= 0, got {rrf_k}")
            self.rrf_k = float(rrf_k)
        if depth is not None:
            if depth < 1:
                raise ConfigError(f"depth must be >= 1, got {depth}")
            self.depth = int(depth)

    def tune(self, truth: Any, **options: Any) -> Any:
        """Learn method / weights on validation positives; see recsys.eval.fusion_tuning.tune_fusion."""
        from recsys.eval.fusion_tuning import tune_fusion

        return tune_fusion(self, truth, **options)

    # ---- training -----------------------------------------------------------------------------------
    def _fit(self, data: TrainData, *, show_progress: bool) -> None:
        for name, gen in self.generators.items():
            if gen._data is None:
                gen.fit(data, show_progress=show_progress)
            elif (gen.data.n_users, gen.data.n_items) != (data.n_users, data.n_items):
                raise ValidationError(
                    f"generator {name!r} was fitted on {gen.data.n_users} users x {gen.data.n_items} items, "
                    f"the fusion on {data.n_users} x {data.n_items}"
                )

    # ---- recommendation -----------------------------------------------------------------------------
    def recommend(
        self,
        users: Sequence[int] | np.ndarray | None = None,
        *,
        profiles: Sequence[Profile] | None = None,
        k: int = 10,
        exclude: Sequence[Iterable[int]] | None = None,
        filter_seen: bool = True,
        candidates: Iterable[int] | None = None,
        item_boost: Sequence[np.ndarray | None] | None = None,
    ) -> list[Recommendations]:
        """The base contract plus `item_boost` (one dense n_items vector or None per row; module docstring).

        Generators give their top max(depth, k) items with the same exclusions, so k larger than the
        depth still returns k items when the generators can provide them.
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
        # (arrays stay arrays: the dialogue's exclusions are thousands of items, not worth a Python list)
        exclude = (
            [e if isinstance(e, np.ndarray) else list(e) for e in exclude] if exclude is not None else None
        )
        if exclude is not None and len(exclude) != n_rows:
            raise ValidationError(f"exclude has {len(exclude)} rows for {n_rows} queries")
        if item_boost is not None and len(item_boost) != n_rows:
            raise ValidationError(f"item_boost has {len(item_boost)} rows for {n_rows} queries")
        allowed = None
        if candidates is not None:
            allowed = np.zeros(self.n_items, dtype=bool)
            allowed[self._check_items(np.fromiter(candidates, dtype=np.int64))] = True
        if users is not None:
            users = self._check_users(np.asarray(users, dtype=np.int64))
        else:
            for p in profiles:  # type: ignore[union-attr]
                self._check_profile(p)
        depth = max(self.depth, k)
        active = self.active
        checked = self._checks_cover(active)
        out: list[Recommendations] = []
        for start in range(0, n_rows, _CHUNK):
            stop = min(start + _CHUNK, n_rows)
            u_rows = users[start:stop] if users is not None else None
            p_rows = list(profiles[start:stop]) if profiles is not None else None
            ex_rows = exclude[start:stop] if exclude is not None else None
            blocked = blocked_items(self.data.user_items, u_rows, p_rows, ex_rows, filter_seen)
            if ex_rows is not None and any(len(e) for e in ex_rows):
                self._check_items(np.concatenate([np.asarray(e, dtype=np.int64) for e in ex_rows]))
            # one query (the dialogue's case): its mask of returnable items, built once for all generators
            keep = keep_masks(self.n_items, blocked, allowed) if stop - start == 1 else None
            with single_thread_blas():  # entered once for all generators (each would enter it again)
                lists = [
                    top_lists(gen, u_rows, p_rows, depth, blocked, allowed, keep=keep, checked=checked)
                    for _, gen, _ in active
                ]
            for row in range(stop - start):
                boost = None if item_boost is None else item_boost[start + row]
                if boost is not None:
                    mask = keep[row] if keep is not None else None
                    boost = self._boost_vector(boost, blocked[row], allowed, mask)
                out.append(self._fuse([lst[row] for lst in lists], k, boost, active))
        return out

    def _checks_cover(self, active: list[tuple[str, Recommender, float]]) -> bool:
        """Whether the fusion's own profile validation holds for every active generator (same item and
        attribute counts), so that they need not validate the same profiles again."""
        n_items, n_attributes = self.n_items, self.data.n_attributes
        return all(g.n_items == n_items and g.data.n_attributes == n_attributes for _, g, _ in active)

    def similar_items(self, items: Sequence[int] | np.ndarray, *, k: int = 10) -> list[Recommendations]:
        """Fusion of each active generator's own `similar_items` lists."""
        idx = self._check_items(np.asarray(items, dtype=np.int64))
        depth = max(self.depth, k)
        lists = [[(r.items, r.scores) for r in gen.similar_items(idx, k=depth)] for _, gen, _ in self.active]
        return [self._fuse([lst[row] for lst in lists], k, None) for row in range(len(idx))]

    def _fuse(
        self,
        lists: list[TopList],
        k: int | None,
        boost: np.ndarray | None,
        active: list[tuple[str, Recommender, float]] | None = None,
    ) -> Recommendations:
        """Fuse one row's generator lists (of the `active` generators, in order) into the top-k (all of
        the pool when k is None)."""
        if active is None:
            active = self.active
        weights = np.array([w for _, _, w in active])
        parts = [(g, items, scores) for g, (items, scores) in enumerate(lists) if len(items)]
        if parts:
            items_all = np.concatenate([items for _, items, _ in parts])
            contrib = np.concatenate(
                [weights[g] * contributions(self.method, scores, self.rrf_k) for g, _, scores in parts]
            )
            pool, inv = _unique_inverse(items_all)
            fused = np.bincount(inv, weights=contrib, minlength=len(pool)) / weights.sum()
        else:
            inv = np.empty(0, np.int64)
            pool, fused = np.empty(0, np.int64), np.empty(0, np.float64)
        if boost is not None:  # positive boosts outside the pool, ascending (a mask: no setdiff1d sort)
            outside = boost > 0
            outside[pool] = False
            extra = np.flatnonzero(outside)
            pool = np.concatenate([pool, extra])
            fused = np.concatenate([fused, np.zeros(len(extra))]) + boost[pool]
        keep = np.flatnonzero(np.isfinite(fused))
        if k is not None and len(keep) > k:  # only the items reaching the k-th best score are sorted
            values = fused[keep]
            keep = keep[values >= np.partition(values, len(values) - k)[len(values) - k]]
        order = keep[np.lexsort((pool[keep], -fused[keep]))]
        if k is not None:
            order = order[:k]
        slot = np.full(len(pool), -1, dtype=np.int64)
        slot[order] = np.arange(len(order))
        prov: list[dict[str, Trace]] = [{} for _ in order]
        offset = 0
        for g, items, scores in parts:
            name = active[g][0]
            slots = slot[inv[offset : offset + len(items)]]
            hits = np.flatnonzero(slots >= 0)
            for pos, at, score in zip(
                hits.tolist(), slots[hits].tolist(), scores[hits].tolist(), strict=True
            ):
                prov[at][name] = Trace(float(score), pos + 1)
            offset += len(items)
        return Recommendations(pool[order].astype(np.int64), fused[order].astype(np.float32), tuple(prov))

    def _boost_vector(
        self,
        boost: np.ndarray,
        blocked: np.ndarray,
        allowed: np.ndarray | None,
        keep: np.ndarray | None = None,
    ) -> np.ndarray:
        """A row's boost with the row's exclusions applied (-inf), so boosted items respect them too.
        `keep`, when given, is the row's mask of returnable items (`allowed` minus `blocked`)."""
        vec = np.array(boost, dtype=np.float64, copy=True).ravel()
        if len(vec) != self.n_items or np.isnan(vec).any():
            raise ValidationError(f"item_boost rows must be {self.n_items} numbers without NaN")
        if keep is not None:
            vec[~keep] = -np.inf
            return vec
        if allowed is not None:
            vec[~allowed] = -np.inf
        vec[blocked] = -np.inf
        return vec

    # ---- dense scores (fused score over the pool, -inf elsewhere) ----------------------------------
    def _dense(self, recs: list[Recommendations]) -> np.ndarray:
        out = np.full((len(recs), self.n_items), -np.inf, dtype=np.float32)
        for row, r in enumerate(recs):
            out[row, r.items] = r.scores
        return out

    def _dense_fused(self, users: np.ndarray | None, profiles: Sequence[Profile] | None) -> np.ndarray:
        n_rows = len(users) if users is not None else len(profiles)  # type: ignore[arg-type]
        none = [np.empty(0, np.int64)] * n_rows
        lists = [top_lists(g, users, profiles, self.depth, none, None) for _, g, _ in self.active]
        return self._dense([self._fuse([lst[i] for lst in lists], None, None) for i in range(n_rows)])

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        return self._dense_fused(users, None)

    def _score_profiles(self, profiles: Sequence[Profile]) -> np.ndarray:
        return self._dense_fused(None, profiles)

    def score_profiles(self, profiles: Sequence[Profile]) -> np.ndarray:
        """Dense fused scores for any profiles (each generator does its own cold start)."""
        for p in profiles:
            self._check_profile(p)
        return self._score_profiles(profiles)

    # ---- persistence: a directory with a manifest and one file per generator ------------------------
    def save(self, path: str | Path) -> Path:
        """Save to directory `path`: `fusion.pkl` (configuration) plus each generator's own `save` file."""
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise ArtifactError(f"{path}: FusionRanker saves to a directory, and this is a file")
        path.mkdir(parents=True, exist_ok=True)
        entries = []
        for i, (name, gen) in enumerate(self.generators.items()):
            filename = f"{i:02d}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.model"
            saved = gen.save(path / filename)
            entries.append((name, f"{type(gen).__module__}.{type(gen).__qualname__}", saved.name))
        manifest = {
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            "format": _FORMAT,
            "generators": entries,
            "method": self.method,
            "rrf_k": self.rrf_k,
            "depth": self.depth,
            "weights": self.weights.tolist(),
            "tuning": self.tuning_,
        }
        with (path / _MANIFEST).open("wb") as fh:
            pickle.dump(manifest, fh, protocol=pickle.HIGHEST_PROTOCOL)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Load a directory written by `save`; the fusion's training data is its first generator's."""
        path = Path(path)
        if not (path / _MANIFEST).is_file():
            raise ArtifactError(f"{path}: no saved fusion ranker ({_MANIFEST} missing)")
        try:
            with (path / _MANIFEST).open("rb") as fh:
                manifest = pickle.load(fh)
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError, TypeError) as exc:
            raise ArtifactError(f"{path / _MANIFEST}: not a readable fusion manifest ({exc})") from exc
        if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
            found = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
            raise ArtifactError(f"{path}: fusion manifest format {found}, expected {_FORMAT}")
        gens: dict[str, Recommender] = {}
        for name, class_path, filename in manifest["generators"]:
            module, _, qualname = class_path.rpartition(".")
            try:
                gen_cls = getattr(importlib.import_module(module), qualname)
            except (ImportError, AttributeError) as exc:
                raise ArtifactError(f"{path}: cannot import generator class {class_path}: {exc}") from exc
            gens[name] = gen_cls.load(path / filename)
        obj = cls(gens, method=manifest["method"], rrf_k=manifest["rrf_k"], depth=manifest["depth"])
        obj.set_weights(manifest["weights"])
        obj.tuning_ = manifest["tuning"]
        first = next(iter(gens.values()))
        obj._data, obj._popularity = first._data, first._popularity
        return obj


def _unique_inverse(items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(items, return_inverse=True)` for a short 1-D array, without its overhead (~5x faster
    on a fusion's few hundred items): the sorted distinct items and each item's position among them."""
    ordered = np.sort(items)
    distinct = np.empty(len(ordered), dtype=bool)
    distinct[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=distinct[1:])
    pool = ordered[distinct]
    return pool, np.searchsorted(pool, items)


def _named(generators: Sequence[Recommender] | Mapping[str, Recommender]) -> list[tuple[str, Recommender]]:
    """(unique name, generator) pairs: the mapping's keys, or each generator's `name` suffixed -2, -3, ...
    when repeated."""
    if isinstance(generators, Mapping):
        pairs = list(generators.items())
        for name, gen in pairs:
            if not isinstance(gen, Recommender):
                raise ConfigError(f"generator {name!r} is a {type(gen).__name__}, not a Recommender")
        return pairs
    out: list[tuple[str, Recommender]] = []
    seen: dict[str, int] = {}
    for gen in generators:
        if not isinstance(gen, Recommender):
            raise ConfigError(f"FusionRanker generators must be Recommenders, got {type(gen).__name__}")
        seen[gen.name] = seen.get(gen.name, 0) + 1
        out.append((gen.name if seen[gen.name] == 1 else f"{gen.name}-{seen[gen.name]}", gen))
    return out
