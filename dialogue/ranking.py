"""Ranking conditioned on the dialogue: Preferences -> a Profile, exclusions and a boost vector -> top-k.

- Seeds: session likes (the most recent weigh most), critique anchors, accepted items and the profile's
  likes (weaker) become the Profile's liked items; liked attributes (session and profile) its liked
  attributes; disliked items its disliked items (the models push their neighbours down).
- Hard constraints, passed as `exclude` so that no generator wastes a slot on them: excluded items
  (shown, rejected, disliked, seen - see `Preferences`), every item having a disliked attribute, and items
  outside the year window. A disliked item or genre can therefore never come up.
- Soft preferences, as an additive boost on the fused score (which lies in [0, 1]): liked attributes
  (+attribute_boost x the share of liked attributes the item has) and critiques ("funnier": items that
  are not comedies down by critique_boost, "less violent": violent items down by critique_penalty, "more
  recent": older items down in proportion to their year's percentile). Critiques only ever lower scores,
  so they re-order what the generators proposed without pulling unrelated items in; liked attributes are
  explicit wishes and positive, so items with a wanted attribute join the pool (with a small popularity
  tie-break).
- Cold start (no liked item yet): attribute match and critiques first, popularity next, over the allowed
  items - "a comedy" should first bring the comedies people know, not the ones a random walk from the
  genre node happens to reach.

With a recommender that takes `item_boost` (the FusionRanker's hook) the boost is applied inside the
fusion; with any other Recommender the top `depth` items are re-ranked here (scored by reciprocal rank,
as the fusion scores them, so the boosts mean the same on both paths). Too few results (heavy
filters) are topped up with the most popular allowed items, so a ranking never breaks a constraint to
fill its list. `mode="popularity"` ranks allowed items by popularity alone (the baseline policy).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from dialogue.catalog_index import CatalogIndex
from dialogue.preferences import ActiveCritique, Preferences
from recsys.errors import ConfigError
from recsys.models.base import Recommender
from recsys.models.fusion import FusionRanker
from recsys.models.lists import contributions, top_k_row
from recsys.models.types import Profile, Trace

RankingMode = Literal["personalized", "popularity"]
RRF_K = 60.0  # the fusion's default: a plain model's ranks are scored like a fused list
_UNBOUNDED = 1 << 30
_EFFECT_CACHE = 1024  # memoised critique effects per ranker (dimensions x directions in use)
SUPPORTED_DIMENSIONS = ("recency", "popularity", "violence", "humor", "scariness", "darkness")


class RankingWeights(BaseModel):
    """How strongly each part of the state moves the ranking (fused scores lie in [0, 1])."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    attribute_boost: float = Field(0.3, ge=0, description="Liked attributes of this session.")
    profile_attribute_boost: float = Field(0.08, ge=0, description="Liked attributes of earlier sessions.")
    critique_boost: float = Field(0.4, ge=0, description="'more X' critiques: items without X go down.")
    critique_penalty: float = Field(0.6, ge=0, description="'less X' critiques (violent, scary, dark...).")
    recency_decay: float = Field(0.85, gt=0, le=1, description="Weight factor per older session like.")
    accepted_weight: float = Field(0.6, ge=0, description="Seed weight of accepted recommendations.")
    reference_weight: float = Field(1.0, ge=0, description="Seed weight of critique anchors.")
    profile_weight: float = Field(0.4, ge=0, description="Seed weight of the profile's liked items.")
    popularity_tiebreak: float = Field(0.01, ge=0, description="Added x popularity rank to boosted items.")
    cold_start_popularity: float = Field(
        0.1, ge=0, description="Without liked items: score = attribute match + critiques + this x popularity."
    )
    depth: int = Field(200, ge=1, description="Items re-ranked when the recommender has no boost hook.")


@dataclass(frozen=True)
class RankedItem:
    """One recommended item: catalog id, final score and each generator's trace."""

    item_id: int
    score: float
    provenance: Mapping[str, Trace] = field(default_factory=dict)


@dataclass
class Conditioning:
    """What one ranking call passes to the recommender."""

    profile: Profile
    allowed: np.ndarray  # bool per item: may be recommended
    boost: np.ndarray  # float64 per item, added to the fused score

    @property
    def exclude(self) -> np.ndarray:
        return np.flatnonzero(~self.allowed)


