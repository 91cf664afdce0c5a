"""ReDial loaders: dialogues with mention spans and speaker roles, the movie list, movie metadata, errors."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from recsys.data.redial import (
    iter_redial_dialogues,
    load_movie_metadata,
    load_redial_dialogues,
    load_redial_movies,
    mention_spans,
)
from recsys.data.types import MentionSpan, MovieAnswers, MovieMetadata, RedialMovie
from recsys.errors import DataError


def test_dialogues_are_parsed_exactly(redial_file: Path) -> None:
    first, second, third = load_redial_dialogues(redial_file)
    assert (first.conversation_id, first.seeker_id, first.recommender_id) == (391, 2, 1)
    assert [m.is_seeker for m in first.messages] == [True, False, True]
    assert [m.message_id for m in first.messages] == [1040, 1041, 1042]
    assert [m.time_offset for m in first.messages] == [0, 19, 40]
    reply = first.messages[1]
    assert reply.sender_id == 1
    assert reply.mentions == (MentionSpan(196336, 13, 20), MentionSpan(114851, 25, 32))
    for message in first.messages:
        for span in message.mentions:
            assert message.text[span.start : span.end] == f"@{span.movie_id}"
    assert first.movie_mentions == {196336: "Scarface  (1983)", 114851: "The Godfather ", 204292: ""}
    assert first.seeker_answers == {196336: MovieAnswers(suggested=0, seen=1, liked=1)}
    assert first.recommender_answers == {204292: MovieAnswers(suggested=1, seen=2, liked=2)}

    # movieMentions / questions written as [] when empty
    assert (second.movie_mentions, second.seeker_answers, second.recommender_answers) == ({}, {}, {})
    assert [m.is_seeker for m in second.messages] == [False, True]
    assert all(m.mentions == () for m in second.messages)

    # re-distributed dialogue: synthesized message ids and index offsets are valid
    assert [m.message_id for m in third.messages] == [10_000_000, 10_000_001]
    assert [m.time_offset for m in third.messages] == [0, 1]
    assert third.messages[1].mentions == (MentionSpan(111776, 0, 7),)  # "email@ me" is not a mention


def test_iter_streams_the_same_dialogues(redial_file: Path) -> None:
    assert list(iter_redial_dialogues(redial_file)) == load_redial_dialogues(redial_file)


def test_mention_spans_edge_cases() -> None:
    assert mention_spans("@1@22 x@333.") == (
        MentionSpan(1, 0, 2),
        MentionSpan(22, 2, 5),
        MentionSpan(333, 7, 11),
    )
    assert mention_spans("no @ here, @abc") == ()


_MSG = {"messageId": 1, "senderWorkerId": 7, "text": "a", "timeOffset": 0}


@pytest.mark.parametrize(
    ("line", "change", "reason"),
    [
        (2, '{"conversationId": 400, "messages": [', "invalid JSON"),
        (3, "[1, 2]", "expected a JSON object, got list"),
        (2, '{"conversationId": 1}', "missing key 'initiatorWorkerId'"),
        (2, {"messages": [{k: v for k, v in _MSG.items() if k != "text"}]},
         "messages[0]: missing key 'text'"),
        (2, {"messages": [_MSG | {"text": 5}]}, "messages[0].text: expected a string, got int"),
        (2, {"messages": [_MSG, _MSG | {"messageId": "x1"}]},
         "messages[1].messageId: expected an integer, got 'x1'"),
        (2, {"messages": [_MSG | {"senderWorkerId": 99}]}, "senderWorkerId 99 is neither the initiator"),
        (2, {"messages": "hello"}, "messages: expected a list, got str"),
        (2, {"movieMentions": ["Titanic"]}, "movieMentions: expected an object, got list"),
        (2, {"movieMentions": {"abc": "Titanic"}}, "movieMentions key: expected an integer"),
        (2, {"initiatorQuestions": {"5": {"suggested": 0, "seen": 1}}}, "missing key 'liked'"),
        (2, {"initiatorQuestions": {"5": {"suggested": 0, "seen": 1, "liked": 3}}},
         "answers must be 0, 1 or 2"),
        (1, {"initiatorWorkerId": True}, "initiatorWorkerId: expected an integer, got True"),
    ],
)  # fmt: skip
def test_dialogue_errors_name_file_and_line(
    tmp_path: Path, redial_rows: list[dict], line: int, change: str | dict, reason: str
) -> None:
    lines = [json.dumps(d) for d in redial_rows]
    lines[line - 1] = change if isinstance(change, str) else json.dumps(redial_rows[line - 1] | change)
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as info:
        load_redial_dialogues(path)
    assert (info.value.path, info.value.line) == (path, line)
    assert str(info.value).startswith(f"{path}:{line}: ")
    assert reason in str(info.value)


def test_blank_lines_are_ignored_but_counted(tmp_path: Path, redial_rows: list[dict]) -> None:
    path = tmp_path / "gaps.jsonl"
    path.write_text(json.dumps(redial_rows[0]) + "\n\n" + json.dumps(redial_rows[1]) + "\n\n{bad\n")
    with pytest.raises(DataError) as info:
        load_redial_dialogues(path)
    assert info.value.line == 5


def test_missing_or_directory_paths(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nope\.jsonl: no such file; expected a ReDial dialogue file"):
        load_redial_dialogues(tmp_path / "nope.jsonl")
    with pytest.raises(DataError, match=r"is a directory; expected movies_with_mentions\.csv"):
        load_redial_movies(tmp_path)
    with pytest.raises(DataError, match=r"no such file; expected movie_metadata\.json"):
        load_movie_metadata(tmp_path / "meta.json")


def test_redial_movies(tmp_path: Path) -> None:
    path = tmp_path / "movies_with_mentions.csv"
    path.write_text(
        "movieId,movieName,nbMentions\n75815,Angels in the Outfield  (1994),6\n"
        '79689,"Greystoke: The Legend of Tarzan, Lord of the Apes (1984)",1\n'
        "80001,Amélie (2001),0\n",
        encoding="utf-8",
    )
    assert load_redial_movies(path) == [
        RedialMovie(75815, "Angels in the Outfield  (1994)", 6),
        RedialMovie(79689, "Greystoke: The Legend of Tarzan, Lord of the Apes (1984)", 1),
        RedialMovie(80001, "Amélie (2001)", 0),
    ]


@pytest.mark.parametrize(
    ("body", "line", "reason"),
    [
        ("75815,Angels,six\n", 2, "nbMentions 'six' is not a non-negative integer"),
        ("75815,Angels,6\nabc,Other,1\n", 3, "movieId 'abc' is not an integer"),
        ("75815,Angels,6\n75815,Again,1\n", 3, "movie 75815 appears twice (first at line 2)"),
        ("75815,Angels\n", 2, "expected 3 fields, found 2"),
    ],
)
def test_redial_movies_errors(tmp_path: Path, body: str, line: int, reason: str) -> None:
    path = tmp_path / "movies_with_mentions.csv"
    path.write_text("movieId,movieName,nbMentions\n" + body)
    with pytest.raises(DataError) as info:
        load_redial_movies(path)
    assert (info.value.path, info.value.line) == (path, line)
    assert reason in str(info.value)


def test_movie_metadata_is_normalised(tmp_path: Path) -> None:
    path = tmp_path / "movie_metadata.json"
    entries = {
        "100026": {"name": "Pari (1995)", "genre": ["drama", "Romance"], "plot": "A book.",
                   "director": ["Dariush Mehrjui"], "writer": ["J.D. Salinger", "Dariush Mehrjui"],
                   "star": ["Niki Karimi"], "imdb_id": "tt0114092"},
        "200": {"name": "Sparse", "genre": None, "director": "Joel Coen, Ethan Coen", "star": "N/A",
                "plot": "N/A", "imdb_id": "N/A"},
        "300": {"name": "Digits", "imdb_id": "88763", "genre": "Comedy, Sci-Fi"},
    }  # fmt: skip
    path.write_text(json.dumps(entries, indent=2))
    meta = load_movie_metadata(path)
    assert meta[100026] == MovieMetadata(
        100026, "Pari (1995)", ("drama", "romance"), "A book.", ("Dariush Mehrjui",),
        ("J.D. Salinger", "Dariush Mehrjui"), ("Niki Karimi",), "tt0114092",
    )  # fmt: skip
    assert meta[200] == MovieMetadata(200, "Sparse", directors=("Joel Coen", "Ethan Coen"))
    assert meta[300] == MovieMetadata(300, "Digits", genres=("comedy", "sci-fi"), imdb_id="tt0088763")


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ('{\n  "1": {"name": "A"},\n  "2": {"name": "B", "director": {"x": 1}}\n}', 3,
         "movie '2': director: expected a list of strings"),
        ('{\n  "1": {"name": "A"},\n  "2": {"name": "B",}\n}', 3, "invalid JSON"),
        ('{\n  "1": {"name": "A", "imdb_id": "imdb-123"}\n}', 2, "is not an IMDb id"),
        ('{\n  "x1": {"name": "A"}\n}', 2, "movie id: expected an integer"),
        ('[{"name": "A"}]', 1, "expected a JSON object of movie id -> entry"),
    ],
)  # fmt: skip
def test_movie_metadata_errors(tmp_path: Path, text: str, line: int, reason: str) -> None:
    path = tmp_path / "movie_metadata.json"
    path.write_text(text)
    with pytest.raises(DataError) as info:
        load_movie_metadata(path)
    assert (info.value.path, info.value.line) == (path, line)
    assert reason in str(info.value)


@pytest.mark.real_data
def test_shared_redial_counts_and_speed(shared_data: Path) -> None:
    redial = shared_data / "redial"
    start = time.process_time()
    dialogues = load_redial_dialogues(redial / "train_data.jsonl")
    elapsed = time.process_time() - start
    assert len(dialogues) == 2270
    assert sum(len(d.messages) for d in dialogues) == 36236
    assert sum(len(m.mentions) for d in dialogues for m in d.messages) == 14539
    assert sum(any(m.message_id >= 10_000_000 for m in d.messages) for d in dialogues) == 869
    assert len(load_redial_movies(redial / "movies_with_mentions.csv")) == 6924
    metadata = load_movie_metadata(redial / "movie_metadata.json")
    assert len(metadata) == 6583
    assert all(m.imdb_id is None or m.imdb_id.startswith("tt") for m in metadata.values())
    assert elapsed < 2.0, f"loading train_data.jsonl took {elapsed:.2f}s of CPU"
