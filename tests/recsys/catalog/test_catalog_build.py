"""Catalog build on the tiny synthetic MovieLens + ReDial, and its JSON round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from recsys.catalog.build import build_catalog, count_mentions
from recsys.catalog.io import load_catalog, report_from_dict, report_to_dict, save_catalog
from recsys.errors import ArtifactError, UnknownItemError
from tests.recsys.catalog.catalog_fixtures import dialogues, metadata, movielens_data, redial_movies


@pytest.fixture(scope="module")
def built():
    return build_catalog(movielens_data(), redial_movies(), metadata(), dialogues())


def test_one_item_per_movielens_movie_then_unaligned_redial(built) -> None:
    catalog, _ = built
    assert len(catalog) == 12 + 2  # 12 MovieLens movies + "Death Racers" and "An Obscure Film"
    assert [it.item_id for it in catalog] == list(range(14))
    assert [it.movielens_id for it in catalog][:12] == list(range(1, 13))
    assert [it.redial_id for it in catalog][12:] == [107, 109]
    assert all(it.movielens_id is None for it in list(catalog)[12:])


def test_merged_item_fields(built) -> None:
    catalog, _ = built
    matrix = catalog[catalog.from_movielens(1)]
    assert (matrix.title, matrix.year, matrix.imdb_id) == ("The Matrix", 1999, "tt0133093")
    assert matrix.genres == ("action", "sci-fi", "thriller")  # "science fiction" folded into "sci-fi"
    assert matrix.directors == ("Lana Wachowski", "Lilly Wachowski")
    assert matrix.stars == ("Keanu Reeves", "Laurence Fishburne")
    assert matrix.tags == ("cyberpunk", "philosophy")
    assert matrix.plot == "A hacker learns the truth."
    # 2 ratings + 2 mentions in the dialogues (@101 in d1, @110 in d2)
    assert matrix.popularity == 4.0
    toy2 = catalog[catalog.from_movielens(3)]
    assert toy2.genres == ("adventure", "animation", "family", "comedy")  # MovieLens "Children" -> family
    assert toy2.directors == ("John Lasseter",)
    assert catalog[catalog.from_movielens(8)].title == "Les Misérables"


def test_duplicate_redial_ids_resolve_to_one_item(built) -> None:
    catalog, _ = built
    assert catalog.from_redial(101) == catalog.from_redial(110) == catalog.from_movielens(1)
    assert catalog[catalog.from_redial(101)].redial_id == 101  # tie in mentions: lowest id is primary


def test_wrong_imdb_metadata_is_not_merged(built) -> None:
    catalog, report = built
    heat = catalog[catalog.from_redial(108)]
    assert heat.movielens_id == 11 and heat.title == "Heat"
    assert heat.directors == () and heat.plot == "" and heat.genres == ("action", "crime", "thriller")
    assert report.metadata_ignored == [108]


def test_redial_only_item_keeps_its_metadata(built) -> None:
    catalog, _ = built
    obscure = catalog[catalog.from_redial(109)]
    assert (obscure.title, obscure.year, obscure.imdb_id) == ("An Obscure Film", 2015, "tt9999999")
    assert obscure.genres == ("drama", "sport") and obscure.stars == ("Keanu Reeves",)
    assert obscure.popularity == 2.0  # mentioned in d1 and d2
    racers = catalog[catalog.from_redial(107)]
    assert (racers.title, racers.year, racers.popularity) == ("Death Racers", 2008, 0.0)


def test_popularity_from_nb_mentions_without_dialogues() -> None:
    catalog, _ = build_catalog(movielens_data(), redial_movies(), metadata())
    assert catalog[catalog.from_movielens(1)].popularity == 2 + 10 + 1  # ratings + nbMentions of 101 and 110


def test_count_mentions() -> None:
    assert count_mentions(dialogues()) == {101: 1, 109: 2, 104: 1, 103: 1, 110: 1, 102: 1}


def test_catalog_json_round_trip(built, tmp_path: Path) -> None:
    catalog, report = built
    save_catalog(catalog, tmp_path / "catalog.json")
    loaded = load_catalog(tmp_path / "catalog.json")
    assert list(loaded) == list(catalog)
    assert loaded.from_redial(110) == catalog.from_redial(110)  # aliases survive
    again = report_from_dict(report_to_dict(report))
    assert again.alignments == report.alignments and again.misses == report.misses
    assert again.mention_coverage == report.mention_coverage


def test_load_catalog_rejects_foreign_files(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"format": "something-else", "items": []}')
    with pytest.raises(ArtifactError, match="not a crs-catalog"):
        load_catalog(path)
    with pytest.raises(ArtifactError, match="cannot read"):
        load_catalog(tmp_path / "missing.json")


def test_unknown_item_id_raises(built) -> None:
    catalog, _ = built
    with pytest.raises(UnknownItemError):
        catalog[99]
