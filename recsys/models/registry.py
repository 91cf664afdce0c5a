"""Names of the candidate generators and `create(name, **overrides)`.

Classes are imported only when created, so naming a CF model never imports torch; only the GNN models
(lightgcn, kg_gnn) pull it in. `seed=` is mapped to whatever the model's constructor calls its seed
(`random_state` or `seed`) and ignored by deterministic models.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import typing
from typing import Any

from recsys.errors import ConfigError
from recsys.models.base import Recommender

MODEL_NAMES: tuple[str, ...] = ("popularity", "itemknn", "ease", "als", "bpr", "lightgcn", "kg_gnn", "ppr")

_CLASSES: dict[str, str] = {
    "popularity": "recsys.models.popularity:Popularity",
    "itemknn": "recsys.models.itemknn:ItemKNN",
    "ease": "recsys.models.ease:EASE",
    "als": "recsys.models.implicit_cf:ALS",
    "bpr": "recsys.models.implicit_cf:BPR",
    "lightgcn": "graph.lightgcn:LightGCNRecommender",
    "kg_gnn": "graph.kg_gnn:KGGNNRecommender",
    "ppr": "graph.ppr:PersonalizedPageRank",
}
_SEED_PARAMS = ("random_state", "seed")


def _check_name(name: str) -> str:
    if name not in _CLASSES:
        raise ConfigError(f"unknown model {name!r}; valid models: {', '.join(MODEL_NAMES)}")
    return name


def model_class(name: str) -> type[Recommender]:
    """The Recommender class behind a model name (imports its module)."""
    module_name, _, class_name = _CLASSES[_check_name(name)].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"model {name!r} is not available: cannot import {module_name} ({exc})") from exc
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Recommender)):
        raise ConfigError(f"model {name!r}: {module_name}.{class_name} is not a Recommender class")
    return cls


def parameters(name: str) -> dict[str, Any]:
    """Constructor parameters of a model and their defaults (inspect.Parameter.empty when required).

    A constructor that takes `config: SomeDataclass | None` plus `**params` overriding its fields (the
    graph models) also lists the dataclass's fields with their defaults.
    """
    cls = model_class(name)
    sig = inspect.signature(cls.__init__)
    out = {
        p.name: p.default
        for p in sig.parameters.values()
        if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }
    if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()) and "config" in out:
        config_type = _config_dataclass(cls)
        if config_type is not None:
            for f in dataclasses.fields(config_type):
                default = f.default if f.default is not dataclasses.MISSING else inspect.Parameter.empty
                out.setdefault(f.name, default)
    return out


def _config_dataclass(cls: type) -> type | None:
    """The dataclass named by the constructor's `config` annotation (`X | None`), if any."""
    try:
        hint = typing.get_type_hints(cls.__init__).get("config")
    except (NameError, TypeError):
        return None
    for candidate in (hint, *typing.get_args(hint)):
        if isinstance(candidate, type) and dataclasses.is_dataclass(candidate):
            return candidate
    return None


def create(name: str, *, seed: int | None = None, **overrides: Any) -> Recommender:
    """A new, unfitted model with its default hyper-parameters, changed by `overrides`.

    Raises ConfigError for an unknown name (listing the valid ones) or an unknown hyper-parameter (listing
    the model's).
    """
    cls = model_class(name)
    params = parameters(name)
    sig = inspect.signature(cls.__init__)
    opaque = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()) and _config_dataclass(cls) is None
    unknown = sorted(set(overrides) - set(params))
    if unknown and not opaque:
        raise ConfigError(
            f"model {name!r} has no parameter(s) {', '.join(unknown)}; "
            f"its parameters: {', '.join(params) or '(none)'}"
        )
    kwargs = dict(overrides)
    if seed is not None:
        for p in _SEED_PARAMS:
            if p in params and p not in kwargs:
                kwargs[p] = seed
                break
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"model {name!r}: invalid parameters {kwargs}: {exc}") from exc


def public_params(model: Recommender) -> dict[str, Any]:
    """The model's hyper-parameters as set (JSON-friendly values only)."""
    out: dict[str, Any] = {}
    for key, value in vars(model).items():
        if key.startswith("_") or key.endswith("_"):
            continue
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = dataclasses.asdict(value)
        if isinstance(value, (int, float, str, bool, type(None), dict)):
            out[key] = value
    return out
