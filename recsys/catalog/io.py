"""Save and load a Catalog (JSON), an AlignmentReport (JSON) and TrainData (npz + JSON).

These are plain, inspectable formats rather than pickles, so that an artifact written by one version of
the code stays readable by another; the artifact store's codecs for them are at the end of the module.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from recsys.catalog.align_report import Alignment, AlignmentReport, Miss
from recsys.catalog.build import redial_aliases
from recsys.catalog.types import Catalog, CatalogItem
from recsys.errors import ArtifactError
from recsys.models.types import TrainData

CATALOG_FORMAT = "crs-catalog/1"
_ITEM_FIELDS = tuple(f.name for f in fields(CatalogItem))
_TUPLE_FIELDS = ("genres", "directors", "writers", "stars", "tags")


def catalog_to_dict(catalog: Catalog) -> dict[str, Any]:
    """A JSON-ready dict: format tag, items (one dict each) and the ReDial aliases."""
    return {
        "format": CATALOG_FORMAT,
        "items": [asdict(item) for item in catalog],
        "redial_aliases": {str(k): v for k, v in sorted(redial_aliases(catalog).items())},
    }


def catalog_from_dict(data: dict[str, Any], source: str = "catalog") -> Catalog:
    """Inverse of `catalog_to_dict`; ArtifactError naming `source` when the data is not a catalog."""
    if not isinstance(data, dict) or data.get("format") != CATALOG_FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise ArtifactError(f"{source}: not a {CATALOG_FORMAT} file (format {found!r})")
    try:
        items = []
        for raw in data["items"]:
            values = {k: raw[k] for k in _ITEM_FIELDS if k in raw}
            for name in _TUPLE_FIELDS:
                values[name] = tuple(values.get(name, ()))
            items.append(CatalogItem(**values))
        aliases = {int(k): int(v) for k, v in data.get("redial_aliases", {}).items()}
        return Catalog(items, redial_aliases=aliases)
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(f"{source}: malformed catalog ({type(exc).__name__}: {exc})") from exc


def save_catalog(catalog: Catalog, path: Path) -> None:
    """Write the catalog as JSON (UTF-8)."""
    Path(path).write_text(json.dumps(catalog_to_dict(catalog), ensure_ascii=False), encoding="utf-8")


def load_catalog(path: Path) -> Catalog:
    """Read a catalog written by `save_catalog`; ArtifactError if it is missing or malformed."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{path}: cannot read catalog ({exc})") from exc
    return catalog_from_dict(data, str(path))


def report_to_dict(report: AlignmentReport) -> dict[str, Any]:
    """Everything in the report (all alignments and misses), JSON-ready."""
    return {
        "alignments": [asdict(a) for a in report.alignments.values()],
        "misses": [asdict(m) for m in report.misses],
        "mentions": {str(k): v for k, v in report.mentions.items()},
        "movielens_movies": report.movielens_movies,
        "used_imdb": report.used_imdb,
        "seconds": report.seconds,
        "metadata_ignored": list(report.metadata_ignored),
    }


def report_from_dict(data: dict[str, Any]) -> AlignmentReport:
    """Inverse of `report_to_dict`."""
    alignments = [Alignment(**a) for a in data["alignments"]]
    return AlignmentReport(
        alignments={a.redial_id: a for a in alignments},
        misses=[Miss(**m) for m in data["misses"]],
        mentions={int(k): int(v) for k, v in data["mentions"].items()},
        movielens_movies=data["movielens_movies"],
        used_imdb=data["used_imdb"],
        seconds=data["seconds"],
        metadata_ignored=list(data.get("metadata_ignored", [])),
    )


def save_train_data(data: TrainData, directory: Path) -> None:
    """TrainData as npz matrices plus `train_data.json` (attribute names, which parts exist)."""
    directory = Path(directory)
    sp.save_npz(directory / "user_items.npz", data.user_items)
    if data.item_attributes is not None:
        sp.save_npz(directory / "item_attributes.npz", data.item_attributes)
    if data.item_item is not None:
        sp.save_npz(directory / "item_item.npz", data.item_item)
    for name in ("item_ids", "user_ids"):
        value = getattr(data, name)
        if value is not None:
            np.save(directory / f"{name}.npy", np.asarray(value), allow_pickle=False)
    meta = {"attribute_names": list(data.attribute_names)}
    (directory / "train_data.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")


def load_train_data(directory: Path) -> TrainData:
    """Read TrainData written by `save_train_data`."""
    directory = Path(directory)

    def matrix(name: str) -> sp.csr_matrix | None:
        path = directory / f"{name}.npz"
        return sp.csr_matrix(sp.load_npz(path)) if path.is_file() else None

    def array(name: str) -> np.ndarray | None:
        path = directory / f"{name}.npy"
        return np.load(path, allow_pickle=False) if path.is_file() else None

    meta = json.loads((directory / "train_data.json").read_text(encoding="utf-8"))
    user_items = matrix("user_items")
    if user_items is None:
        raise ArtifactError(f"{directory}: no user_items.npz")
    return TrainData(
        user_items=user_items,
        item_ids=array("item_ids"),
        user_ids=array("user_ids"),
        item_attributes=matrix("item_attributes"),
        attribute_names=tuple(meta["attribute_names"]),
        item_item=matrix("item_item"),
    )


class CatalogCodec:
    """Artifact codec for (Catalog, AlignmentReport): catalog.json + alignment.json."""

    name = "catalog-json"

    def dump(self, value: tuple[Catalog, AlignmentReport], directory: Path) -> None:
        catalog, report = value
        save_catalog(catalog, directory / "catalog.json")
        (directory / "alignment.json").write_text(
            json.dumps(report_to_dict(report), ensure_ascii=False), encoding="utf-8"
        )

    def load(self, directory: Path) -> tuple[Catalog, AlignmentReport]:
        catalog = load_catalog(directory / "catalog.json")
        report = report_from_dict(json.loads((directory / "alignment.json").read_text(encoding="utf-8")))
        return catalog, report


class TrainDataCodec:
    """Artifact codec for TrainData (npz + JSON)."""

    name = "train-data-npz"

    def dump(self, value: TrainData, directory: Path) -> None:
        save_train_data(value, directory)

    def load(self, directory: Path) -> TrainData:
        return load_train_data(directory)
