"""Assembling the conversational system: settings -> catalog + trained models + extractor + store -> manager.

Training (`train_models`, the `crs train` command) fits the configured candidate generators on the
dialogue's TrainData (recsys.catalog.pipeline) and fuses them (recsys.models.fusion, reciprocal-rank
fusion). The result is stored through the ArtifactStore as "dialogue_models", keyed by the TrainData's
fingerprint and the model configuration: a second call (or a restart of `crs chat` / the API) loads it
in seconds instead of training again.

Default generators, chosen with `python -m dialogue.bench generators` on the shared data (400 held-out
ReDial dialogues, their co-mentions removed from training; the seeker's liked movies minus one as the
profile; HR@10 / NDCG@10 of the held-out one; +-0.02 is noise at this size):

    ppr x2 + itemknn + kg_gnn   0.233 / 0.146   <- default: PageRank weighted twice, ItemKNN for its
    ppr x2 + kg_gnn             0.253 / 0.149      "people who liked X" provenance, KG-GNN for attributes
    itemknn + ppr + kg_gnn      0.215 / 0.136
    ppr                         0.195 / 0.115
    itemknn                     0.138 / 0.080
    kg_gnn                      0.110 / 0.059

Personalised PageRank over the item graph (attributes, co-mentions, collaborative neighbours) carries the
dialogue task; equal-weight fusion dilutes it, weighting it twice does not. Measured on the 2 shared cores
(load average ~7): ItemKNN 3 s, PPR 11 s, KG-GNN 70 s (60 s training budget); `crs train` 94 s in all,
and 2 s to load when stored. Ranking one dialogue state costs ~6 ms (p50; `python -m dialogue.bench
turns`). Any registered generator can be named instead (`crs train --models ppr,als,...`).
"""

from __future__ import annotations

import json
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from recsys.artifacts import ArtifactStore
from recsys.catalog.pipeline import TRAIN_DATA_ARTIFACT, prepare_dialogue_data
from recsys.catalog.types import Catalog
from recsys.errors import ConfigError
from recsys.models.types import TrainData
from recsys.settings import Settings, get_settings

MODELS_ARTIFACT = "dialogue_models"
MODELS_BUILD_VERSION = 1  # bump when training changes what it produces


class GeneratorSpec(BaseModel):
    """One candidate generator of the fusion: a registry name, its fusion weight and hyper-parameters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    weight: float = Field(1.0, gt=0)
    params: dict[str, Any] = Field(default_factory=dict)


DEFAULT_GENERATORS = (
    GeneratorSpec(name="ppr", weight=2.0),
    GeneratorSpec(name="itemknn"),
    GeneratorSpec(name="kg_gnn", params={"time_budget_s": 60.0}),
)


class ModelConfig(BaseModel):
    """Which generators the dialogue's fusion ranker combines, and how."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    generators: tuple[GeneratorSpec, ...] = DEFAULT_GENERATORS
    method: Literal["rrf", "weighted"] = "rrf"
    rrf_k: float = Field(60.0, ge=0)
    depth: int = Field(100, ge=1)
    seed: int = 42

    @pydantic.field_validator("generators")
    @classmethod
    def _generators(cls, gens: tuple[GeneratorSpec, ...]) -> tuple[GeneratorSpec, ...]:
        from recsys.models.registry import MODEL_NAMES

        if not gens:
            raise ValueError("at least one generator is needed")
        names = [g.name for g in gens]
        unknown = [n for n in names if n not in MODEL_NAMES]
        if unknown:
            raise ValueError(f"unknown generators {unknown}; valid: {', '.join(MODEL_NAMES)}")
        if len(set(names)) != len(names):
            raise ValueError(f"a generator is listed twice: {names}")
        return gens

    @classmethod
    def from_names(cls, names: str, **fields: Any) -> ModelConfig:
        """A config from "itemknn,ppr" (default hyper-parameters of the defaults are kept)."""
        defaults = {g.name: g for g in DEFAULT_GENERATORS}
        wanted = [n.strip() for n in names.split(",") if n.strip()]
        try:
            return cls(generators=tuple(defaults.get(n, GeneratorSpec(name=n)) for n in wanted), **fields)
        except pydantic.ValidationError as exc:
            raise ConfigError(f"--models {names!r}: {_problems(exc)}") from None


