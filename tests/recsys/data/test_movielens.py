"""MovieLens loader: every layout parsed to exact values, and every malformed input named by file and line."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest

from recsys.data.movielens import detect_layout, load_movielens
from recsys.data.parsing import split_title_year
from recsys.errors import DataError, DataFormatError


def _item(data, item_id: int) -> dict:
    frame = data.items.frame
    return frame.loc[frame["item_id"] == item_id].iloc[0].to_dict()


@pytest.mark.parametrize(
    ("raw", "title", "year"),
    [
        ("Toy Story (1995)", "Toy Story", 1995),
        ("Matrix, The (1999)", "Matrix, The", 1999),
        ("Babylon 5", "Babylon 5", None),
        ("From Dusk Till Dawn 2 (1999) ", "From Dusk Till Dawn 2", 1999),
        ("Big Bang Theory, The (2007-)", "Big Bang Theory, The", 2007),
        ("Death Note: Desu nôto (2006–2007)", "Death Note: Desu nôto", 2006),
        ("City of Lost Children, The (Cité des enfants perdus, La) (1995)",
         "City of Lost Children, The (Cité des enfants perdus, La)", 1995),
        ("(500) Days of Summer (2009)", "(500) Days of Summer", 2009),
        ("1984 (1984)", "1984", 1984),
        ("(2019)", "(2019)", None),
    ],
)  # fmt: skip
def test_split_title_year(raw: str, title: str, year: int | None) -> None:
    assert split_title_year(raw) == (title, year)


def test_ml100k_layout_values(ml100k_dir: Path) -> None:
    data = load_movielens(ml100k_dir)
    assert data.layout == "ml-100k" == detect_layout(ml100k_dir)
    inter = data.interactions.frame
    assert (len(inter), data.interactions.n_users, data.interactions.n_items) == (8, 3, 5)
    assert inter.dtypes.astype(str).to_dict() == {
        "user_id": "int64", "item_id": "int64", "rating": "float32", "timestamp": "int64"
    }  # fmt: skip
    assert inter.iloc[0].tolist() == [1, 1, 5.0, 881250949]
    assert list(data.items.frame["item_id"]) == [1, 2, 3, 4, 5]
    toy = _item(data, 1)
    assert (toy["title"], toy["year"], toy["tags"], toy["imdb_id"]) == ("Toy Story", 1995, (), None)
    assert toy["genres"] == ("animation", "children's", "comedy")
    assert pd.isna(toy["tmdb_id"])
    cafe = _item(data, 2)
    assert (cafe["title"], cafe["year"], cafe["genres"]) == ("Café au lait", 1993, ("comedy", "romance"))
    unknown = _item(data, 3)
    assert (unknown["title"], unknown["genres"]) == ("unknown", ("unknown",))
    assert pd.isna(unknown["year"])
    assert _item(data, 4)["title"] == "Shawshank Redemption, The"
    assert (_item(data, 5)["year"], _item(data, 5)["genres"]) == (
        1997,
        ("film-noir", "sci-fi"),
    )  # release date
    assert data.items.frame["imdb_id"].isna().all()  # IMDb search URLs are not ids
    assert data.skipped == {}


def test_ml100k_without_genre_file_uses_documented_names(ml100k_dir: Path) -> None:
    (ml100k_dir / "u.genre").unlink()
    data = load_movielens(ml100k_dir)
    assert _item(data, 5)["genres"] == ("film-noir", "sci-fi")


def test_ml1m_layout_values(ml1m_dir: Path) -> None:
    data = load_movielens(ml1m_dir)
    assert data.layout == "ml-1m"
    assert data.interactions.frame["rating"].tolist() == [5.0, 4.0, 3.0, 1.0, 2.0]
    assert data.interactions.frame["timestamp"].tolist()[:2] == [978300760, 978301760]
    star_wars = _item(data, 260)
    assert star_wars["title"] == "Star Wars: Episode IV - A New Hope"
    assert (star_wars["year"], star_wars["genres"]) == (1977, ("action", "adventure", "fantasy", "sci-fi"))
    assert _item(data, 3)["title"] == "Café Society"  # latin-1
    untitled = _item(data, 4)
    assert (untitled["title"], untitled["genres"]) == ("Untitled (no genres)", ())
    assert pd.isna(untitled["year"])


def test_ml10m_half_stars_and_tags(ml10m_dir: Path) -> None:
    data = load_movielens(ml10m_dir)
    assert data.layout == "ml-1m"
    assert data.interactions.frame["rating"].tolist() == [5.0, 4.5, 3.0, 0.5, 2.0]
    assert _item(data, 260)["tags"] == ("classic", "space")
    assert _item(data, 1)["tags"] == ()


def test_ml1m_whole_star_scale_rejects_half_stars(ml1m_dir: Path, replace_line) -> None:
    replace_line(ml1m_dir / "ratings.dat", 2, "1::260::4.5::978301760")
    with pytest.raises(DataError) as info:
        load_movielens(ml1m_dir)
    assert (info.value.path.name, info.value.line) == ("ratings.dat", 2)
    assert "rating 4.5 is not on this release's scale (1..5 in steps of 1)" in str(info.value)


def test_csv_layout_values(csv_dir: Path) -> None:
    data = load_movielens(csv_dir)
    assert data.layout == "csv"
    inter = data.interactions
    assert (len(inter), inter.n_users, inter.n_items, len(data.items)) == (7, 3, 5, 7)
    assert inter.frame["rating"].tolist() == [4.0, 0.5, 5.0, 3.5, 2.5, 4.0, 1.0]
    toy = _item(data, 1)
    assert toy["title"] == "Toy Story"
    assert toy["genres"] == ("adventure", "animation", "children", "comedy", "fantasy")
    assert toy["tags"] == ("pixar", "animation", "fun", "toys, friendship")  # by count, ties alphabetical
    assert (toy["imdb_id"], toy["tmdb_id"]) == ("tt0114709", 862)
    assert _item(data, 11)["title"] == "American President, The"
    lost = _item(data, 30)
    assert lost["title"] == "City of Lost Children, The (Cité des enfants perdus, La)"
    assert lost["tags"] == ("na",)  # the tag "NA" is a tag, not a missing value
    assert lost["imdb_id"] == "tt0112682" and pd.isna(lost["tmdb_id"])
    babylon = _item(data, 40697)
    assert babylon["title"] == "Babylon 5" and pd.isna(babylon["year"])
    assert _item(data, 27008)["title"] == "From Dusk Till Dawn 2: Texas Blood Money"
    death_note = _item(data, 171749)
    assert (death_note["year"], death_note["genres"], death_note["imdb_id"]) == (2006, (), "tt10872600")
    big_bang = _item(data, 80000)
    assert (big_bang["title"], big_bang["year"], big_bang["imdb_id"]) == ("Big Bang Theory, The", 2007, None)
    assert str(data.items.frame["year"].dtype) == "Int64"
    assert data.skipped == {}


def test_empty_tags_are_skipped_and_counted(csv_dir: Path) -> None:
    with (csv_dir / "tags.csv").open("a") as fh:
        fh.write('7,1,"  ",1445715001\n')
    data = load_movielens(csv_dir)
    assert data.skipped == {"tags.csv: empty tag (first at line 9)": 1}
    assert _item(data, 1)["tags"] == ("pixar", "animation", "fun", "toys, friendship")


def test_unknown_directory_lists_what_it_looked_for(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "u.data").write_text("1\t1\t1\t1\n")
    with pytest.raises(DataFormatError) as info:
        detect_layout(tmp_path)
    message = str(info.value)
    for name in ("u.data + u.item", "ratings.dat + movies.dat", "ratings.csv + movies.csv", "notes.txt"):
        assert name in message
    assert "ml-100k needs u.item" in message


def test_unknown_directory_hints_at_release_subdirectory(ml100k_dir: Path) -> None:
    with pytest.raises(DataFormatError, match="did you mean the subdirectory 'ml-100k'"):
        load_movielens(ml100k_dir.parent)


@pytest.mark.parametrize(
    ("file", "line", "text", "reason"),
    [
        ("ratings.csv", 4, "1,30,5.0", "expected 4 fields, found 3"),
        ("ratings.csv", 3, "1,11,0.5,964981247,7", "expected 4 fields, found 5"),
        ("ratings.csv", 5, "2,40697,good,1445714836", "rating: 'good' is not a number"),
        ("ratings.csv", 2, "x,1,4.0,964982703", "user_id: 'x' is not an integer"),
        (
            "ratings.csv",
            6,
            "3,1,5.5,1445714900",
            "rating 5.5 is not on this release's scale (0.5..5 in steps of 0.5)",
        ),
        ("ratings.csv", 6, "3,1,4.25,1445714900", "rating 4.25 is not on this release's scale"),
        ("ratings.csv", 7, "3,171749,,1445714901", "rating: '' is not a number"),
        ("ratings.csv", 7, "3,171749,nan,1445714901", "rating: 'nan' is not a number"),
        ("ratings.csv", 7, "3,171749,NA,1445714901", "rating: 'NA' is not a number"),
        ("ratings.csv", 6, "3,-1,4.0,1445714900", "negative item_id -1"),
        ("ratings.csv", 1, "userId,movieId,score,timestamp", "missing column(s) ['rating']"),
        ("ratings.csv", 8, "4,99,4.0,1445714902", "movie 99 is rated but is not in movies.csv"),
        ("movies.csv", 3, '1,"Toy Story again (1995)",Comedy', "movie id 1 appears twice (first at line 2)"),
        ("movies.csv", 4, "x30,Some Film (1995),Drama", "movie id 'x30' is not an integer"),
        ("movies.csv", 5, "40697,Babylon 5", "expected 3 fields, found 2"),
        ("tags.csv", 3, "3,99,pixar,1445714995", "movie 99 is not in movies.csv"),
        ("tags.csv", 4, "4,one,fun,1445714996", "userId, movieId and timestamp must be integers"),
        ("links.csv", 3, "11,ttabc,9087", "imdbId 'ttabc' is not an IMDb number"),
        ("links.csv", 7, "99,0112346,9087", "movie 99 is not in movies.csv"),
    ],
)
def test_csv_errors_name_file_and_line(
    csv_dir: Path, replace_line, file: str, line: int, text: str, reason: str
) -> None:
    replace_line(csv_dir / file, line, text)
    with pytest.raises(DataError) as info:
        load_movielens(csv_dir)
    assert info.value.path == csv_dir / file
    assert info.value.line == line
    assert str(info.value).startswith(f"{csv_dir / file}:{line}: ")
    assert reason in str(info.value)


def test_line_numbers_count_blank_lines(csv_dir: Path) -> None:
    path = csv_dir / "ratings.csv"
    lines = path.read_text().splitlines()
    lines[5] = "3,1,9.0,1445714900"  # data row 5, after a blank line it is file line 8
    path.write_text("\n".join([*lines[:2], "", "", *lines[2:]]) + "\n")
    with pytest.raises(DataError) as info:
        load_movielens(csv_dir)
    assert info.value.line == 8 and "rating 9.0" in str(info.value)


@pytest.mark.parametrize(
    ("file", "line", "text", "reason"),
    [
        ("u.data", 3, "1\t4\t4", "expected 4 fields, found 3"),
        ("u.data", 5, "2\t3\t6\t881250953", "rating 6.0 is not on this release's scale (1..5 in steps of 1)"),
        ("u.data", 2, "1\t2\t3.5\t881250950", "rating 3.5 is not on this release's scale"),
        ("u.data", 8, "3\t77\t5\t881250956", "movie 77 is rated but is not in u.item"),
        ("u.genre", 3, "Adventure", "expected 'genre|index'"),
    ],
)
def test_ml100k_errors_name_file_and_line(
    ml100k_dir: Path, replace_line, file: str, line: int, text: str, reason: str
) -> None:
    replace_line(ml100k_dir / file, line, text)
    with pytest.raises(DataError) as info:
        load_movielens(ml100k_dir)
    assert (info.value.path, info.value.line) == (ml100k_dir / file, line)
    assert reason in str(info.value)


def test_ml100k_item_with_wrong_field_count(ml100k_dir: Path) -> None:
    path = ml100k_dir / "u.item"
    lines = path.read_bytes().split(b"\n")
    lines[3] = b"4|Shawshank Redemption, The (1994)|01-Jan-1994|0|1"
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(DataError, match=r"u\.item:4: expected 24 fields, found 5"):
        load_movielens(ml100k_dir)


@pytest.mark.parametrize(
    ("file", "line", "text", "reason"),
    [
        ("ratings.dat", 3, "2::260::3", "expected 4 fields, found 3"),
        ("ratings.dat", 4, "2::3::1::97830x760", "timestamp: '97830x760' is not an integer"),
        ("movies.dat", 2, "260::Star Wars: Episode IV (1977)", "expected 3 '::'-separated fields, found 2"),
    ],
)
def test_dat_errors_name_file_and_line(
    ml1m_dir: Path, replace_line, file: str, line: int, text: str, reason: str
) -> None:
    replace_line(ml1m_dir / file, line, text)
    with pytest.raises(DataError) as info:
        load_movielens(ml1m_dir)
    assert (info.value.path, info.value.line) == (ml1m_dir / file, line)
    assert reason in str(info.value)


def test_lenient_mode_skips_and_counts(csv_dir: Path, replace_line) -> None:
    replace_line(csv_dir / "ratings.csv", 3, "1,11,zero,964981247")
    replace_line(csv_dir / "ratings.csv", 5, "2,40697,7.0,1445714836")
    replace_line(csv_dir / "ratings.csv", 6, "3,99,4.0,1445714900")
    replace_line(csv_dir / "movies.csv", 5, "40697,Babylon 5")
    data = load_movielens(csv_dir, strict=False)
    assert data.interactions.frame["item_id"].tolist() == [1, 30, 1, 171749]
    assert data.skipped == {
        "movies.csv: expected 3 fields, found 2 (first at line 5)": 1,
        "ratings.csv: rating: 'zero' is not a number (first at line 3)": 1,
        "ratings.csv: rating 7.0 is not on this release's scale (0.5..5 in steps of 0.5) "
        "(first at line 5)": 1,
        "ratings.csv: movie 99 is rated but is not in movies.csv (1 rating(s) of 1 such movie(s)) "
        "(first at line 6)": 1,
        "links.csv: movie 40697 is not in movies.csv (first at line 5)": 1,
    }
    assert 40697 not in set(data.items.frame["item_id"])


@pytest.mark.real_data
def test_shared_ml_latest_small_counts_and_speed(shared_data: Path) -> None:
    start = time.process_time()
    data = load_movielens(shared_data / "movielens" / "ml-latest-small")
    elapsed = time.process_time() - start
    assert data.layout == "csv"
    assert (data.interactions.n_users, data.interactions.n_items, len(data.interactions)) == (
        610,
        9724,
        100836,
    )
    assert len(data.items) == 9742
    matrix = _item(data, 2571)
    assert (matrix["title"], matrix["year"], matrix["imdb_id"]) == ("Matrix, The", 1999, "tt0133093")
    assert data.skipped == {}
    assert elapsed < 2.0, f"load_movielens took {elapsed:.2f}s of CPU"  # CPU time: robust to a busy machine
