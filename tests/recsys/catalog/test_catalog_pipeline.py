"""Settings -> catalog + TrainData through the artifact store; the `crs data align/prepare` commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recsys.catalog.pipeline import prepare_dialogue_data
from recsys.catalog.train_data import TrainDataConfig
from recsys.cli import app
from recsys.errors import DataError
from recsys.settings import Settings
from tests.recsys.catalog.catalog_fixtures import REDIAL_CASES, write_ml100k_release

TOTAL = sum(c[2] for c in REDIAL_CASES)
ALIGNED = sum(c[2] for c in REDIAL_CASES if c[3] is not None)


def _settings(tmp_path: Path, movielens: Path, redial: Path) -> Settings:
    return Settings(movielens_dir=movielens, redial_dir=redial, artifacts_dir=tmp_path / "artifacts")


def test_prepare_builds_once_then_loads(tmp_path: Path, tiny_files: tuple[Path, Path]) -> None:
    settings = _settings(tmp_path, *tiny_files)
    first = prepare_dialogue_data(settings)
    assert first.built == {"catalog": True, "dialogue_train_data": True}
    assert len(first.catalog) == 14 and first.train_data.n_items == 14
    second = prepare_dialogue_data(settings)
    assert second.built == {"catalog": False, "dialogue_train_data": False}
    assert list(second.catalog) == list(first.catalog)
    assert second.catalog.from_redial(110) == first.catalog.from_redial(101)  # aliases survive the artifact
    assert (second.train_data.user_items != first.train_data.user_items).nnz == 0
    assert second.alignment.mention_coverage == first.alignment.mention_coverage


def test_changes_rebuild_only_what_depends_on_them(tmp_path: Path, tiny_files: tuple[Path, Path]) -> None:
    settings = _settings(tmp_path, *tiny_files)
    prepare_dialogue_data(settings)
    other = prepare_dialogue_data(settings, train_config=TrainDataConfig(min_rating=4.0))
    assert other.built == {"catalog": False, "dialogue_train_data": True}
    movies = tiny_files[1] / "movies_with_mentions.csv"
    movies.write_text(movies.read_text() + "112,Brand New Movie (2018),3\n")
    changed = prepare_dialogue_data(settings)
    assert changed.built == {"catalog": True, "dialogue_train_data": True}
    assert changed.catalog.from_redial(112) == len(changed.catalog) - 1


def test_missing_dataset_is_a_clear_error(tmp_path: Path) -> None:
    settings = _settings(tmp_path, tmp_path / "nope", tmp_path / "redial")
    with pytest.raises(DataError, match="MovieLens directory not found"):
        prepare_dialogue_data(settings)


def _align(*args: str) -> dict:
    result = CliRunner().invoke(app, ["data", "align", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_cli_align_json(tiny_files: tuple[Path, Path]) -> None:
    movielens, redial = tiny_files
    out = _align("--movielens", str(movielens), "--redial-movies", str(redial / "movies_with_mentions.csv"))
    assert out["redial_movies"] == len(REDIAL_CASES)
    assert out["aligned_movies"] == sum(1 for c in REDIAL_CASES if c[3] is not None)
    assert out["mention_coverage"] == round(ALIGNED / TOTAL, 4)
    assert out["used_imdb"] is True  # movie_metadata.json beside the movies file was found
    assert out["by_method"] == {"imdb": 1, "exact": 4, "exact_year±1": 1, "alt_title": 2, "fuzzy": 1}
    assert [m["redial_id"] for m in out["misses"]] == [109, 107]  # most mentioned first
    assert out["misses"][1]["best_candidate"] == "Death Race (2008)"


def test_cli_align_on_ml100k_matches_titles_only(tmp_path: Path, tiny_files: tuple[Path, Path]) -> None:
    movielens = write_ml100k_release(tmp_path / "ml-100k")
    movies = tiny_files[1] / "movies_with_mentions.csv"
    out = _align("--movielens", str(movielens), "--redial-movies", str(movies), "--misses", "0")
    assert out["by_method"]["imdb"] == 0 and out["misses"] == []
    assert out["aligned_movies"] == sum(1 for c in REDIAL_CASES if c[3] is not None)
    without = _align("--movielens", str(movielens), "--redial-movies", str(movies), "--no-metadata")
    assert without["used_imdb"] is False and without["metadata"] is None


def test_cli_align_writes_the_full_report(tmp_path: Path, tiny_files: tuple[Path, Path]) -> None:
    movielens, redial = tiny_files
    output = tmp_path / "alignment.json"
    _align(
        "--movielens",
        str(movielens),
        "--redial-movies",
        str(redial / "movies_with_mentions.csv"),
        "--output",
        str(output),
    )
    full = json.loads(output.read_text())
    assert len(full["alignments"]) + len(full["misses"]) == len(REDIAL_CASES)


def test_cli_prepare_json(
    tmp_path: Path, tiny_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from recsys.settings import get_settings

    monkeypatch.setenv("CRS_MOVIELENS_DIR", str(tiny_files[0]))
    monkeypatch.setenv("CRS_REDIAL_DIR", str(tiny_files[1]))
    get_settings.cache_clear()
    runs = [CliRunner().invoke(app, ["data", "prepare", "--json"]) for _ in range(2)]
    assert all(r.exit_code == 0 for r in runs), runs[0].output
    first, second = (json.loads(r.stdout) for r in runs)
    assert first["rebuilt"] == {"catalog": True, "dialogue_train_data": True}
    assert second["rebuilt"] == {"catalog": False, "dialogue_train_data": False}
    assert (first["catalog_items"], first["redial_only_items"], first["users"]) == (14, 2, 4)
    assert first["mention_coverage"] == round(ALIGNED / TOTAL, 4)
    assert first["attributes_by_kind"]["star"] == 1
    table = CliRunner().invoke(app, ["data", "prepare"])
    assert table.exit_code == 0 and "loaded from artifacts" in table.stdout
