"""The item graph as a stored artifact: built once per training data, reused by every later training.

`ensure_item_graph(data, settings, models=...)` is what `crs train` calls (dialogue/system.py
`train_models`): when a configured generator reads the item graph (`GRAPH_MODELS`), it fetches the
``item_graph`` artifact from the ArtifactStore, keyed by `graph_fingerprint(data)` — a hash of everything
the graph is built from (interactions, item attributes, co-mentions, ids), so the graph is rebuilt exactly
when the catalog or the data derived from it changes, and reused otherwise.

Reusing it is lazy: the store checks the stored file's checksum, but the graph is only read (torch.load)
when a model being fitted asks for it through `item_graph(data)`. So a `crs chat` start whose models are
already stored never imports torch for the graph. `item_graph(data)` — which the graph models call instead
of `build_item_graph` — returns the graph fetched or built earlier in this process for the same data
(matching fingerprint), else builds it; it remembers the last few graphs (`_REMEMBERED`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from graph.item_graph import (
    GRAPH_FORMAT_VERSION,
    build_item_graph,
    graph_fingerprint,
    load_item_graph,
    save_item_graph,
)
from recsys.artifacts import Artifact, ArtifactStore
from recsys.errors import ArtifactError
from recsys.models.types import TrainData
from recsys.settings import Settings

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

ITEM_GRAPH_ARTIFACT = "item_graph"
GRAPH_MODELS = frozenset({"ppr", "kg_gnn"})  # registry names of the generators that read the item graph
_FILENAME = "item_graph.pt"
_REMEMBERED = 3  # graphs kept in memory (KG-GNN's fit reads two: its hold-out split's and the full data's)


@dataclass
class StoredItemGraph:
    """An item graph by fingerprint: in memory, or in a stored file read on first use."""

    fingerprint: str
    path: Path | None = None
    _graph: HeteroData | None = field(default=None, repr=False)

    @property
    def loaded(self) -> bool:
        return self._graph is not None

    def graph(self) -> HeteroData:
        """The graph (read from `path` the first time, then kept)."""
        if self._graph is None:
            if self.path is None:
                raise ArtifactError(f"item graph {self.fingerprint[:12]}: neither in memory nor stored")
            self._graph = load_item_graph(self.path, fingerprint=self.fingerprint)
        return self._graph


class ItemGraphCodec:
    """ArtifactStore codec: `item_graph.pt` (graph/item_graph.py's format, with its fingerprint).

    Loading returns a lazy handle (the file is read when the graph is first asked for)."""

    name = "item-graph"

    def __init__(self, fingerprint: str) -> None:
        self.fingerprint = fingerprint  # the graph_fingerprint the stored graph must have

    def dump(self, value: StoredItemGraph, directory: Path) -> None:
        save_item_graph(value.graph(), directory / _FILENAME, value.fingerprint)

    def load(self, directory: Path) -> StoredItemGraph:
        path = directory / _FILENAME
        if not path.is_file():
            raise ArtifactError(f"{path}: missing")
        return StoredItemGraph(self.fingerprint, path)


_lock = threading.Lock()
_remembered: OrderedDict[str, StoredItemGraph] = OrderedDict()


def _remember(handle: StoredItemGraph) -> StoredItemGraph:
    with _lock:
        _remembered[handle.fingerprint] = handle
        _remembered.move_to_end(handle.fingerprint)
        while len(_remembered) > _REMEMBERED:
            _remembered.popitem(last=False)
    return handle


def forget_item_graphs() -> None:
    """Drop the graphs remembered in this process (they are rebuilt or re-read on the next request)."""
    with _lock:
        _remembered.clear()


def fetch_item_graph(
    data: TrainData, store: ArtifactStore, *, force: bool = False
) -> Artifact[StoredItemGraph]:
    """The stored item graph of `data` (built and stored when missing, stale or `force`), remembered for
    `item_graph(data)`. `artifact.built` tells whether this call built it."""
    fingerprint = graph_fingerprint(data)

    def build() -> StoredItemGraph:
        return StoredItemGraph(fingerprint, _graph=build_item_graph(data))

    artifact = store.fetch(
        ITEM_GRAPH_ARTIFACT,
        [],  # the fingerprint in `params` covers everything the graph is built from
        build,
        params={"graph_format": GRAPH_FORMAT_VERSION, "data": fingerprint},
        codec=ItemGraphCodec(fingerprint),
        force=force,
    )
    handle = artifact.value
    if handle.path is None:  # built by this call: later readers may also use the stored file
        handle.path = artifact.path / _FILENAME
    _remember(handle)
    return artifact


def ensure_item_graph(
    data: TrainData,
    settings: Settings | None = None,
    *,
    models: Iterable[str],
    force: bool = False,
    progress: bool = False,
) -> Artifact[StoredItemGraph] | None:
    """Training's hook: fetch (build or reuse) the item graph artifact when one of `models` (registry
    names) reads the graph; None, with nothing built or imported, when none does. `progress`: a status
    line on stderr (building takes seconds on the shared data: torch import and ~18k nodes)."""
    if not GRAPH_MODELS.intersection(models):
        return None
    console = None
    if progress:
        from rich.console import Console

        console = Console(stderr=True)
        console.print(f"[dim]item graph for {data.n_users} users x {data.n_items} items ...[/dim]")
    artifact = fetch_item_graph(data, ArtifactStore(settings), force=force)
    if console is not None:
        how = f"built in {artifact.manifest.get('build_seconds', 0):.1f} s" if artifact.built else "reused"
        console.print(f"[dim]item graph {how}: {artifact.path}[/dim]")
    return artifact


def item_graph(data: TrainData) -> HeteroData:
    """The item graph of `data`: the one fetched or built earlier in this process for the same data,
    else a new build (remembered for the next caller)."""
    fingerprint = graph_fingerprint(data)
    with _lock:
        handle = _remembered.get(fingerprint)
    if handle is not None:
        try:
            return handle.graph()
        except ArtifactError:  # its stored file was pruned or damaged since: build it again
            pass
    return _remember(StoredItemGraph(fingerprint, _graph=build_item_graph(data))).graph()
