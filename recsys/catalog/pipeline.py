"""From the datasets named by the settings to the catalog and the dialogue's TrainData, through the
artifact store: nothing is rebuilt while the input files and the build parameters stay the same.

Artifacts:
- "catalog"  (CatalogCodec): the Catalog and the AlignmentReport; inputs: the MovieLens directory,
  movies_with_mentions.csv, movie_metadata.json and train_data.jsonl (mention counts).
- "dialogue_train_data" (TrainDataCodec): TrainData; inputs: the same files; params include the
  catalog artifact's fingerprint, so a rebuilt catalog rebuilds the train data too.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from recsys.artifacts import ArtifactStore
from recsys.catalog.align import AlignConfig, align_movies
from recsys.catalog.align_report import AlignmentReport
from recsys.catalog.build import build_catalog
from recsys.catalog.io import CatalogCodec, TrainDataCodec
from recsys.catalog.train_data import TrainDataConfig, build_train_data, describe_train_data
from recsys.catalog.types import Catalog
from recsys.errors import DataError
from recsys.models.types import TrainData
from recsys.settings import Settings, get_settings

CATALOG_ARTIFACT = "catalog"
TRAIN_DATA_ARTIFACT = "dialogue_train_data"
CATALOG_BUILD_VERSION = 1  # bump when build_catalog / the aligner change what they produce
TRAIN_DATA_BUILD_VERSION = 1  # bump when build_train_data changes what it produces


@dataclass(frozen=True)
class DatasetPaths:
    """The input files of the catalog, resolved from the settings."""

    movielens_dir: Path
    redial_movies: Path
    redial_metadata: Path | None
    redial_dialogues: Path | None

    @classmethod
    def from_settings(cls, settings: Settings) -> DatasetPaths:
        """MovieLens and ReDial paths; DataError when a required one is missing."""
        redial = settings.redial_path
        if not settings.movielens_path.is_dir():
            raise DataError("MovieLens directory not found (set CRS_MOVIELENS_DIR or CRS_DATA_DIR)",
                            path=settings.movielens_path)  # fmt: skip
        movies = redial / "movies_with_mentions.csv"
        if not movies.is_file():
            raise DataError("ReDial movie list not found (set CRS_REDIAL_DIR or CRS_DATA_DIR)", path=movies)
        meta = redial / "movie_metadata.json"
        dialogues = redial / "train_data.jsonl"
        return cls(
            settings.movielens_path,
            movies,
            meta if meta.is_file() else None,
            dialogues if dialogues.is_file() else None,
        )

    def inputs(self) -> list[Path]:
        files = [self.movielens_dir, self.redial_movies, self.redial_metadata, self.redial_dialogues]
        return [p for p in files if p is not None]


@dataclass
class PreparedData:
    """The catalog, its alignment report and the dialogue's TrainData, with how they were obtained."""

    catalog: Catalog
    alignment: AlignmentReport
    train_data: TrainData
    built: dict[str, bool] = field(default_factory=dict)  # artifact name -> built by this call
    fingerprints: dict[str, str] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0


