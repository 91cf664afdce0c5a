"""ReDial loaders: dialogues (jsonl), the movie list (movies_with_mentions.csv), movie_metadata.json.

Dialogue files are in the original ReDial format, one JSON object per line: conversationId, messages
(senderWorkerId, text, messageId, timeOffset), movieMentions (id -> name; `[]` when empty, a name may be
null -> ""), initiatorQuestions / respondentQuestions (id -> {suggested, seen, liked}; `[]` when empty),
initiatorWorkerId (the seeker), respondentWorkerId (the recommender). `@123` in a message text refers to
movie 123; each occurrence becomes a MentionSpan. Ids may be JSON numbers or strings of digits.
Re-distributed dialogues with synthesized messageIds (>= 10,000,000) and index timeOffsets are valid.

Every malformed line (invalid JSON, a missing key, a wrong type) raises DataError naming file and line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from recsys.data.parsing import SkipLog, iter_csv_rows, iter_lines, open_text
from recsys.data.types import Dialogue, MentionSpan, Message, MovieAnswers, MovieMetadata, RedialMovie
from recsys.errors import DataError

MENTION = re.compile(r"@(\d+)")
_DIGITS = re.compile(r"^\d+$")
_IMDB = re.compile(r"^(?:tt)?(\d+)$")


class _Bad(Exception):
    """A malformed value inside a record; the caller turns it into a DataError with file and line."""


def _int(value: Any, what: str) -> int:
    if type(value) is int:  # the common case first: bool is excluded on purpose
        return value
    if isinstance(value, str) and _DIGITS.match(value.strip()):
        return int(value)
    raise _Bad(f"{what}: expected an integer, got {value!r}")


def _get(obj: dict[str, Any], key: str, what: str) -> Any:
    if key not in obj:
        raise _Bad(f"{what}: missing key {key!r}")
    return obj[key]


def _mapping(value: Any, what: str) -> dict[str, Any]:
    """A JSON object, or an empty one for `[]`/null (ReDial writes [] for an empty dict)."""
    if isinstance(value, dict):
        return value
    if value is None or (isinstance(value, list) and not value):
        return {}
    raise _Bad(f"{what}: expected an object, got {type(value).__name__}")


def _require_file(path: Path, expected: str) -> None:
    if path.is_dir():
        raise DataError(f"is a directory; expected {expected}", path=path)
    if not path.is_file():
        raise DataError(f"no such file; expected {expected}", path=path)


def mention_spans(text: str) -> tuple[MentionSpan, ...]:
    """Every `@123` occurrence in a message text: text[span.start:span.end] == "@123"."""
    if "@" not in text:
        return ()
    return tuple(MentionSpan(int(m.group(1)), m.start(), m.end()) for m in MENTION.finditer(text))


def _answers(value: Any, what: str) -> dict[int, MovieAnswers]:
    out: dict[int, MovieAnswers] = {}
    for key, entry in _mapping(value, what).items():
        where = f"{what}[{key!r}]"
        if not isinstance(entry, dict):
            raise _Bad(f"{where}: expected an object, got {type(entry).__name__}")
        try:
            marks = (entry["suggested"], entry["seen"], entry["liked"])
        except KeyError as exc:
            raise _Bad(f"{where}: missing key {exc.args[0]!r}") from None
        if any(type(m) is not int or m not in (0, 1, 2) for m in marks):
            raise _Bad(f"{where}: answers must be 0, 1 or 2, got {list(marks)}")
        out[_int(key, f"{what} key")] = MovieAnswers(*marks)
    return out


def _message(raw: Any, index: int, seeker: int, recommender: int) -> Message:
    what = f"messages[{index}]"
    if not isinstance(raw, dict):
        raise _Bad(f"{what}: expected an object, got {type(raw).__name__}")
    try:
        text, sender, message_id, offset = (
            raw["text"],
            raw["senderWorkerId"],
            raw["messageId"],
            raw["timeOffset"],
        )
    except KeyError as exc:
        raise _Bad(f"{what}: missing key {exc.args[0]!r}") from None
    if not isinstance(text, str):
        raise _Bad(f"{what}.text: expected a string, got {type(text).__name__}")
    sender = _int(sender, f"{what}.senderWorkerId")
    if sender != seeker and sender != recommender:
        raise _Bad(f"{what}.senderWorkerId {sender} is neither the initiator ({seeker}) nor the respondent")
    return Message(
        message_id=_int(message_id, f"{what}.messageId"),
        sender_id=sender,
        text=text,
        time_offset=_int(offset, f"{what}.timeOffset"),
        mentions=mention_spans(text),
        is_seeker=sender == seeker,
    )


def parse_dialogue(obj: Any) -> Dialogue:
    """One ReDial dialogue from its decoded JSON object; raises _Bad naming the malformed value."""
    if not isinstance(obj, dict):
        raise _Bad(f"expected a JSON object, got {type(obj).__name__}")
    seeker = _int(_get(obj, "initiatorWorkerId", "dialogue"), "initiatorWorkerId")
    recommender = _int(_get(obj, "respondentWorkerId", "dialogue"), "respondentWorkerId")
    messages = _get(obj, "messages", "dialogue")
    if not isinstance(messages, list):
        raise _Bad(f"messages: expected a list, got {type(messages).__name__}")
    mentions: dict[int, str] = {}
    for key, name in _mapping(_get(obj, "movieMentions", "dialogue"), "movieMentions").items():
        if name is not None and not isinstance(name, str):
            raise _Bad(f"movieMentions[{key!r}]: expected a name, got {type(name).__name__}")
        mentions[_int(key, "movieMentions key")] = name or ""
    return Dialogue(
        conversation_id=_int(_get(obj, "conversationId", "dialogue"), "conversationId"),
        seeker_id=seeker,
        recommender_id=recommender,
        messages=tuple(_message(m, i, seeker, recommender) for i, m in enumerate(messages)),
        movie_mentions=mentions,
        seeker_answers=_answers(_get(obj, "initiatorQuestions", "dialogue"), "initiatorQuestions"),
        recommender_answers=_answers(_get(obj, "respondentQuestions", "dialogue"), "respondentQuestions"),
    )


def iter_redial_dialogues(path: Path | str) -> Iterator[Dialogue]:
    """Stream the dialogues of a ReDial jsonl file (blank lines are ignored)."""
    path = Path(path)
    _require_file(path, "a ReDial dialogue file such as train_data.jsonl")
    with open_text(path) as fh:
        for number, line in iter_lines(fh):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(
                    f"invalid JSON: {exc.msg} (column {exc.colno})", path=path, line=number
                ) from exc
            try:
                yield parse_dialogue(obj)
            except _Bad as exc:
                raise DataError(str(exc), path=path, line=number) from exc


def load_redial_dialogues(path: Path | str) -> list[Dialogue]:
    """All dialogues of a ReDial jsonl file, in file order."""
    return list(iter_redial_dialogues(path))


def load_redial_movies(path: Path | str) -> list[RedialMovie]:
    """movies_with_mentions.csv (movieId,movieName,nbMentions), in file order."""
    path = Path(path)
    _require_file(path, "movies_with_mentions.csv")
    movies: list[RedialMovie] = []
    first_line: dict[int, int] = {}
    for number, row in iter_csv_rows(path, ("movieId", "movieName", "nbMentions"), True, SkipLog()):
        movie, count = row["movieId"].strip(), row["nbMentions"].strip()
        if not _DIGITS.match(movie):
            raise DataError(f"movieId {movie!r} is not an integer", path=path, line=number)
        if not _DIGITS.match(count):
            raise DataError(f"nbMentions {count!r} is not a non-negative integer", path=path, line=number)
        if int(movie) in first_line:
            raise DataError(
                f"movie {movie} appears twice (first at line {first_line[int(movie)]})",
                path=path,
                line=number,
            )
        first_line[int(movie)] = number
        movies.append(RedialMovie(int(movie), row["movieName"], int(count)))
    return movies


def _names(value: Any, what: str) -> tuple[str, ...]:
    """A list of names: a list of strings, a comma-separated string, or missing/null -> ()."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Bad(f"{what}: expected a list of strings, got {value!r}")
    names = (v.strip() for v in value)
    return tuple(dict.fromkeys(n for n in names if n and n.upper() != "N/A"))


