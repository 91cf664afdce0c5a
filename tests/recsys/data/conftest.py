"""Tiny MovieLens / ReDial releases written by the tests, one per official layout, with known contents."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

ML100K_GENRES = [
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
]  # fmt: skip


def _flags(*genres: str) -> str:
    return "|".join("1" if g in genres else "0" for g in ML100K_GENRES)


def write_ml100k(root: Path, *, with_genre_file: bool = True) -> Path:
    """5 movies (one latin-1 title, one without year or date, one dated only by its release date),
    3 users, 8 ratings."""
    root.mkdir(parents=True, exist_ok=True)
    items = [
        "1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)|"
        + _flags("Animation", "Children's", "Comedy"),
        f"2|Café au lait (1993)|01-Jan-1993||http://us.imdb.com/Title?Caf%E9|{_flags('Comedy', 'Romance')}",
        f"3|unknown||||{_flags('unknown')}",
        f"4|Shawshank Redemption, The (1994)|01-Jan-1994||http://us.imdb.com/x|{_flags('Drama')}",
        f"5|Some Short Film|15-Mar-1997||http://us.imdb.com/y|{_flags('Film-Noir', 'Sci-Fi')}",
    ]
    (root / "u.item").write_bytes(("\n".join(items) + "\n").encode("latin-1"))
    if with_genre_file:
        (root / "u.genre").write_text("".join(f"{g}|{i}\n" for i, g in enumerate(ML100K_GENRES)) + "\n")
    ratings = [(1, 1, 5), (1, 2, 3), (1, 4, 4), (2, 1, 4), (2, 3, 1), (2, 5, 2), (3, 1, 3), (3, 4, 5)]
    (root / "u.data").write_text(
        "".join(f"{u}\t{i}\t{r}\t{881250949 + k}\n" for k, (u, i, r) in enumerate(ratings))
    )
    (root / "u.user").write_text("1|24|M|technician|85711\n")  # present in the release, not used
    return root


def write_ml1m(root: Path, *, half_stars: bool = False, tags: bool = False) -> Path:
    """ml-1m layout (users.dat present, whole stars) or, with half_stars, ml-10m (no users.dat)."""
    root.mkdir(parents=True, exist_ok=True)
    movies = [
        "1::Toy Story (1995)::Animation|Children's|Comedy",
        "260::Star Wars: Episode IV - A New Hope (1977)::Action|Adventure|Fantasy|Sci-Fi",
        "3::Café Society (1995)::Drama",
        "4::Untitled (no genres)::(no genres listed)",
    ]
    (root / "movies.dat").write_bytes(("\n".join(movies) + "\n").encode("latin-1"))
    stars = ["5", "4.5", "3", "0.5", "2"] if half_stars else ["5", "4", "3", "1", "2"]
    ratings = [(1, 1), (1, 260), (2, 260), (2, 3), (3, 1)]
    lines = [f"{u}::{i}::{r}::97830{k}760" for k, ((u, i), r) in enumerate(zip(ratings, stars, strict=True))]
    (root / "ratings.dat").write_text("\n".join(lines) + "\n")
    if not half_stars:
        (root / "users.dat").write_text("1::F::1::10::48067\n")
    if tags:
        tag_lines = [
            "15::260::Classic::1138537770",
            "20::260::classic::1138537771",
            "20::260::space::1138537772",
        ]
        (root / "tags.dat").write_text("\n".join(tag_lines) + "\n")
    return root


MOVIES_CSV = """movieId,title,genres
1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy
11,"American President, The (1995)",Comedy|Drama|Romance
30,"City of Lost Children, The (Cité des enfants perdus, La) (1995)",Adventure|Drama|Fantasy|Mystery|Sci-Fi
40697,Babylon 5,Sci-Fi
27008,From Dusk Till Dawn 2: Texas Blood Money (1999) ,Comedy|Crime|Horror
171749,Death Note: Desu nôto (2006–2007),(no genres listed)
80000,"Big Bang Theory, The (2007-)",Comedy
"""
RATINGS_CSV = """userId,movieId,rating,timestamp
1,1,4.0,964982703
1,11,0.5,964981247
1,30,5.0,964982224
2,1,3.5,1445714835
2,40697,2.5,1445714836
3,1,4.0,1445714900
3,171749,1.0,1445714901
"""
TAGS_CSV = """userId,movieId,tag,timestamp
2,1,Pixar,1445714994
3,1,pixar,1445714995
4,1,fun,1445714996
4,1,"toys, friendship",1445714997
5,1, Pixar ,1445714998
5,30,NA,1445714999
6,1,animation,1445715000
"""
LINKS_CSV = """movieId,imdbId,tmdbId
1,0114709,862
11,0112346,9087
30,0112682,
40697,0105946,75
27008,0120860,12095
171749,10872600,419787
"""


def write_csv_release(root: Path) -> Path:
    """ml-latest-small layout: 7 movies (quoted titles with commas, UTF-8), 3 users, 7 ratings, tags,
    links."""
    root.mkdir(parents=True, exist_ok=True)
    for name, text in (
        ("movies.csv", MOVIES_CSV),
        ("ratings.csv", RATINGS_CSV),
        ("tags.csv", TAGS_CSV),
        ("links.csv", LINKS_CSV),
    ):
        (root / name).write_text(text, encoding="utf-8")
    return root


def _dialogue(conversation: object, seeker: int, recommender: int, messages: list, **extra: object) -> dict:
    return {
        "conversationId": conversation,
        "initiatorWorkerId": seeker,
        "respondentWorkerId": recommender,
        "messages": messages,
        "movieMentions": extra.get("movieMentions", {}),
        "initiatorQuestions": extra.get("initiatorQuestions", {}),
        "respondentQuestions": extra.get("respondentQuestions", {}),
    }


def _msg(mid: int, sender: int, text: str, offset: int) -> dict:
    return {"messageId": mid, "senderWorkerId": sender, "text": text, "timeOffset": offset}


REDIAL_DIALOGUES = [
    _dialogue(
        "391",
        2,
        1,
        [
            _msg(1040, 2, "Hi, did you see @196336 ?", 0),
            _msg(1041, 1, "Yes! I liked @196336 and @114851 a lot", 19),
            _msg(1042, 2, "Then try @204292.", 40),
        ],
        movieMentions={"196336": "Scarface  (1983)", "114851": "The Godfather ", "204292": None},
        initiatorQuestions={"196336": {"suggested": 0, "seen": 1, "liked": 1}},
        respondentQuestions={"204292": {"suggested": 1, "seen": 2, "liked": 2}},
    ),
    _dialogue(
        400,
        7,
        6,
        [_msg(1087, 6, "Hello", 0), _msg(1088, 7, "hi, no movies today", 5)],
        movieMentions=[],
        initiatorQuestions=[],
        respondentQuestions=[],
    ),
    _dialogue(
        16162,
        271,
        147,
        [_msg(10000000, 147, "What do you like?", 0), _msg(10000001, 271, "@111776 and email@ me", 1)],
        movieMentions={"111776": "Super Troopers (2001)"},
    ),
]


def write_redial(path: Path, dialogues: list[dict] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = REDIAL_DIALOGUES if dialogues is None else dialogues
    path.write_text("".join(json.dumps(d) + "\n" for d in rows), encoding="utf-8")
    return path


@pytest.fixture
def ml100k_dir(tmp_path: Path) -> Path:
    return write_ml100k(tmp_path / "ml-100k")


@pytest.fixture
def ml1m_dir(tmp_path: Path) -> Path:
    return write_ml1m(tmp_path / "ml-1m")


@pytest.fixture
def ml10m_dir(tmp_path: Path) -> Path:
    return write_ml1m(tmp_path / "ml-10M100K", half_stars=True, tags=True)


@pytest.fixture
def csv_dir(tmp_path: Path) -> Path:
    return write_csv_release(tmp_path / "ml-latest-small")


@pytest.fixture
def redial_rows() -> list[dict]:
    """A fresh copy of the three fixture dialogues as JSON objects."""
    return json.loads(json.dumps(REDIAL_DIALOGUES))


@pytest.fixture
def redial_file(tmp_path: Path) -> Path:
    return write_redial(tmp_path / "redial" / "train_data.jsonl")


@pytest.fixture
def replace_line() -> Callable[[Path, int, str], Path]:
    """Replace 1-based line `number` of a text file; other bytes (latin-1 or UTF-8) are kept as they are."""

    def replace(path: Path, number: int, text: str) -> Path:
        lines = path.read_text(encoding="utf-8", errors="surrogateescape").split("\n")
        lines[number - 1] = text
        path.write_text("\n".join(lines), encoding="utf-8", errors="surrogateescape")
        return path

    return replace
