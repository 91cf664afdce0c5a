"""The item graph as a stored artifact: built once per data, reused (lazily) after, rebuilt when the data
changes; the graph models read the fetched graph; `crs train` (train_models) stores it."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

import graph.artifacts as ga
from graph.item_graph import build_item_graph
from graph.ppr import PersonalizedPageRank
from recsys.artifacts import ArtifactStore
from recsys.settings import get_settings
from tests.graph.test_item_graph import edges, tiny_data


@pytest.fixture(autouse=True)
def _fresh_memory() -> None:
    ga.forget_item_graphs()


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the item graph builds (each entry: the number of items of the built graph)."""
    calls: list[int] = []

    def counting(data):  # type: ignore[no-untyped-def]
        calls.append(data.n_items)
        return build_item_graph(data)

    monkeypatch.setattr(ga, "build_item_graph", counting)
    return calls


def same_graph(a, b) -> bool:  # type: ignore[no-untyped-def]
    return a.edge_types == b.edge_types and all(edges(a, t) == edges(b, t) for t in a.edge_types)


def test_built_once_then_reused_lazily_and_rebuilt_when_the_data_changes(
    tmp_path: Path, builds: list[int]
) -> None:
    store = ArtifactStore(root=tmp_path)
    first = ga.fetch_item_graph(tiny_data(), store)
    assert first.built and builds == [4]
    assert (first.path / "item_graph.pt").is_file()

    ga.forget_item_graphs()  # as in a new process
    again = ga.fetch_item_graph(tiny_data(), store)
    assert not again.built and again.fingerprint == first.fingerprint and builds == [4]
    assert not again.value.loaded  # reused without reading the graph ...
    assert same_graph(again.value.graph(), build_item_graph(tiny_data()))  # ... until it is asked for

    changed = dataclasses.replace(tiny_data(), item_item=None)  # e.g. the catalog lost its co-mentions
    rebuilt = ga.fetch_item_graph(changed, store)
    assert rebuilt.built and rebuilt.fingerprint != first.fingerprint and builds == [4, 4]
    assert ("item", "co_mentioned", "item") not in rebuilt.value.graph().edge_types
    assert ga.fetch_item_graph(changed, store, force=True).built and len(builds) == 3


def test_models_read_the_fetched_graph_instead_of_building_it(tmp_path: Path, builds: list[int]) -> None:
    data = tiny_data()
    ga.fetch_item_graph(data, ArtifactStore(root=tmp_path))  # builds it (1)
    ga.forget_item_graphs()
    ga.fetch_item_graph(data, ArtifactStore(root=tmp_path))  # a new process: reused from the store
    model = PersonalizedPageRank(collab_neighbors=0).fit(data)
    assert builds == [4]  # the fit read the stored graph
    fresh = PersonalizedPageRank(collab_neighbors=0)
    ga.forget_item_graphs()
    fresh.fit(data)  # nothing fetched: built on demand, with the same result
    assert builds == [4, 4]
    np.testing.assert_array_equal(model.transition_t_.toarray(), fresh.transition_t_.toarray())


def test_a_pruned_stored_graph_is_built_again(tmp_path: Path, builds: list[int]) -> None:
    art = ga.fetch_item_graph(tiny_data(), ArtifactStore(root=tmp_path))
    ga.forget_item_graphs()
    art = ga.fetch_item_graph(tiny_data(), ArtifactStore(root=tmp_path))
    (art.path / "item_graph.pt").unlink()  # deleted after the fetch, before a model asked for it
    assert ga.item_graph(tiny_data())["item"].num_nodes == 4 and builds == [4, 4]


def test_only_configurations_with_a_graph_model_store_the_graph(tmp_path: Path, builds: list[int]) -> None:
    settings = get_settings()
    assert ga.ensure_item_graph(tiny_data(), settings, models=["itemknn", "ease"]) is None
    assert builds == [] and not ArtifactStore(settings).versions(ga.ITEM_GRAPH_ARTIFACT)
    art = ga.ensure_item_graph(tiny_data(), settings, models=["itemknn", "ppr"])
    assert art is not None and art.built and builds == [4]


def test_progress_says_whether_the_graph_was_built_or_reused(capsys: pytest.CaptureFixture[str]) -> None:
    ga.ensure_item_graph(tiny_data(), get_settings(), models=["kg_gnn"], progress=True)
    err = capsys.readouterr().err
    assert "3 users x 4 items" in err and "item graph built in" in err
    ga.ensure_item_graph(tiny_data(), get_settings(), models=["kg_gnn"], progress=True)
    assert "item graph reused" in capsys.readouterr().err


def test_train_models_stores_the_graph_and_reuses_it_until_the_catalog_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, builds: list[int]
) -> None:
    from dialogue.system import ModelConfig, train_models
    from tests.dialogue.world_files import write_world_dataset

    root = write_world_dataset(tmp_path / "data")
    monkeypatch.setenv("CRS_DATA_DIR", str(root))
    get_settings.cache_clear()
    store = ArtifactStore(get_settings())
    ppr = ModelConfig.from_names("ppr")
    first = train_models(config=ppr)
    assert first.built and len(builds) == 1  # the stored graph was built once and PageRank used it
    (stored,) = store.versions(ga.ITEM_GRAPH_ARTIFACT)

    ga.forget_item_graphs()
    other = train_models(config=ModelConfig.from_names("ppr", depth=50))  # models retrained, same data
    assert other.built and len(builds) == 1  # ... on the stored graph
    assert store.versions(ga.ITEM_GRAPH_ARTIFACT) == [stored]

    # the catalog changes: The Matrix (ReDial 70000) is now directed by Christopher Nolan
    meta_path = root / "redial" / "movie_metadata.json"
    metadata = json.loads(meta_path.read_text())
    metadata["70000"]["director"] = ["Christopher Nolan"]
    meta_path.write_text(json.dumps(metadata))
    ga.forget_item_graphs()
    changed = train_models(config=ppr)
    assert changed.built and len(builds) == 2
    assert len(store.versions(ga.ITEM_GRAPH_ARTIFACT)) == 2
    nolan = changed.train_data.attribute_names.index("director:christopher nolan")
    assert changed.train_data.item_attributes[0, nolan] == 1  # (the change reached the graph's input)
