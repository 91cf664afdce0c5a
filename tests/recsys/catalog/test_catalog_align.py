"""ReDial -> MovieLens alignment on tricky cases with known answers."""

from __future__ import annotations

import pandas as pd
import pytest

from recsys.catalog.align import AlignConfig, align_movies, typo_variant
from recsys.data.types import MovieMetadata, RedialMovie
from tests.recsys.catalog.catalog_fixtures import REDIAL_CASES, metadata, ml_items_frame, redial_movies


@pytest.fixture(scope="module")
def report():
    return align_movies(ml_items_frame(), redial_movies(), metadata())


@pytest.mark.parametrize(
    ("redial_id", "name", "expected_ml", "method"), [(c[0], c[1], c[3], c[4]) for c in REDIAL_CASES]
)
def test_each_case_aligns_as_expected(report, redial_id: int, name: str, expected_ml, method) -> None:
    found = report.alignments.get(redial_id)
    if expected_ml is None:
        assert found is None, f"{name} must not align, got {found}"
        assert any(m.redial_id == redial_id for m in report.misses)
    else:
        assert found is not None, (
            f"{name} did not align: {[m for m in report.misses if m.redial_id == redial_id]}"
        )
        assert (found.movielens_id, found.method) == (expected_ml, method)


def test_coverage_counts(report) -> None:
    total = sum(c[2] for c in REDIAL_CASES)
    missed = sum(c[2] for c in REDIAL_CASES if c[3] is None)
    assert report.total_mentions == total
    assert report.aligned_mentions == total - missed
    assert report.mention_coverage == pytest.approx((total - missed) / total)
    assert report.aligned_movies == sum(1 for c in REDIAL_CASES if c[3] is not None)
    summary = report.to_dict(n_misses=1)
    assert summary["by_method"]["alt_title"] == 2
    assert len(summary["misses"]) == 1 and summary["misses"][0]["redial_id"] == 109  # most mentioned miss


def test_wrong_imdb_id_is_overruled_by_title_and_year(report) -> None:
    heat = report.alignments[108]
    assert heat.movielens_id == 11 and heat.imdb_overruled
    assert "tt0114151" in heat.note and "Poison Ivy II" in heat.note


def test_duplicates_share_one_movielens_movie(report) -> None:
    assert report.alignments[101].movielens_id == report.alignments[110].movielens_id == 1


def test_misses_explain_why(report) -> None:
    misses = {m.redial_id: m for m in report.misses}
    assert "tt9999999 is not in this MovieLens release" in misses[109].reason
    racers = misses[107]
    assert racers.best_candidate == "Death Race (2008)" and racers.best_score >= 90
    assert "plural" in racers.reason


def _frame(*rows: tuple[int, str, int | None, str | None]) -> pd.DataFrame:
    frame = pd.DataFrame(
        [(i, t, y, (), (), imdb) for i, t, y, imdb in rows],
        columns=["item_id", "title", "year", "genres", "tags", "imdb_id"],
    )
    frame["year"] = frame["year"].astype("Int64")
    return frame


def _align_one(frame: pd.DataFrame, name: str, meta: MovieMetadata | None = None):
    report = align_movies(frame, [RedialMovie(1, name, 1)], {1: meta} if meta else None)
    return report.alignments.get(1), report


def test_remakes_do_not_cross_match() -> None:
    frame = _frame((1, "Halloween", 1978, None), (2, "Halloween", 2007, None))
    assert _align_one(frame, "Halloween (1978)")[0].movielens_id == 1
    assert _align_one(frame, "Halloween (2007)")[0].movielens_id == 2
    only_original = _frame((1, "Halloween", 1978, None))
    found, report = _align_one(only_original, "Halloween (2007)")
    assert found is None and "same title only in year(s) [1978]" in report.misses[0].reason


def test_sequels_do_not_match_the_original() -> None:
    frame = _frame((1, "Toy Story", 1995, None), (2, "Toy Story 3", 2010, None))
    assert _align_one(frame, "Toy Story 2 (1999)")[0] is None
    assert _align_one(frame, "Toy Story 3 (2010)")[0].movielens_id == 2
    assert _align_one(_frame((1, "Rocky", 1976, None)), "Rocky II (1977)")[0] is None


