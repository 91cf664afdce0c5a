"""The model registry: names, lazy imports, overrides, seeds and errors."""

from __future__ import annotations

import subprocess
import sys
import types
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pytest

from recsys.errors import ConfigError
from recsys.models import registry
from recsys.models.base import Recommender
from recsys.models.popularity import Popularity
from recsys.models.types import Profile, TrainData


class _Stub(Recommender):
    def _fit(self, data: TrainData, *, show_progress: bool) -> None:
        pass

    def _score_users(self, users: np.ndarray) -> np.ndarray:
        return np.zeros((len(users), self.n_items), np.float32)

    def _score_profiles(self, profiles: Sequence[Profile]) -> np.ndarray:
        return np.zeros((len(profiles), self.n_items), np.float32)


class Seeded(_Stub):
    def __init__(self, factors: int = 8, *, random_state: int = 0) -> None:
        super().__init__()
        if factors < 1:
            raise ValueError("factors must be >= 1")
        self.factors, self.random_state = factors, random_state


@dataclass(frozen=True)
class Config:
    epochs: int = 10
    seed: int = 1


class Configured(_Stub):
    def __init__(self, config: Config | None = None, *, fold: str = "mean", **params: Any) -> None:
        super().__init__()
        self.config = Config(
            **{**{f.name: getattr(config or Config(), f.name) for f in fields(Config)}, **params}
        )
        self.fold = fold


@pytest.fixture
def fake_models(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("fake_registry_models")
    module.Seeded = Seeded  # type: ignore[attr-defined]
    module.Configured = Configured  # type: ignore[attr-defined]
    module.NotAModel = object  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_registry_models", module)
    monkeypatch.setitem(registry._CLASSES, "als", "fake_registry_models:Seeded")
    monkeypatch.setitem(registry._CLASSES, "lightgcn", "fake_registry_models:Configured")
    monkeypatch.setitem(registry._CLASSES, "bpr", "fake_registry_models:NotAModel")
    monkeypatch.setitem(registry._CLASSES, "ppr", "no_such_module_xyz:Model")


def test_names() -> None:
    assert registry.MODEL_NAMES == (
        "popularity",
        "itemknn",
        "ease",
        "als",
        "bpr",
        "lightgcn",
        "kg_gnn",
        "ppr",
    )
    assert set(registry._CLASSES) == set(registry.MODEL_NAMES)


def test_create_returns_an_unfitted_model() -> None:
    model = registry.create("popularity", seed=3)  # deterministic: the seed is ignored
    assert isinstance(model, Popularity) and model._data is None


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown model 'svd'.*popularity, itemknn, ease, als, bpr"):
        registry.create("svd")


@pytest.mark.usefixtures("fake_models")
def test_overrides_and_seed_mapping() -> None:
    model = registry.create("als", seed=7, factors=4)
    assert isinstance(model, Seeded) and (model.factors, model.random_state) == (4, 7)
    assert registry.create("als", seed=7, random_state=9).random_state == 9  # explicit wins
    with pytest.raises(ConfigError, match=r"no parameter\(s\) depth; its parameters: factors, random_state"):
        registry.create("als", depth=3)
    with pytest.raises(ConfigError, match=r"invalid parameters.*factors must be"):
        registry.create("als", factors=0)


@pytest.mark.usefixtures("fake_models")
def test_config_dataclass_fields_are_parameters() -> None:
    assert registry.parameters("lightgcn") == {"config": None, "fold": "mean", "epochs": 10, "seed": 1}
    model = registry.create("lightgcn", seed=5, epochs=2)
    assert model.config == Config(epochs=2, seed=5)  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="no parameter"):
        registry.create("lightgcn", nope=1)


@pytest.mark.usefixtures("fake_models")
def test_unavailable_or_wrong_classes() -> None:
    with pytest.raises(ConfigError, match="'ppr' is not available"):
        registry.create("ppr")
    with pytest.raises(ConfigError, match="not a Recommender"):
        registry.create("bpr")


def test_creating_cf_models_does_not_import_torch() -> None:
    code = (
        "import sys\n"
        "from recsys.models import registry\n"
        "for name in ('popularity', 'itemknn', 'ease', 'als', 'bpr', 'ppr'):\n"
        "    registry.create(name)\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_registered_model_builds_with_a_seed() -> None:
    for name in registry.MODEL_NAMES:
        model = registry.create(name, seed=11)
        assert isinstance(model, Recommender) and model.name == name
        params = registry.parameters(name)
        seed_param = next((p for p in ("random_state", "seed") if p in params), None)
        if seed_param == "random_state":
            assert model.random_state == 11  # type: ignore[attr-defined]
        elif seed_param == "seed":
            assert model.config.seed == 11  # type: ignore[attr-defined]