def _problems(exc: pydantic.ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or 'config'}: {str(e['msg']).removeprefix('Value error, ')}"
        for e in exc.errors()
    )


def load_model_config(path: Path | str | None = None, *, models: str | None = None) -> ModelConfig:
    """The model configuration: a JSON / TOML file of ModelConfig fields, a generator list, or the default."""
    if path is not None and models is not None:
        raise ConfigError("give either a model config file or a list of models, not both")
    if models is not None:
        return ModelConfig.from_names(models)
    if path is None:
        return ModelConfig()
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        raw = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read model config: {exc}") from exc
    try:
        return ModelConfig.model_validate(raw)
    except pydantic.ValidationError as exc:
        raise ConfigError(f"{path}: invalid model config: {_problems(exc)}") from None


@dataclass
class TrainedModels:
    """The fitted fusion ranker and how long each generator took to fit."""

    recommender: Any  # a fitted FusionRanker
    fit_seconds: dict[str, float] = field(default_factory=dict)


class TrainedModelsCodec:
    """The fusion ranker's own directory format plus `training.json` (fit times)."""

    name = "dialogue-models"

    def dump(self, value: TrainedModels, directory: Path) -> None:
        value.recommender.save(directory / "fusion")
        (directory / "training.json").write_text(json.dumps({"fit_seconds": value.fit_seconds}, indent=2))

    def load(self, directory: Path) -> TrainedModels:
        from recsys.models.fusion import FusionRanker

        info = json.loads((directory / "training.json").read_text())
        return TrainedModels(FusionRanker.load(directory / "fusion"), info.get("fit_seconds", {}))


def fit_fusion(data: TrainData, config: ModelConfig, *, progress: bool = False) -> TrainedModels:
    """Fit each configured generator, then the fusion ranker over them."""
    from recsys.models.fusion import FusionRanker
    from recsys.models.registry import create

    gens, seconds = {}, {}
    for spec in config.generators:
        model = create(spec.name, seed=config.seed, **spec.params)
        if progress:
            _status(f"fitting {spec.name} on {data.n_users} users x {data.n_items} items ...")
        start = time.perf_counter()
        model.fit(data, show_progress=progress)
        seconds[spec.name] = round(time.perf_counter() - start, 2)
        if progress:
            _status(f"fitted {spec.name} in {seconds[spec.name]:.1f} s")
        gens[spec.name] = model
    fusion = FusionRanker(
        gens,
        method=config.method,
        rrf_k=config.rrf_k,
        depth=config.depth,
        weights={s.name: s.weight for s in config.generators},
    )
    return TrainedModels(fusion.fit(data), seconds)


def _status(message: str) -> None:
    from rich.console import Console

    Console(stderr=True).print(f"[dim]{message}[/dim]")


@dataclass
class TrainedSystem:
    """Catalog, TrainData and the fitted fusion ranker, with where they came from."""

    catalog: Catalog
    train_data: TrainData
    models: TrainedModels
    fingerprint: str
    path: Path
    built: bool
    seconds: float

    @property
    def recommender(self) -> Any:
        return self.models.recommender


