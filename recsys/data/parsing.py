"""Shared parsing helpers of the dataset loaders: encodings, CSV records with their line numbers,
MovieLens titles, and the accounting of skipped rows.

Line numbers are 1-based lines of the file (a header is line 1). Blank lines carry no data and are
ignored everywhere.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from recsys.errors import DataError

log = logging.getLogger(__name__)

_TITLE_YEAR = re.compile(r"^(?P<title>.*?)\s*\(\s*(?P<year>\d{4})\s*(?:[-–]\s*(?:\d{4})?\s*)?\)\s*$")


def split_title_year(raw: str) -> tuple[str, int | None]:
    """Split a MovieLens title into (title, year): "Toy Story (1995)" -> ("Toy Story", 1995).

    Handles ranges ("Death Note (2006–2007)", "Big Bang Theory, The (2007-)" -> first year), trailing
    spaces, and titles without a year ("Babylon 5" -> ("Babylon 5", None)). Everything else in the title,
    e.g. "Matrix, The" or an alternative title in parentheses, is kept as released.
    """
    text = raw.strip()
    match = _TITLE_YEAR.match(text)
    if match is None or not match.group("title"):
        return text, None
    return match.group("title"), int(match.group("year"))


def detect_encoding(path: Path) -> str:
    """ "utf-8-sig" (UTF-8, a BOM dropped) when the whole file decodes as UTF-8, else "latin-1" (the old
    MovieLens releases)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 22):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8-sig"


def open_text(path: Path) -> io.TextIOWrapper:
    """Open a data file for reading text lines in its encoding (see `detect_encoding`)."""
    return path.open(encoding=detect_encoding(path), newline="")


def iter_lines(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """(1-based line number, line without its end) for every non-blank line."""
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield number, line.rstrip("\r\n")


def iter_csv_records(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """(1-based first line, fields) for every non-blank CSV record; quoted fields may span lines.

    A CSV syntax error raises DataError with the line but no path: callers add their file's path.
    """
    reader = csv.reader(lines, strict=True)
    previous_end = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DataError(f"malformed CSV: {exc}", line=reader.line_num) from exc
        start = previous_end + 1
        previous_end = reader.line_num
        if row and any(field.strip() for field in row):
            yield start, row


class SkipLog:
    """Rows a loader did not load, counted per (file, reason), with the first line of each reason."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], list[int]] = {}

    def add(self, path: Path, reason: str, line: int | None, count: int = 1) -> None:
        entry = self._entries.setdefault((path.name, reason), [0, line if line is not None else -1])
        entry[0] += count

    def as_dict(self) -> dict[str, int]:
        """{"ratings.csv: rating outside 0.5..5 (first at line 7)": 3, ...}."""
        out: dict[str, int] = {}
        for (name, reason), (count, first) in self._entries.items():
            where = f" (first at line {first})" if first >= 0 else ""
            out[f"{name}: {reason}{where}"] = count
        return out

    def log(self) -> None:
        for what, count in self.as_dict().items():
            log.warning("skipped %d row(s): %s", count, what)


def fail_or_skip(
    strict: bool, skips: SkipLog, path: Path, line: int | None, reason: str, count: int = 1
) -> None:
    """Strict mode: raise DataError(reason) at path:line. Lenient mode: record `count` skipped rows."""
    if strict:
        raise DataError(reason, path=path, line=line)
    skips.add(path, reason, line, count)


def parse_float(text: str) -> float:
    """A finite number; raises ValueError otherwise ("nan" and "inf" are not ratings)."""
    value = float(text)
    if not np.isfinite(value):
        raise ValueError(text)
    return value


def parse_int(text: str) -> int:
    """An integer field as pandas' C parser reads it: "12" or "12.0"; raises ValueError otherwise."""
    try:
        return int(text)
    except ValueError:
        value = float(text)
        if not value.is_integer():
            raise
        return int(value)


def read_csv_header(path: Path, required: tuple[str, ...]) -> list[str]:
    """The header fields of a MovieLens CSV file; raises DataError (line 1) when a column is missing."""
    with path.open("rb") as fh:
        raw = fh.readline()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    first = next(iter_csv_records([text]), None)
    if first is None or first[0] != 1:
        raise DataError(f"expected a header line with columns {list(required)}", path=path, line=1)
    header = [h.strip() for h in first[1]]
    missing = [c for c in required if c not in header]
    if missing:
        raise DataError(f"missing column(s) {missing}; the header has {header}", path=path, line=1)
    return header


def iter_csv_rows(
    path: Path, required: tuple[str, ...], strict: bool, skips: SkipLog
) -> Iterator[tuple[int, dict]]:
    """(line, {column: value}) for every data record of a CSV file with a header line.

    A record with the wrong number of fields raises DataError (strict) or is skipped and counted.
    """
    header = read_csv_header(path, required)
    with open_text(path) as fh:
        try:
            for number, fields in iter_csv_records(fh):
                if number == 1:
                    continue
                if len(fields) != len(header):
                    reason = f"expected {len(header)} fields, found {len(fields)}"
                    fail_or_skip(strict, skips, path, number, reason)
                    continue
                yield number, dict(zip(header, fields, strict=True))
        except DataError as exc:
            if exc.path is None:
                raise DataError(exc.reason, path=path, line=exc.line) from exc
            raise
