"""System assembly: model configurations, training through the artifact store, injected components."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dialogue.manager import DialogueManager
from dialogue.store import StateStore
from dialogue.system import DEFAULT_GENERATORS, ModelConfig, build_manager, load_model_config, train_models
from recsys.errors import ConfigError
from recsys.models.fusion import FusionRanker
from recsys.settings import get_settings
from tests.dialogue.world import ID, WAR
from tests.dialogue.world_files import write_world_dataset


def test_model_configs(tmp_path: Path) -> None:
    assert load_model_config().generators == DEFAULT_GENERATORS
    config = load_model_config(models="ppr, itemknn")
    assert [(g.name, g.weight) for g in config.generators] == [("ppr", 2.0), ("itemknn", 1.0)]
    with pytest.raises(ConfigError, match=r"unknown generators \['svd'\]; valid: popularity, itemknn"):
        load_model_config(models="itemknn,svd")
    with pytest.raises(ConfigError, match="listed twice"):
        load_model_config(models="itemknn,itemknn")
    path = tmp_path / "models.json"
    ease = {"name": "ease", "params": {"l2": 10.0}}
    path.write_text(json.dumps({"generators": [ease], "method": "weighted"}))
    config = load_model_config(path)
    assert config.method == "weighted" and config.generators[0].params == {"l2": 10.0}
    path.write_text(json.dumps({"generators": [], "depth": 0}))
    with pytest.raises(ConfigError, match=r"models.json: invalid model config: generators: .*depth"):
        load_model_config(path)
    with pytest.raises(ConfigError, match="not both"):
        load_model_config(path, models="itemknn")


def test_train_models_is_cached_by_data_and_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRS_DATA_DIR", str(write_world_dataset(tmp_path / "data")))
    get_settings.cache_clear()
    config = ModelConfig.from_names("itemknn")
    first = train_models(config=config)
    assert first.built and isinstance(first.recommender, FusionRanker)
    assert set(first.models.fit_seconds) == {"itemknn"}
    again = train_models(config=config)
    assert not again.built and again.fingerprint == first.fingerprint
    other = train_models(config=ModelConfig.from_names("itemknn", depth=50))
    assert other.built and other.fingerprint != first.fingerprint  # another configuration: trained anew


def test_build_manager_with_injected_components(world_fusion, world, world_extractor, redis_client) -> None:
    store = StateStore(redis_client, ttl_seconds=60)
    manager = build_manager(
        recommender=world_fusion, catalog=world, extractor=world_extractor, store=store, policy="eager"
    )
    assert isinstance(manager, DialogueManager) and manager.policy.name == "eager"
    sid = manager.start_session()
    r = manager.turn(sid, "I loved Platoon")
    assert r.action == "recommend" and r.recommendations[0].item_id in WAR
    assert ID["Platoon"] not in [x.item_id for x in r.recommendations]
    with pytest.raises(ConfigError, match="both a recommender and its catalog"):
        build_manager(recommender=world_fusion)