def train_models(
    settings: Settings | None = None,
    config: ModelConfig | None = None,
    *,
    force: bool = False,
    progress: bool = False,
) -> TrainedSystem:
    """The catalog, TrainData and fitted fusion for `settings`: loaded when stored, else trained (and
    stored)."""
    start = time.perf_counter()
    settings = settings or get_settings()
    config = config or ModelConfig()
    prepared = prepare_dialogue_data(settings, progress=progress)
    from graph.artifacts import ensure_item_graph  # stores / reuses the item graph (rebuilt on data change)

    names = [g.name for g in config.generators]
    ensure_item_graph(prepared.train_data, settings, models=names, force=force, progress=progress)
    params = {
        "build_version": MODELS_BUILD_VERSION,
        "train_data": prepared.fingerprints[TRAIN_DATA_ARTIFACT],
        "models": config.model_dump(mode="json"),
    }
    artifact = ArtifactStore(settings).fetch(
        MODELS_ARTIFACT,
        [],  # the TrainData fingerprint in `params` already covers every input file
        lambda: fit_fusion(prepared.train_data, config, progress=progress),
        params=params,
        codec=TrainedModelsCodec(),
        force=force,
    )
    return TrainedSystem(
        catalog=prepared.catalog,
        train_data=prepared.train_data,
        models=artifact.value,
        fingerprint=artifact.fingerprint,
        path=artifact.path,
        built=artifact.built,
        seconds=time.perf_counter() - start,
    )


def build_manager(
    settings: Settings | None = None,
    *,
    policy: Any = None,
    model_config: ModelConfig | None = None,
    trained: TrainedSystem | None = None,
    recommender: Any = None,
    catalog: Catalog | None = None,
    extractor: Any = None,
    store: Any = None,
    use_embeddings: bool = True,
    progress: bool = False,
    llm: bool | None = None,
    llm_rerank: bool = False,
    profile_match: bool | None = None,
) -> Any:
    """A DialogueManager for `settings`; every component can be injected instead (tests, the API).

    Without `recommender` and `catalog`, the models are trained or loaded (`train_models`); without
    `extractor`, a RuleExtractor over the catalog; without `store`, a StateStore on `connect(settings)`
    (the embedded Redis when CRS_REDIS_URL is unset).

    The LLM layer (dialogue.llm.turn): `llm` None follows the `llm_model` setting ("none": templates),
    False forces the templates. With the LLM, explanations and the language profile are written by the
    process-wide runtime (its model loads in the background on first use; call `warm_up()` on
    `manager.explainer.runtime` to load it first); `llm_rerank` adds the LLM re-ranking of the fused head
    (off by default: see dialogue.llm.rerank_eval). `profile_match` (default: `use_embeddings`) matches
    the profile text against the item texts with MiniLM as one more ranking boost (the 4000 most popular
    items are embedded here, the first time ~1-3 min on 2 cores, then read from
    <artifacts>/llm/profile_match).
    """
    from dialogue.manager import DialogueManager
    from dialogue.store.redis_store import StateStore
    from dialogue.understanding import RuleExtractor

    settings = settings or get_settings()
    if (recommender is None) != (catalog is None):
        raise ConfigError("inject both a recommender and its catalog, or neither")
    if recommender is None:
        trained = trained or train_models(settings, model_config, progress=progress)
        recommender, catalog = trained.recommender, trained.catalog
    assert catalog is not None
    extractor = extractor or RuleExtractor(catalog, use_embeddings=use_embeddings)
    store = store or StateStore.from_settings(settings)
    from dialogue.catalog_index import CatalogIndex
    from dialogue.llm.turn import build_turn_llm, runtime_from_settings

    index = CatalogIndex(catalog, recommender.data)
    runtime = runtime_from_settings(settings) if llm is not False else None
    explainer, profiler = build_turn_llm(index, runtime, timeout=settings.llm_turn_budget_seconds)
    reranker = matcher = None
    if llm_rerank and runtime is not None:
        from dialogue.llm.rerank import LLMReranker

        reranker = LLMReranker(runtime)
    if use_embeddings if profile_match is None else profile_match:
        from dialogue.llm.profile_match import ProfileTextMatcher

        matcher = ProfileTextMatcher(
            catalog, cache_dir=settings.artifacts_dir / "llm" / "profile_match", progress=progress
        )
        matcher.item_vectors()  # embedded now (once; then read from the cache), not during a turn
    return DialogueManager(
        recommender,
        extractor,
        store,
        catalog,
        policy,
        index=index,
        explainer=explainer if runtime is not None else None,
        profiler=profiler,
        reranker=reranker,
        profile_matcher=matcher,
    )