def test_year_tolerance_is_one() -> None:
    frame = _frame((1, "Taxi Driver", 1976, None))
    assert _align_one(frame, "Taxi Driver (1977)")[0].method == "exact_year±1"
    assert _align_one(frame, "Taxi Driver (1978)")[0] is None


def test_missing_year_takes_the_most_rated_namesake() -> None:
    frame = _frame((1, "Batman", 1966, None), (2, "Batman", 1989, None))
    report = align_movies(frame, [RedialMovie(1, "Batman ", 3)], popularity={1: 5, 2: 50})
    assert report.alignments[1].movielens_id == 2 and "no year" in report.alignments[1].note


def test_missing_year_is_never_fuzzy() -> None:
    assert _align_one(_frame((1, "The Shawshank Redemption", 1994, None)), "Shawshank Redemtion")[0] is None


def test_fuzzy_typos_match_but_mockbusters_do_not() -> None:
    frame = _frame((1, "Shawshank Redemption, The", 1994, None), (2, "Night of the Living Dead", 1990, None))
    found = _align_one(frame, "The Shawshank Redemtion (1994)")[0]
    assert found.method == "fuzzy" and found.movielens_id == 1 and 90 <= found.score < 100
    assert _align_one(frame, "Night of the Living Bread (1990)")[0] is None


def test_typo_variant_rules() -> None:
    assert typo_variant("judgement night", "judgment night")
    assert not typo_variant("death racers", "death race")  # plural
    assert not typo_variant("brothers", "brother")
    assert not typo_variant("wedding daze", "wedding date")  # a different word
    assert not typo_variant("hangover part 2", "hangover 2")  # a word added


def test_article_and_punctuation_variants_are_exact() -> None:
    frame = _frame(
        (1, "Matrix, The", 1999, None), (2, "Mr. & Mrs. Smith", 2005, None), (3, "Old Boy", 2003, None)
    )
    assert _align_one(frame, "The Matrix (1999)")[0].method == "exact"
    assert _align_one(frame, "Mr and Mrs Smith  (2005)")[0].movielens_id == 2
    assert _align_one(frame, "Oldboy (2003)")[0].movielens_id == 3  # spaces ignored


def test_imdb_first_even_when_the_title_differs() -> None:
    frame = _frame((1, "Untitled Spider-Man Reboot", 2017, "tt2250912"), (2, "Spider-Man", 2002, "tt0145487"))
    meta = MovieMetadata(1, "Spider-Man: Homecoming (2017)", imdb_id="tt2250912")
    found, _ = _align_one(frame, "Spider-Man: Homecoming (2017)", meta)
    assert found.method == "imdb" and found.movielens_id == 1


def test_imdb_pointing_to_another_part_or_a_dissimilar_film_is_rejected() -> None:
    frame = _frame((1, "Insidious: Chapter 2", 2013, "tt2226417"), (2, "Mean Girls", 2004, "tt0377092"))
    sequel, _ = _align_one(frame, "Insidious: Chapter 4 (2018)", MovieMetadata(1, "x", imdb_id="tt2226417"))
    assert sequel is None
    found, report = _align_one(frame, "It  (2004)", MovieMetadata(1, "It (2004)", imdb_id="tt0377092"))
    assert found is None and report.misses[0].imdb_rejected


def test_without_imdb_ids_title_matching_still_works() -> None:
    frame = ml_items_frame().drop(columns="imdb_id")
    report = align_movies(frame, redial_movies(), metadata())
    assert not report.used_imdb
    assert report.alignments[101].method == "exact" and report.alignments[101].movielens_id == 1
    assert report.alignments[108].movielens_id == 11  # Heat: title + year, the wrong IMDb id is unusable


def test_stricter_fuzzy_threshold_drops_fuzzy_matches() -> None:
    report = align_movies(
        ml_items_frame(), redial_movies(), metadata(), config=AlignConfig(fuzzy_threshold=99)
    )
    assert 106 not in report.alignments