def prepare_dialogue_data(
    settings: Settings | None = None,
    *,
    align_config: AlignConfig | None = None,
    train_config: TrainDataConfig | None = None,
    force: bool = False,
    progress: bool = False,
) -> PreparedData:
    """Build or load the catalog and the dialogue's TrainData for the datasets named by `settings`."""
    from recsys.data.movielens import load_movielens
    from recsys.data.redial import load_movie_metadata, load_redial_dialogues, load_redial_movies

    start = time.perf_counter()
    settings = settings or get_settings()
    paths = DatasetPaths.from_settings(settings)
    store = ArtifactStore(settings)
    align_config = align_config or AlignConfig()
    train_config = train_config or TrainDataConfig()
    loaded: dict[str, object] = {}

    def movielens():  # loaded at most once, and only when something must be built
        if "movielens" not in loaded:
            loaded["movielens"] = load_movielens(paths.movielens_dir)
        return loaded["movielens"]

    def dialogues():
        if "dialogues" not in loaded:
            path = paths.redial_dialogues
            loaded["dialogues"] = load_redial_dialogues(path) if path is not None else None
        return loaded["dialogues"]

    def make_catalog() -> tuple[Catalog, AlignmentReport]:
        metadata = load_movie_metadata(paths.redial_metadata) if paths.redial_metadata else {}
        movies = load_redial_movies(paths.redial_movies)
        return build_catalog(
            movielens(), movies, metadata, dialogues(), config=align_config, progress=progress
        )

    catalog_params = {"build_version": CATALOG_BUILD_VERSION, "align": asdict(align_config)}
    cat = store.fetch(
        CATALOG_ARTIFACT,
        paths.inputs(),
        make_catalog,
        params=catalog_params,
        codec=CatalogCodec(),
        force=force,
    )
    catalog, report = cat.value

    def make_train_data() -> TrainData:
        return build_train_data(catalog, movielens().interactions, dialogues(), train_config)

    train_params = {
        "build_version": TRAIN_DATA_BUILD_VERSION,
        "catalog": cat.fingerprint,
        "train": train_config.as_params(),
    }
    td = store.fetch(
        TRAIN_DATA_ARTIFACT,
        paths.inputs(),
        make_train_data,
        params=train_params,
        codec=TrainDataCodec(),
        force=force,
    )
    return PreparedData(
        catalog=catalog,
        alignment=report,
        train_data=td.value,
        built={CATALOG_ARTIFACT: cat.built, TRAIN_DATA_ARTIFACT: td.built},
        fingerprints={CATALOG_ARTIFACT: cat.fingerprint, TRAIN_DATA_ARTIFACT: td.fingerprint},
        paths={CATALOG_ARTIFACT: cat.path, TRAIN_DATA_ARTIFACT: td.path},
        seconds=time.perf_counter() - start,
    )


def load_dialogue_train_data(settings: Settings | None = None) -> tuple[TrainData, Catalog]:
    """The dialogue's (TrainData, Catalog) for `settings`, built on first use and cached as artifacts."""
    prepared = prepare_dialogue_data(settings)
    return prepared.train_data, prepared.catalog


def prepare_summary(prepared: PreparedData) -> dict[str, Any]:
    """What `crs data prepare` prints: catalog, alignment, train data, timing, built or loaded."""
    catalog, report = prepared.catalog, prepared.alignment
    movielens_items = sum(1 for it in catalog if it.movielens_id is not None)
    return {
        "catalog_items": len(catalog),
        "movielens_items": movielens_items,
        "redial_only_items": len(catalog) - movielens_items,
        "redial_movies": report.redial_movies,
        "aligned_redial_movies": report.aligned_movies,
        "mention_coverage": round(report.mention_coverage, 4),
        "alignment_by_method": dict(report.by_method),
        "metadata_ignored": len(report.metadata_ignored),
        **describe_train_data(prepared.train_data),
        "seconds": round(prepared.seconds, 2),
        "rebuilt": {name: built for name, built in prepared.built.items()},
        "artifacts": {name: str(path) for name, path in prepared.paths.items()},
    }


def align_files(
    movielens_dir: Path,
    redial_movies: Path,
    metadata: Path | None = None,
    *,
    config: AlignConfig | None = None,
    progress: bool = False,
) -> AlignmentReport:
    """Align the ReDial movie list to a MovieLens release directory (`crs data align`)."""
    from recsys.data.movielens import load_movielens
    from recsys.data.redial import load_movie_metadata, load_redial_movies

    data = load_movielens(movielens_dir)
    movies = load_redial_movies(redial_movies)
    meta = load_movie_metadata(metadata) if metadata is not None else {}
    ratings = data.interactions.frame["item_id"].value_counts().to_dict()
    return align_movies(data.items, movies, meta, popularity=ratings, config=config, progress=progress)
