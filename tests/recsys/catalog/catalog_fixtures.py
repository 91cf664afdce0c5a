"""Tiny synthetic MovieLens + ReDial data with known alignments, as objects and as files on disk.

REDIAL_CASES lists every ReDial movie with the MovieLens movie (and method) it must align to.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd

from recsys.data.types import (
    Dialogue,
    Interactions,
    ItemTable,
    MentionSpan,
    Message,
    MovieAnswers,
    MovieLensData,
    MovieMetadata,
    RedialMovie,
)

# MovieLens id, title as released (with year), genres, IMDb id
ML_MOVIES = [
    (1, "Matrix, The (1999)", "Action|Sci-Fi|Thriller", "tt0133093"),
    (2, "Toy Story (1995)", "Adventure|Animation|Children|Comedy", "tt0114709"),
    (3, "Toy Story 2 (1999)", "Adventure|Animation|Children|Comedy", "tt0120363"),
    (4, "Halloween (1978)", "Horror", "tt0077651"),
    (5, "Halloween (2007)", "Horror", "tt0373883"),
    (6, "Seven (a.k.a. Se7en) (1995)", "Mystery|Thriller", "tt0114369"),
    (7, "Shall We Dance? (Shall We Dansu?) (1996)", "Comedy|Drama|Romance", "tt0117615"),
    (8, "Misérables, Les (1995)", "Drama|War", "tt0113828"),
    (9, "Judgment Night (1993)", "Action|Crime|Drama", "tt0107286"),
    (10, "Death Race (2008)", "Action|Sci-Fi", "tt0452608"),
    (11, "Heat (1995)", "Action|Crime|Thriller", "tt0113277"),
    (12, "Poison Ivy II (1996)", "Drama|Thriller", "tt0114151"),
]

# ReDial id, name, nbMentions, expected MovieLens id (None = miss), expected method
REDIAL_CASES = [
    (101, "The Matrix  (1999)", 10, 1, "imdb"),
    (102, "Toy Story 2 (1999)", 5, 3, "exact"),
    (103, "Halloween  (2007)", 3, 5, "exact"),
    (104, "Se7en (1995)", 4, 6, "alt_title"),
    (105, "Les Misérables (1995)", 2, 8, "exact"),
    (106, "Judgement Night (1993)", 1, 9, "fuzzy"),
    (107, "Death Racers (2008)", 1, None, None),
    (108, "Heat  (1996)", 6, 11, "exact_year±1"),
    (109, "An Obscure Film (2015)", 2, None, None),
    (110, "The Matrix (1999)", 1, 1, "exact"),
    (111, "Shall We Dansu? (1996)", 1, 7, "alt_title"),
]

# Only some ReDial movies carry metadata; 108's IMDb id is wrong (it is Poison Ivy II's).
METADATA = {
    101: dict(
        name="The Matrix (1999)",
        genre=["action", "science fiction"],
        plot="A hacker learns the truth.",
        director=["Lana Wachowski", "Lilly Wachowski"],
        writer=["Lilly Wachowski", "Lana Wachowski"],
        star=["Keanu Reeves", "Laurence Fishburne"],
        imdb_id="tt0133093",
    ),
    102: dict(
        name="Toy Story 2 (1999)",
        genre=["animation", "family"],
        plot="Woody is stolen.",
        director=["John Lasseter"],
        writer=["John Lasseter"],
        star=["Tom Hanks", "Tim Allen"],
        imdb_id=None,
    ),
    108: dict(
        name="Heat (1996)",
        genre=["drama"],
        plot="Lily goes to art school.",
        director=["Anne Goursaud"],
        writer=["Chloe King"],
        star=["Alyssa Milano"],
        imdb_id="tt0114151",
    ),
    109: dict(
        name="An Obscure Film (2015)",
        genre=["drama", "sport"],
        plot="Nobody saw it.",
        director=["Jane Doe"],
        writer=["Jane Doe"],
        star=["Keanu Reeves"],
        imdb_id="tt9999999",
    ),
}


def ml_items_frame() -> pd.DataFrame:
    rows = []
    for ml_id, raw, genres, imdb in ML_MOVIES:
        title, year = raw.rsplit(" (", 1)
        rows.append((ml_id, title, int(year[:4]), tuple(g.lower() for g in genres.split("|")), (), imdb))
    frame = pd.DataFrame(rows, columns=["item_id", "title", "year", "genres", "tags", "imdb_id"])
    frame["year"] = frame["year"].astype("Int64")
    frame.loc[frame["item_id"] == 1, "tags"] = pd.Series([("cyberpunk", "philosophy")], index=[0])
    frame.loc[frame["item_id"] == 10, "tags"] = pd.Series([("cyberpunk",)], index=[9])
    return frame


# (user, MovieLens id, rating)
RATINGS = [
    (1, 1, 5.0), (1, 3, 4.0), (1, 4, 2.0),
    (2, 1, 3.5), (2, 2, 3.0), (2, 11, 4.5),
    (3, 4, 1.0),  # no positive: not a user of the train data
]  # fmt: skip


def movielens_data() -> MovieLensData:
    frame = pd.DataFrame(RATINGS, columns=["user_id", "item_id", "rating"])
    frame["timestamp"] = 0
    frame = frame.astype({"user_id": "int64", "item_id": "int64", "rating": "float32", "timestamp": "int64"})
    return MovieLensData("csv", Interactions(frame), ItemTable(ml_items_frame()))


def redial_movies() -> list[RedialMovie]:
    return [RedialMovie(rid, name, n) for rid, name, n, _, _ in REDIAL_CASES]


def metadata() -> dict[int, MovieMetadata]:
    return {
        rid: MovieMetadata(
            rid,
            m["name"],
            tuple(m["genre"]),
            m["plot"],
            tuple(m["director"]),
            tuple(m["writer"]),
            tuple(m["star"]),
            m["imdb_id"],
        )
        for rid, m in METADATA.items()
    }


def _message(i: int, text: str, seeker: bool, *ids: int) -> Message:
    spans, pos = [], 0
    for rid in ids:
        token = f"@{rid}"
        start = text.index(token, pos)
        spans.append(MentionSpan(rid, start, start + len(token)))
        pos = start + len(token)
    return Message(i, 1 if seeker else 2, text, i, tuple(spans), seeker)


def dialogues() -> list[Dialogue]:
    """Three dialogues. Seeker positives: d1 {101, 104, 109}, d2 {110, 102}, d3 none."""
    d1 = Dialogue(
        1,
        1,
        2,
        (
            _message(0, "I loved @101 and @109", True, 101, 109),
            _message(1, "Then try @104", False, 104),
            _message(2, "I did not like @103", True, 103),
        ),
        movie_mentions={101: "The Matrix", 109: "Obscure", 104: "Se7en", 103: "Halloween"},
        seeker_answers={
            101: MovieAnswers(0, 1, 1),
            104: MovieAnswers(1, 0, 1),
            103: MovieAnswers(0, 1, 0),
            109: MovieAnswers(0, 1, 2),
        },
    )
    d2 = Dialogue(
        2,
        3,
        4,
        (_message(0, "@110 is great", True, 110), _message(1, "So is @102 and @109", False, 102, 109)),
        movie_mentions={110: "The Matrix", 102: "Toy Story 2", 109: "Obscure"},
        recommender_answers={102: MovieAnswers(1, 1, 1), 109: MovieAnswers(1, 0, 2)},
    )
    d3 = Dialogue(3, 5, 6, (_message(0, "hello", True),))
    return [d1, d2, d3]


def write_csv_release(directory: Path, with_links: bool = True) -> Path:
    """ML_MOVIES + RATINGS as an ml-latest-small style directory."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "movies.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["movieId", "title", "genres"])
        w.writerows((ml_id, title, genres) for ml_id, title, genres, _ in ML_MOVIES)
    with open(directory / "ratings.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["userId", "movieId", "rating", "timestamp"])
        w.writerows((u, m, r, 1_000_000_000 + i) for i, (u, m, r) in enumerate(RATINGS))
    with open(directory / "tags.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["userId", "movieId", "tag", "timestamp"])
        w.writerows([(1, 1, "cyberpunk", 1), (2, 1, "philosophy", 2), (1, 10, "Cyberpunk", 3)])
    if with_links:
        with open(directory / "links.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["movieId", "imdbId", "tmdbId"])
            w.writerows((ml_id, imdb[2:], 100 + ml_id) for ml_id, _, _, imdb in ML_MOVIES)
    return directory


def write_ml100k_release(directory: Path) -> Path:
    """ML_MOVIES + RATINGS in the ml-100k layout (no IMDb ids)."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "u.item", "w", encoding="latin-1") as fh:
        for ml_id, title, _, _ in ML_MOVIES:
            flags = "|".join(["0"] * 19)
            fh.write(f"{ml_id}|{title}|01-Jan-1995||http://example.org|{flags}\n")
    with open(directory / "u.data", "w") as fh:
        for i, (u, m, r) in enumerate(RATINGS):
            fh.write(f"{u}\t{m}\t{int(r)}\t{880000000 + i}\n")
    return directory


def write_redial(directory: Path) -> Path:
    """movies_with_mentions.csv + movie_metadata.json + train_data.jsonl for the cases above."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "movies_with_mentions.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["movieId", "movieName", "nbMentions"])
        w.writerows((rid, name, n) for rid, name, n, _, _ in REDIAL_CASES)
    (directory / "movie_metadata.json").write_text(json.dumps({str(k): v for k, v in METADATA.items()}))
    lines = []
    for d in dialogues():
        lines.append(
            json.dumps(
                {
                    "conversationId": d.conversation_id,
                    "initiatorWorkerId": d.seeker_id,
                    "respondentWorkerId": d.recommender_id,
                    "movieMentions": {str(k): v for k, v in d.movie_mentions.items()},
                    "initiatorQuestions": {str(k): vars(a) for k, a in d.seeker_answers.items()},
                    "respondentQuestions": {str(k): vars(a) for k, a in d.recommender_answers.items()},
                    "messages": [
                        {
                            "messageId": m.message_id,
                            "senderWorkerId": d.seeker_id if m.is_seeker else d.recommender_id,
                            "text": m.text,
                            "timeOffset": m.time_offset,
                        }
                        for m in d.messages
                    ],
                }
            )
        )
    (directory / "train_data.jsonl").write_text("\n".join(lines) + "\n")
    return directory