class StateRanker:
    """Ranks catalog items for Preferences with a fitted Recommender (see the module docstring)."""

    def __init__(
        self,
        recommender: Recommender,
        index: CatalogIndex,
        weights: RankingWeights | None = None,
        *,
        mode: RankingMode = "personalized",
    ) -> None:
        if recommender.n_items != len(index):
            raise ValueError(f"recommender has {recommender.n_items} items, the catalog {len(index)}")
        self.recommender = recommender
        self.index = index
        self.weights = weights or RankingWeights()
        self.mode: RankingMode = mode
        self.boost_hook = "item_boost" in inspect.signature(recommender.recommend).parameters
        self._effects: dict[tuple[str, str, RankingWeights], np.ndarray] = {}  # see _critique_effect

    # ------------------------------------------------------------------ conditioning
    def conditioning(self, prefs: Preferences, *, allow_shown: bool = False) -> Conditioning:
        """The Profile, the allowed-items mask and the boost vector for `prefs`."""
        return Conditioning(self._profile(prefs), self._allowed(prefs, allow_shown), self._boost(prefs))

    def _profile(self, prefs: Preferences) -> Profile:
        w = self.weights
        weights: dict[int, float] = {}
        for age, item in enumerate(reversed(prefs.liked_items)):
            weights[item] = max(w.recency_decay**age, 0.5)
        for item in prefs.reference_items:
            weights.setdefault(item, w.reference_weight)
        for item in prefs.accepted_items:
            weights.setdefault(item, w.accepted_weight)
        for item in prefs.profile_liked_items:
            weights.setdefault(item, w.profile_weight)
        weights = {i: v for i, v in weights.items() if v > 0}
        return Profile(
            liked_items=tuple(weights),
            disliked_items=tuple(i for i in prefs.disliked_items if i not in weights),
            liked_attributes=self.index.attribute_indices(prefs.all_liked_attributes),
            # disliked attributes are a hard filter (`_allowed`): not sent to the models as well, which
            # would only cost them a second pass (a second random walk for PageRank)
            item_weights=tuple(weights.values()),
        )

    def _allowed(self, prefs: Preferences, allow_shown: bool) -> np.ndarray:
        index = self.index
        allowed = np.ones(len(index), dtype=bool)
        excluded = prefs.excluded_items
        if allow_shown:  # "show me those again": only real verdicts stay excluded
            excluded = frozenset(prefs.disliked_items) | {*prefs.liked_items, *prefs.profile_liked_items}
        if excluded:
            allowed[np.fromiter(excluded, dtype=np.int64, count=len(excluded))] = False
        for attribute in prefs.disliked_attributes:  # no np.unique over the postings: a mask needs none
            allowed[index.items_with(attribute)] = False
        if prefs.year_min is not None or prefs.year_max is not None:
            years = index.years
            inside = ~np.isnan(years)
            if prefs.year_min is not None:
                inside &= years >= prefs.year_min
            if prefs.year_max is not None:
                inside &= years <= prefs.year_max
            allowed &= inside
        return allowed

    def _boost(self, prefs: Preferences) -> np.ndarray:
        index, w = self.index, self.weights
        boost = np.zeros(len(index), dtype=np.float64)
        for attrs, weight in (
            (prefs.liked_attributes, w.attribute_boost),
            (prefs.profile_liked_attributes, w.profile_attribute_boost),
        ):
            known = [a for a in attrs if index.knows(a)]
            for a in known:
                boost[index.items_with(a)] += weight / len(known)
        for critique in prefs.critiques:
            boost += self._critique_effect(critique)
        np.add(boost, w.popularity_tiebreak * index.popularity_rank, out=boost, where=boost > 0)
        return boost

    def _critique_effect(self, critique: ActiveCritique) -> np.ndarray:
        """critique_effect(critique, self.index, self.weights), memoised: it depends only on the
        critique's dimension and direction (the catalog index is fixed; the weights are part of the key).
        The cached arrays are read-only."""
        key = (critique.dimension, critique.direction, self.weights)
        effect = self._effects.get(key)
        if effect is None:
            effect = critique_effect(critique, self.index, self.weights)
            effect.flags.writeable = False
            if len(self._effects) < _EFFECT_CACHE:
                self._effects[key] = effect
        return effect

    @property
    def prefix_depth(self) -> int:
        """Up to this k, a ranking is the head of any deeper one: rank(prefs, j) == rank(prefs, k)[:j]
        for j <= k <= prefix_depth (the generators' lists do not change below the fusion's depth, and
        the cold start, the popularity mode and the top-up are prefix-consistent at any k). 1 for a
        boost-taking recommender that is not a FusionRanker (nothing is known about its depth)."""
        if self.mode == "popularity":
            return _UNBOUNDED
        if not self.boost_hook:
            return self.weights.depth
        return self.recommender.depth if isinstance(self.recommender, FusionRanker) else 1

    # ------------------------------------------------------------------ ranking
    def rank(self, prefs: Preferences, k: int, *, allow_shown: bool = False) -> list[RankedItem]:
        """The top-k items for `prefs` (fewer only when fewer items are allowed at all)."""
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        cond = self.conditioning(prefs, allow_shown=allow_shown)
        if self.mode == "popularity":
            return self._top_up([], cond.allowed, k)
        if not cond.profile.liked_items:
            return self._cold_start(cond, k)
        exclude = [cond.exclude]
        if self.boost_hook:
            recs = self.recommender.recommend(  # type: ignore[call-arg]
                profiles=[cond.profile], k=k, exclude=exclude, item_boost=[cond.boost]
            )[0]
            ranked = [
                RankedItem(int(i), float(s), dict(p))
                for i, s, p in zip(recs.items, recs.scores, recs.provenance, strict=True)
            ]
        else:
            depth = max(k, self.weights.depth)
            recs = self.recommender.recommend(profiles=[cond.profile], k=depth, exclude=exclude)[0]
            ranked = self._rerank(recs.items, recs.scores, recs.provenance, cond.boost, k)
        return self._top_up(ranked, cond.allowed, k)

    @staticmethod
    def _rerank(
        items: np.ndarray,
        scores: np.ndarray,
        provenance: Sequence[Mapping[str, Trace]],
        boost: np.ndarray,
        k: int,
    ) -> list[RankedItem]:
        """Rank-based scores on the fusion's scale (reciprocal rank, 1.0 for the first) plus the boost."""
        if len(items) == 0:
            return []
        norm = contributions("rrf", np.asarray(scores, dtype=np.float64), RRF_K)
        final = norm + boost[np.asarray(items, dtype=np.int64)]
        order = np.lexsort((np.asarray(items), -final))[:k]
        return [RankedItem(int(items[j]), float(final[j]), dict(provenance[j])) for j in order]

    def _cold_start(self, cond: Conditioning, k: int) -> list[RankedItem]:
        """No liked item yet: attribute match and critiques, then popularity, over the allowed items.

        (The generators' own cold start is noise here: a random walk from a genre node ties every comedy,
        and graph embeddings of a genre favour odd niches; "a comedy" should bring comedies people know.)
        """
        score = cond.boost + self.weights.cold_start_popularity * self.index.popularity_rank
        candidates = np.flatnonzero(cond.allowed)
        if k < len(candidates):  # score descending, then item id: only the top k are sorted
            order = candidates[top_k_row(score[candidates], k)]
        else:
            order = candidates[np.lexsort((candidates, -score[candidates]))]
        return [
            RankedItem(
                int(i), float(score[i]), {"popularity": Trace(float(self.index.popularity_rank[i]), n + 1)}
            )
            for n, i in enumerate(order)
        ]

    def _top_up(self, ranked: list[RankedItem], allowed: np.ndarray, k: int) -> list[RankedItem]:
        """Fill up to k with the most popular allowed items not ranked yet."""
        if len(ranked) >= k:
            return ranked[:k]
        taken = {r.item_id for r in ranked}
        order = self.index.by_popularity
        fill = [int(i) for i in order[allowed[order]][: k + len(taken)] if int(i) not in taken]
        start = len(ranked)
        for n, item in enumerate(fill[: k - start]):
            score = float(self.index.popularity_rank[item])
            ranked.append(RankedItem(item, score, {"popularity": Trace(score, start + n + 1)}))
        return ranked


