"""The steps of the ReDial benchmark: inputs, catalog, generators, encoded samples, generator lists, pools.

Training data never sees a test dialogue: the catalog's mention counts, the TrainData (one pseudo-user per
training dialogue, co-mentions) and the ReDial popularity all come from the dialogues the step is given.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from recsys.catalog.build import build_catalog
from recsys.catalog.train_data import build_train_data
from recsys.catalog.types import Catalog
from recsys.data.movielens import load_movielens
from recsys.data.redial import load_movie_metadata, load_redial_dialogues, load_redial_movies
from recsys.data.types import Dialogue, MovieLensData, MovieMetadata, RedialMovie
from recsys.errors import ConfigError, CRSError
from recsys.eval.redial_context import (
    ContextEncoder,
    ContextQuery,
    ProfileConfig,
    boost_ages,
    build_profile,
    kept_events,
)
from recsys.eval.redial_fusion import FusionPools, FusionSetting, generator_lists
from recsys.eval.redial_generators import CoMention, MentionPopularity, dialogue_occurrences, mention_counts
from recsys.eval.redial_samples import RedialSample
from recsys.models import registry
from recsys.models.base import Recommender
from recsys.models.types import Profile, Recommendations, TrainData

REDIAL_GENERATORS: tuple[str, ...] = ("comention", "mention_pop")
GENERATOR_NAMES: tuple[str, ...] = (*REDIAL_GENERATORS, *registry.MODEL_NAMES)
# The benchmark's budgets (keys a constructor does not take are ignored); --quick uses QUICK_OVERRIDES.
# The GNNs train a fixed number of epochs (about a minute here), so that a run is reproducible: a time
# budget would make the model depend on the machine's load. The time cap only guards a very slow machine.
DEFAULT_OVERRIDES: dict[str, dict[str, Any]] = {
    "lightgcn": {"max_epochs": 40, "time_budget_s": 240.0},
    "kg_gnn": {"max_epochs": 40, "time_budget_s": 240.0},
}
QUICK_OVERRIDES: dict[str, dict[str, Any]] = {
    "itemknn": {"k_neighbors": 50},
    "als": {"factors": 16, "iterations": 5},
    "bpr": {"factors": 16, "iterations": 10},
    "lightgcn": {"max_epochs": 4, "embedding_dim": 16, "time_budget_s": 5.0},
    "kg_gnn": {"max_epochs": 4, "embedding_dim": 16, "time_budget_s": 5.0},
    "ppr": {"max_iter": 10},
}


@dataclass
class RedialInputs:
    """Everything read from disk."""

    train: list[Dialogue]
    test: list[Dialogue]
    movies: list[RedialMovie]
    metadata: dict[int, MovieMetadata]
    movielens: MovieLensData
    paths: dict[str, Path]


def load_inputs(
    train: Path | str,
    test: Path | str,
    movielens_dir: Path | str,
    movies: Path | str | None = None,
    metadata: Path | str | None = None,
) -> RedialInputs:
    """Read the dialogue files, the ReDial movie list and metadata (default: beside `train`), MovieLens.

    The metadata is optional when it is not named: without it the catalog has no people or plots for ReDial
    movies (fewer attributes). A named file that does not exist is an error."""
    movies = Path(movies) if movies else Path(train).with_name("movies_with_mentions.csv")
    named = metadata is not None
    metadata = Path(metadata) if metadata else Path(train).with_name("movie_metadata.json")
    return RedialInputs(
        train=load_redial_dialogues(train),
        test=load_redial_dialogues(test),
        movies=load_redial_movies(movies),
        metadata=load_movie_metadata(metadata) if named or metadata.is_file() else {},
        movielens=load_movielens(movielens_dir),
        paths={
            "train": Path(train),
            "test": Path(test),
            "movies": movies,
            "metadata": metadata,
            "movielens": Path(movielens_dir),
        },
    )


def make_catalog(inputs: RedialInputs) -> tuple[Catalog, np.ndarray]:
    """The catalog (mention counts from the training dialogues only) and the ranked items: every
    catalog item of a ReDial movie of the movie list (sorted catalog ids)."""
    catalog, _ = build_catalog(inputs.movielens, inputs.movies, inputs.metadata, inputs.train)
    ids = {catalog.from_redial(m.movie_id) for m in inputs.movies}
    ids.discard(None)
    return catalog, np.asarray(sorted(ids), dtype=np.int64)  # type: ignore[type-var]


@dataclass
class Fitted:
    """Generators fitted on the TrainData of some training dialogues."""

    data: TrainData
    generators: dict[str, Recommender]
    info: dict[str, dict[str, Any]]  # name -> status, fit seconds, params or error
    mention_counts: np.ndarray


def create_generator(
    name: str,
    catalog: Catalog,
    dialogues: Sequence[Dialogue],
    *,
    seed: int,
    quick: bool,
    overrides: Mapping[str, Mapping[str, Any]],
) -> Recommender:
    """A new generator: the two ReDial ones from the dialogues, the others from the registry."""
    if name == "comention":
        return CoMention(dialogue_occurrences(catalog, dialogues), **overrides.get(name, {}))
    if name == "mention_pop":
        return MentionPopularity(mention_counts(catalog, dialogues))
    if name not in registry.MODEL_NAMES:
        raise ConfigError(f"unknown generator {name!r}; valid: {', '.join(GENERATOR_NAMES)}")
    accepted = registry.parameters(name)
    budget = (QUICK_OVERRIDES if quick else DEFAULT_OVERRIDES).get(name, {})
    params = {k: v for k, v in budget.items() if k in accepted}
    params.update(overrides.get(name, {}))  # the user's own: checked by the registry
    return registry.create(name, seed=seed, **params)


def fit_generators(
    names: Sequence[str],
    catalog: Catalog,
    inputs: RedialInputs,
    dialogues: Sequence[Dialogue],
    *,
    seed: int,
    quick: bool,
    overrides: Mapping[str, Mapping[str, Any]],
    log: Any,
    progress: bool,
) -> Fitted:
    """TrainData of `dialogues` (+ MovieLens) and every generator fitted on it; failures are recorded."""
    data = build_train_data(catalog, inputs.movielens.interactions, dialogues)
    generators: dict[str, Recommender] = {}
    info: dict[str, dict[str, Any]] = {}
    for name in names:
        started = time.perf_counter()
        try:
            model = create_generator(
                name, catalog, dialogues, seed=seed, quick=quick, overrides=overrides
            ).fit(data, show_progress=progress)
        except (CRSError, ImportError, MemoryError, RuntimeError, ValueError) as exc:
            info[name] = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
            log(f"[red]  {name}: failed: {exc}[/]")
            continue
        seconds = time.perf_counter() - started
        generators[name] = model
        params = registry.public_params(model)
        info[name] = {"status": "ok", "fit_seconds": round(seconds, 2), "params": params}
        log(f"  {name}: fitted in {seconds:.1f}s")
    return Fitted(data, generators, info, mention_counts(catalog, dialogues))


@dataclass
class Encoded:
    """Samples with their queries, profiles, targets, exclusions (dedup) and boostable context movies."""

    samples: list[RedialSample]
    queries: list[ContextQuery]
    profiles: list[Profile]
    targets: np.ndarray  # catalog id, or -1 when unknown (a miss)
    exclusions: list[np.ndarray]  # the context movies the system knows of (left out in dedup)
    ages: list[dict[int, tuple[float, float]]]
    dedup: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # mask of non-repeats

    def subset(self, mask: np.ndarray) -> list[int]:
        return [int(i) for i in np.flatnonzero(mask)]

    def take(self, rows: Sequence[int]) -> Encoded:
        """The encoded samples at `rows`, in that order."""
        return Encoded(
            samples=[self.samples[i] for i in rows],
            queries=[self.queries[i] for i in rows],
            profiles=[self.profiles[i] for i in rows],
            targets=self.targets[list(rows)],
            exclusions=[self.exclusions[i] for i in rows],
            ages=[self.ages[i] for i in rows],
            dedup=self.dedup[list(rows)],
        )


def encode(
    samples: Sequence[RedialSample],
    encoder: ContextEncoder,
    attribute_names: Sequence[str],
    config: ProfileConfig,
    *,
    progress: bool,
) -> Encoded:
    """Understand the contexts and build every sample's profile and protocol data (the queries keep only
    the mention events the profile config uses: profile, boost and dedup exclusions agree)."""
    queries = [kept_events(q, config) for q in encoder.encode(samples, show_progress=progress)]
    index = {name: i for i, name in enumerate(attribute_names)}
    return Encoded(
        samples=list(samples),
        queries=queries,
        profiles=[build_profile(q, index, config) for q in queries],
        targets=np.array([-1 if s.item is None else s.item for s in samples], dtype=np.int64),
        exclusions=[np.asarray(q.items_by_recency(), dtype=np.int64) for q in queries],
        ages=[boost_ages(q) for q in queries],
        dedup=np.array([not s.repeat for s in samples], dtype=bool),
    )


def all_lists(
    generators: Mapping[str, Recommender],
    profiles: Sequence[Profile],
    candidates: np.ndarray,
    k: int,
    *,
    progress: bool,
    log: Any,
) -> tuple[dict[str, list[Recommendations]], dict[str, float]]:
    """Every generator's top-k lists (k should be the deepest pool depth + the longest exclusion)."""
    lists: dict[str, list[Recommendations]] = {}
    seconds: dict[str, float] = {}
    for name, gen in generators.items():
        started = time.perf_counter()
        lists[name] = generator_lists(gen, profiles, candidates, k, show_progress=progress, desc=name)
        seconds[name] = round(time.perf_counter() - started, 2)
        log(f"  {name}: {len(profiles)} rankings in {seconds[name]:.1f}s")
    return lists, seconds