def _metadata(key: str, entry: Any) -> MovieMetadata:
    if not isinstance(entry, dict):
        raise _Bad(f"expected an object, got {type(entry).__name__}")
    name, plot, imdb = entry.get("name"), entry.get("plot"), entry.get("imdb_id")
    for field, value in (("name", name), ("plot", plot), ("imdb_id", imdb)):
        if value is not None and not isinstance(value, str):
            raise _Bad(f"{field}: expected a string, got {value!r}")
    imdb_id = None
    if imdb and imdb.strip().upper() != "N/A":
        match = _IMDB.match(imdb.strip())
        if match is None:
            raise _Bad(f"imdb_id {imdb!r} is not an IMDb id like 'tt0114709'")
        imdb_id = f"tt{int(match.group(1)):07d}"
    return MovieMetadata(
        movie_id=_int(key, "movie id"),
        name=(name or "").strip(),
        genres=tuple(dict.fromkeys(g.lower() for g in _names(entry.get("genre"), "genre"))),
        plot="" if plot is None or plot.strip().upper() == "N/A" else plot.strip(),
        directors=_names(entry.get("director"), "director"),
        writers=_names(entry.get("writer"), "writer"),
        stars=_names(entry.get("star"), "star"),
        imdb_id=imdb_id,
    )


def load_movie_metadata(path: Path | str) -> dict[int, MovieMetadata]:
    """movie_metadata.json ({id: {name, genre, plot, director, writer, star, imdb_id}}), normalised.

    Missing or null values become "" / () / None; a comma-separated string where a list is expected is
    split; genres are lower-cased; "N/A" counts as missing; imdb ids become "tt" + 7+ digits.
    """
    path = Path(path)
    _require_file(path, "movie_metadata.json")
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON: {exc.msg} (column {exc.colno})", path=path, line=exc.lineno) from exc
    if not isinstance(data, dict):
        raise DataError(
            f"expected a JSON object of movie id -> entry, got {type(data).__name__}", path=path, line=1
        )
    out: dict[int, MovieMetadata] = {}
    for key, entry in data.items():
        try:
            meta = _metadata(key, entry)
        except _Bad as exc:
            position = text.find(json.dumps(key))
            line = text.count("\n", 0, position) + 1 if position >= 0 else None
            raise DataError(f"movie {key!r}: {exc}", path=path, line=line) from exc
        out[meta.movie_id] = meta
    return out