class RankOnce:
    """The rankings of one fixed state within a turn, computed once: the policy's question pool (top 50)
    and the recommendation (top k) of the same preferences share one fusion pass.

    `rank(depth)` is the underlying ranking; a request for k items is answered by the head of an
    earlier, deeper ranking when both are within `prefix_depth` (`StateRanker.prefix_depth`), which is
    exactly what ranking again at k would return; otherwise it ranks again (and keeps the deeper list)."""

    def __init__(self, rank: Callable[[int], list[RankedItem]], prefix_depth: int) -> None:
        self._rank = rank
        self.prefix_depth = prefix_depth
        self._ranked: list[RankedItem] | None = None
        self._depth = 0
        self.calls = 0  # rankings actually computed

    def __call__(self, k: int) -> list[RankedItem]:
        if self._ranked is not None and (k == self._depth or k <= self._depth <= self.prefix_depth):
            return self._ranked[:k]
        ranked = self._rank(k)
        self.calls += 1
        if k >= self._depth:
            self._ranked, self._depth = ranked, k
        return list(ranked)


def critique_effect(critique: ActiveCritique, index: CatalogIndex, w: RankingWeights) -> np.ndarray:
    """The change one critique makes to every item's score; never positive.

    A critique is relative to the movies at hand ("like X but funnier", "less violent than these"), so it
    re-orders what the generators proposed instead of pulling unrelated items in: "more X" lowers the items
    without X by `critique_boost`, "less X" lowers the items with X by `critique_penalty`.
    """
    out = np.zeros(len(index), dtype=np.float64)
    more = critique.direction in ("more", "same")
    boost, penalty = w.critique_boost, w.critique_penalty
    dim, groups = critique.dimension, index.groups

    def favour(items: np.ndarray, amount: float) -> None:
        out[:] -= amount
        out[items] += amount

    if dim == "recency":  # older (or, for "less", newer) items go down in proportion to their year rank
        out += boost * (index.year_rank - 1.0) if more else -boost * index.year_rank
    elif dim == "popularity":
        out += boost * (index.popularity_rank - 1.0) if more else -boost * index.popularity_rank
    elif dim == "violence":
        favour(groups["violent"], boost) if more else out.__setitem__(groups["violent"], -penalty)
    elif dim == "humor":
        favour(groups["funny"], boost) if more else out.__setitem__(groups["funny"], -penalty / 2)
    elif dim == "scariness":
        if more:
            favour(groups["scary"], boost)
        else:
            out[groups["suspense"]] = -penalty / 2
            out[groups["scary"]] = -penalty
    elif dim == "darkness":
        if more:
            favour(groups["dark"], boost)
        else:
            favour(groups["light"], boost / 2)
            out[groups["dark"]] -= penalty
    elif ":" in dim and index.knows(dim):  # a critique on a catalog attribute ("tag:dark")
        favour(index.items_with(dim), boost) if more else out.__setitem__(index.items_with(dim), -penalty)
    return out


def supports_critique(dimension: str, index: CatalogIndex | None = None) -> bool:
    """Whether the ranking can act on a critique of `dimension` (length, for one, is not in the data)."""
    if dimension in SUPPORTED_DIMENSIONS:
        return True
    return ":" in dimension and (index is None or index.knows(dimension))


def reweighted(recommender: Recommender, weights: Mapping[str, float] | None) -> Recommender:
    """A fusion ranker over the same fitted generators with some generator weights changed (a policy's
    `fusion_weights`); the recommender itself when there are none. ConfigError for a non-fusion model or
    an unknown generator name."""
    if not weights:
        return recommender
    if not isinstance(recommender, FusionRanker):
        raise ConfigError(f"fusion_weights need a fusion ranker, not {type(recommender).__name__}")
    fused = FusionRanker(
        recommender.generators,
        method=recommender.method,  # type: ignore[arg-type]
        rrf_k=recommender.rrf_k,
        depth=recommender.depth,
        weights=recommender.weights.tolist(),
    )
    fused.set_weights(weights)
    return fused.fit(recommender.data)