def make_pools(
    lists: Mapping[str, list[Recommendations]],
    enc: Encoded,
    depth: int,
    candidates_mask: np.ndarray,
) -> tuple[FusionPools, FusionPools]:
    """(full pools with the boostable context movies, dedup pools with the context movies excluded)."""
    names = list(lists)
    full = FusionPools(
        [lists[n] for n in names], enc.targets, depth, boost_ages=enc.ages, candidates=candidates_mask
    )
    rows = enc.subset(enc.dedup)
    dedup = FusionPools(
        [[lists[n][i] for i in rows] for n in names],
        enc.targets[rows],
        depth,
        exclusions=[enc.exclusions[i] for i in rows],
    )
    return full, dedup


@dataclass
class Evaluation:
    """Target ranks of named fused settings, and the main setting's top-k of the checked rows."""

    full: dict[str, np.ndarray]  # name -> ranks of every sample
    dedup: dict[str, np.ndarray]  # name -> ranks of the dedup samples (in sample order)
    checked_full: dict[int, np.ndarray] = field(default_factory=dict)  # row -> top-k (main setting)
    checked_dedup: dict[int, np.ndarray] = field(default_factory=dict)


def evaluate_settings(
    lists: Mapping[str, list[Recommendations]],
    enc: Encoded,
    depth: int,
    candidates_mask: np.ndarray,
    settings: Mapping[str, tuple[FusionSetting, FusionSetting]],
    *,
    k: int,
    main: str,
    check: Sequence[int] = (),
    chunk: int = 1000,
) -> Evaluation:
    """Ranks of every (full setting, dedup setting) by name, `chunk` samples at a time (bounded memory);
    also the `main` setting's top-k lists of the `check` rows."""
    full_parts: dict[str, list[np.ndarray]] = {n: [] for n in settings}
    dedup_parts: dict[str, list[np.ndarray]] = {n: [] for n in settings}
    checked_full: dict[int, np.ndarray] = {}
    checked_dedup: dict[int, np.ndarray] = {}
    wanted = {int(i) for i in check}
    for start in range(0, len(enc.samples), chunk):
        rows = list(range(start, min(start + chunk, len(enc.samples))))
        part = enc.take(rows)
        part_lists = {n: lst[start : start + len(rows)] for n, lst in lists.items()}
        full, dedup = make_pools(part_lists, part, depth, candidates_mask)
        for name, (full_setting, dedup_setting) in settings.items():
            full_parts[name].append(full.ranks(full_setting, k))
            dedup_parts[name].append(dedup.ranks(dedup_setting, k))
        if wanted.intersection(rows):
            full_setting, dedup_setting = settings[main]
            ranked = full.rankings(full_setting, k)
            checked_full.update({r: ranked[r - start] for r in rows if r in wanted})
            ranked_d = dedup.rankings(dedup_setting, k)
            dedup_rows = [start + j for j in part.subset(part.dedup)]
            checked_dedup.update({r: ranked_d[j] for j, r in enumerate(dedup_rows) if r in wanted})
    empty = np.zeros(0, dtype=np.int64)
    return Evaluation(
        {n: np.concatenate(v) if v else empty for n, v in full_parts.items()},
        {n: np.concatenate(v) if v else empty for n, v in dedup_parts.items()},
        checked_full,
        checked_dedup,
    )
