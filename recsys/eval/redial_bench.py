"""The ReDial benchmark behind `crs eval redial`: the fusion ranker on conversational recommendation.

Protocol (recsys.eval.redial_samples): one sample per movie `@`-mentioned in a recommender message; the
system sees only the earlier messages; it ranks every ReDial movie (the catalog items of
movies_with_mentions.csv); an unknown target is a miss. `full` = every sample, `dedup` = samples whose
movie was not mentioned before.

Ranking policy (documented in the report's `protocol` block):
- `full`: nothing is excluded. The context's movies stay rankable and get a repeat boost, as published
  systems do (KBRD, KGSF, UniCRS do not exclude them; repeating context items is what inflates `full`).
- `dedup`: the system is asked for a *new* movie: the context movies it knows of (the `@` mentions, plus
  the titles / references found by the extractor when the profile config uses them) are excluded from its
  ranking; the baselines exclude the same movies.

Steps: the training dialogues are split by conversation into a fit part and a validation part
(`validation_fraction`); generators fitted on the fit part rank the validation samples, and the fusion's
method, depth, weights and repeat boost are tuned there (recsys.eval.redial_tuning). The generators are
then refitted on all training dialogues (unless `refit=False`) and the tuned fusion ranks the test samples.
Baselines (popularity, repeat) and ablations (each generator alone, the fusion without the boost, untuned
RRF, `@` mentions only) are computed in the same run.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from dialogue.understanding import RuleExtractor
from recsys.data.types import Dialogue
from recsys.errors import ConfigError, ValidationError
from recsys.eval.movielens_bench import environment
from recsys.eval.redial_baselines import baseline_ranks
from recsys.eval.redial_context import BoostConfig, ContextEncoder, ProfileConfig
from recsys.eval.redial_fusion import FusionSetting, check_against_ranker, check_rows
from recsys.eval.redial_metrics import summarize
from recsys.eval.redial_pipeline import (
    GENERATOR_NAMES,
    Encoded,
    Fitted,
    all_lists,
    encode,
    evaluate_settings,
    fit_generators,
    load_inputs,
    make_catalog,
    make_pools,
)
from recsys.eval.redial_report import config_block, protocol_block
from recsys.eval.redial_samples import RedialSample, extract_samples, split_dialogues
from recsys.eval.redial_tuning import Tuned, TuningSpace, tune_fusion_setting
from recsys.models.base import Recommender
from recsys.models.types import Recommendations, TrainData

# The default fusion members. `ease`, `lightgcn` and `popularity` are valid too but left out of the default:
# with them the validation score was the same (1.701 vs 1.698 on the dev split; test figures equal within
# 0.005), and EASE (a 12k x 12k inverse) and LightGCN (its whole training budget) cost most of the training
# time the 15-minute budget needs.
DEFAULT_GENERATORS: tuple[str, ...] = ("comention", "mention_pop", "itemknn", "als", "bpr", "ppr", "kg_gnn")
K = 50
QUICK_SPACE = TuningSpace(
    methods=("rrf",), rrf_ks=(60.0,), depths=(50,), weight_grid=(0.0, 1.0, 2.0), rounds=1,
    boost_weights=(0.0, 0.2, 1.0), boost_decays=(0.7,),
)  # fmt: skip
PUBLISHED = {
    "note": "published figures, trained on all 10,006 ReDial training dialogues",
    "full": {
        "KBRD": {"recall@1": 0.031, "recall@10": 0.150, "recall@50": 0.336},
        "KGSF": {"recall@1": 0.039, "recall@10": 0.183, "recall@50": 0.378},
        "UniCRS": {"recall@1": 0.051, "recall@10": 0.224, "recall@50": 0.428},
        "ReFICR": {"recall@1": 0.061, "recall@10": 0.305, "recall@50": 0.532},
    },
    "dedup": {
        "UniCRS": {"recall@1": 0.024, "recall@10": 0.180, "recall@50": 0.335},
        "ReFICR": {"recall@1": 0.018, "recall@10": 0.213, "recall@50": 0.465},
    },
}


@dataclass(frozen=True)
class RedialBenchConfig:
    """What `crs eval redial` runs."""

    train: Path
    test: Path
    movielens_dir: Path
    movies: Path | None = None
    metadata: Path | None = None
    generators: tuple[str, ...] = DEFAULT_GENERATORS
    quick: bool = False
    seed: int = 42
    validation_fraction: float = 0.15
    refit: bool = True
    use_text: bool = True  # the rule extractor reads the messages (else `@` mentions only)
    text_ablation: bool = True  # also rank with `@` mentions only (one more pass of every generator)
    check_samples: int = 200  # test samples re-ranked by the real FusionRanker to check the tuned pools
    # Seconds for the whole run: the refit and the text ablation are skipped when they would not fit
    # (estimated from the validation phase; the report's `skipped` says so). None = no limit.
    time_budget_s: float | None = 840.0
    profile: ProfileConfig = field(default_factory=ProfileConfig)
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = [g for g in self.generators if g not in GENERATOR_NAMES]
        if unknown:
            valid = ", ".join(GENERATOR_NAMES)
            raise ConfigError(f"unknown generator(s) {', '.join(unknown)}; valid: {valid}")
        if not self.generators:
            raise ConfigError("the fusion needs at least one generator")
        if self.time_budget_s is not None and self.time_budget_s <= 0:
            raise ConfigError(f"time_budget_s must be positive, got {self.time_budget_s}")
        if not 0.0 < self.validation_fraction < 0.5:
            raise ConfigError(f"validation_fraction must be in (0, 0.5), got {self.validation_fraction}")


def _both(full: np.ndarray, dedup: np.ndarray) -> dict[str, dict[str, float | int]]:
    """Figures of target ranks on both protocols."""
    return {"full": summarize(full, depth=K), "dedup": summarize(dedup, depth=K)}


class _Run:
    """One benchmark run: the inputs, catalog and ranked items shared by the steps; progress on stderr."""

    def __init__(self, config: RedialBenchConfig, progress: bool) -> None:
        self.config, self.progress = config, progress
        self.console = Console(stderr=True, quiet=not progress)
        self.started = time.perf_counter()
        self.timing: dict[str, float] = {}
        self._mark = self.started
        c = config
        self.inputs = load_inputs(c.train, c.test, c.movielens_dir, c.movies, c.metadata)
        self.catalog, self.candidates = make_catalog(self.inputs)
        self.mask = np.zeros(len(self.catalog), dtype=bool)
        self.mask[self.candidates] = True
        self._extractor: RuleExtractor | None = None

    def log(self, text: str) -> None:
        self.console.print(text)

    def step(self, name: str) -> None:
        """Record the seconds since the previous step under `name`."""
        now = time.perf_counter()
        self.timing[name] = round(now - self._mark, 2)
        self._mark = now

    def fit(self, dialogues: list[Dialogue]) -> Fitted:
        c = self.config
        return fit_generators(
            c.generators, self.catalog, self.inputs, dialogues, seed=c.seed, quick=c.quick,
            overrides=c.overrides, log=self.log, progress=self.progress,
        )  # fmt: skip

    def encoder(self, use_text: bool) -> ContextEncoder:
        """A fresh encoder (its own statistics); the rule extractor is built once per run."""
        if not use_text:
            return ContextEncoder(self.catalog, None)
        if self._extractor is None:
            self._extractor = RuleExtractor(self.catalog, use_embeddings=False)
        return ContextEncoder(self.catalog, self._extractor)

    def encode(self, samples: list[RedialSample], encoder: ContextEncoder, data: TrainData) -> Encoded:
        return encode(samples, encoder, data.attribute_names, self.config.profile, progress=self.progress)

    def lists(self, generators: Mapping[str, Recommender], enc: Encoded, depth: int) -> ListsAndTimes:
        k = depth + max((len(e) for e in enc.exclusions), default=0)
        return all_lists(generators, enc.profiles, self.candidates, k, progress=self.progress, log=self.log)


ListsAndTimes = tuple[dict[str, list[Recommendations]], dict[str, float]]


@dataclass
class _Tuning:
    """What the validation phase produced."""

    fit_part: list[Dialogue]
    valid_part: list[Dialogue]
    fitted: Fitted
    valid: Encoded
    tuned: Tuned
    seconds_per_sample: float  # understanding + every generator's ranking, per validation sample


def _tune(run: _Run) -> _Tuning:
    """Fit on the fit part of the training dialogues, tune the fusion on the validation part."""
    config = run.config
    fit_part, valid_part = split_dialogues(run.inputs.train, config.validation_fraction, config.seed)
    run.log(f"[1/4] fitting generators on {len(fit_part)} dialogues (validation: {len(valid_part)})")
    fitted = run.fit(fit_part)
    if not fitted.generators:
        errors = "; ".join(f"{n}: {i.get('error')}" for n, i in fitted.info.items())
        raise ValidationError(f"no generator could be fitted: {errors}")
    run.step("fit_validation_models")
    started = time.perf_counter()
    valid = run.encode(extract_samples(valid_part, run.catalog), run.encoder(config.use_text), fitted.data)
    if len(valid.samples) == 0 or not valid.dedup.any():
        raise ValidationError("the validation dialogues have no (dedup) recommendation sample to tune on")
    space = QUICK_SPACE if config.quick else TuningSpace()
    run.log(f"[2/4] tuning the fusion on {len(valid.samples)} validation samples")
    lists, _ = run.lists(fitted.generators, valid, max(space.depths))
    per_sample = (time.perf_counter() - started) / len(valid.samples)
    pools = {d: make_pools(lists, valid, d, run.mask) for d in space.depths}
    tuned = tune_fusion_setting(
        list(lists), {d: p[0] for d, p in pools.items()}, {d: p[1] for d, p in pools.items()}, space
    )
    run.log(f"  chosen: {tuned.as_dict()['weights']}, {tuned.setting.boost}")
    run.step("tune_fusion")
    return _Tuning(fit_part, valid_part, fitted, valid, tuned, per_sample)


def _plan(run: _Run, tuning: _Tuning, n_test: int) -> dict[str, str]:
    """Which optional steps fit in the time budget: the refit first, then the text ablation.

    Estimates: the refit costs the validation fit scaled by the number of dialogues; ranking the test
    costs the validation's seconds per sample (understanding + rankings) times the test samples, x1.5.
    """
    config, skipped = run.config, {}
    refit, ablation = config.refit, config.use_text and config.text_ablation
    if config.time_budget_s is not None:
        elapsed = time.perf_counter() - run.started
        ratio = len(run.inputs.train) / max(len(tuning.fit_part), 1)
        refit_cost = run.timing.get("fit_validation_models", 0.0) * ratio
        test_cost = 1.5 * tuning.seconds_per_sample * n_test
        left = config.time_budget_s - elapsed - test_cost
        if ablation and left - (refit_cost if refit else 0.0) < test_cost:
            ablation = False
            skipped["text_ablation"] = f"time budget: it would take about {test_cost:.0f}s more than is left"
        if refit and left < refit_cost:
            refit = False
            skipped["refit"] = (
                f"time budget: the refit (~{refit_cost:.0f}s) would not fit; the generators fitted on "
                f"{len(tuning.fit_part)} dialogues rank the test"
            )
    if not config.refit:
        skipped["refit"] = "disabled (refit=False)"
    if config.use_text and not config.text_ablation:
        skipped["text_ablation"] = "disabled"
    return skipped


def run_redial_benchmark(config: RedialBenchConfig, *, progress: bool = False) -> dict[str, Any]:
    """Run the benchmark and return the report (see the module docstring)."""
    run = _Run(config, progress)
    inputs = run.inputs
    run.log(
        f"[bold]ReDial[/]: {len(inputs.train)} training / {len(inputs.test)} test dialogues; catalog "
        f"{len(run.catalog)} items, {len(run.candidates)} ranked ReDial movies"
    )
    test_samples = extract_samples(inputs.test, run.catalog)
    if not test_samples:
        raise ValidationError(f"{config.test}: no recommender message mentions a movie: nothing to evaluate")
    run.step("load")
    tuning = _tune(run)
    skipped = _plan(run, tuning, len(test_samples))
    if "refit" not in skipped:
        run.log(f"[3/4] refitting generators on all {len(inputs.train)} training dialogues")
        final = run.fit(inputs.train)
    else:
        run.log(f"[3/4] no refit: {skipped['refit']}")
        final = tuning.fitted
    run.step("fit_final_models")
    tuned = tuning.tuned
    kept = [(n, w) for n, w in zip(tuned.names, tuned.setting.weights, strict=True) if n in final.generators]
    names, weights = [n for n, _ in kept], tuple(w for _, w in kept)
    if not any(w > 0 for w in weights):
        raise ValidationError("every generator the tuned fusion uses failed to refit")
    setting = replace(tuned.setting, weights=weights)
    run.log(f"[4/4] ranking {len(test_samples)} test samples")
    encoder = run.encoder(config.use_text)
    test = run.encode(test_samples, encoder, final.data)
    if encoder.stats.extractor_failures:
        failures = encoder.stats.extractor_failures
        run.log(f"[yellow]warning: the extractor failed on {failures} messages (their @ mentions are "
                f"used, their text is not): {encoder.stats.errors[:3]}[/]")  # fmt: skip
    run.step("understand_test")
    generators = {n: final.generators[n] for n in names}
    test_lists, list_seconds = run.lists(generators, test, setting.depth)
    rows = check_rows(len(test.samples), config.check_samples, config.seed)
    evaluation = evaluate_settings(
        test_lists, test, setting.depth, run.mask, _settings(names, setting), k=K, main="fusion", check=rows
    )
    del test_lists
    run.step("rank_test")
    main = _both(evaluation.full["fusion"], evaluation.dedup.pop("fusion"))
    # the same system's `full` ranking (nothing excluded, boosted) scored on the dedup samples only
    no_exclusion = summarize(evaluation.full.pop("fusion")[test.dedup], depth=K)
    ablations = {name: _both(evaluation.full[name], evaluation.dedup[name]) for name in evaluation.full}
    if config.use_text and "text_ablation" not in skipped:
        run.log("  ablation: profiles from `@` mentions only (no text understanding)")
        at_only = run.encode(test_samples, run.encoder(False), final.data)
        at_lists, _ = run.lists(generators, at_only, setting.depth)
        plain = {"fusion": (setting, replace(setting, boost=BoostConfig()))}
        at = evaluate_settings(at_lists, at_only, setting.depth, run.mask, plain, k=K, main="fusion")
        ablations["fusion_mentions_only"] = _both(at.full["fusion"], at.dedup["fusion"])
        del at_lists
        run.step("text_ablation")
    baselines = {
        name: _both(full, dedup)
        for name, (full, dedup) in baseline_ranks(
            test.samples, run.catalog, run.candidates, final.mention_counts, test.targets,
            test.exclusions, test.dedup, K,
        ).items()
    }  # fmt: skip
    check = check_against_ranker(
        generators, final.data, setting, test, evaluation.checked_full, evaluation.checked_dedup,
        run.candidates, K,
    )  # fmt: skip
    if check["identical_full"] < check["samples_full"] or check["identical_dedup"] < check["samples_dedup"]:
        run.log(f"[yellow]warning: FusionRanker and the tuned pools disagree: {check}[/]")
    run.step("check")
    report = {
        "benchmark": "redial",
        "full": main["full"],
        "dedup": main["dedup"],
        "dedup_no_exclusion": no_exclusion,
        "baselines": baselines,
        "ablations": ablations,
        "protocol": protocol_block(run.inputs, run.candidates, tuning, test, K),
        "fusion": {
            "members": names,
            "weights": dict(zip(names, setting.weights, strict=True)),
            "method": setting.method,
            "rrf_k": setting.rrf_k,
            "depth": setting.depth,
            "boost": asdict(setting.boost),
            "tuning": tuned.as_dict(),
            "check": check,
        },
        "generators": {
            "validation_fit": tuning.fitted.info,
            "final_fit": final.info if final is not tuning.fitted else "no refit (see skipped)",
            "test_rank_seconds": list_seconds,
        },
        "skipped": skipped,
        "understanding": {"test_messages": asdict(encoder.stats)},
        "published": PUBLISHED,
        "config": config_block(config),
        "environment": environment(),
    }
    run.step("report")
    report["timing"] = {**run.timing, "total_seconds": round(time.perf_counter() - run.started, 2)}
    return report


def _settings(names: list[str], setting: FusionSetting) -> dict[str, tuple[FusionSetting, FusionSetting]]:
    """(full, dedup) settings of the system ("fusion") and its ablations: each generator alone (same
    method, depth and boost), the fusion without the boost, untuned RRF (equal weights, rrf_k 60)."""
    plain = replace(setting, boost=BoostConfig())
    out = {"fusion": (setting, plain)}
    for g, name in enumerate(names):
        onehot = tuple(1.0 if j == g else 0.0 for j in range(len(names)))
        out[name] = (replace(setting, weights=onehot), replace(plain, weights=onehot))
    out["fusion_no_boost"] = (plain, plain)
    rrf = replace(setting, method="rrf", rrf_k=60.0, weights=(1.0,) * len(names))
    out["fusion_equal_weights_rrf"] = (rrf, replace(rrf, boost=BoostConfig()))
    return out
