"""Fast, exact reading of large numeric tables (the ratings files of every MovieLens layout).

The fast path is one pandas C-parser read with explicit dtypes (ml-25m's 25M ratings in seconds, with a
byte progress bar for big files). When it fails, the file is read again in chunks of CHUNK_ROWS rows:
chunks pandas parses are kept, and only a failing chunk is parsed line by line, which names the exact
line and reason (strict mode raises there; lenient mode skips the line, records it and continues). So
finding a bad line deep in a big file costs about one more fast read, not a slow scan of everything.

Rows keep their ordinal among the file's non-blank data lines, so `ReadTable.line_of` maps any row back
to its file line, also after rows were dropped.
"""

from __future__ import annotations

import csv
import io
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
from tqdm import tqdm

from recsys.data.parsing import SkipLog, fail_or_skip, parse_float, parse_int
from recsys.errors import DataError

#: Files larger than this show a byte progress bar while they are parsed.
PROGRESS_MIN_BYTES = 64 * 1024 * 1024
#: Rows per chunk when a file that failed the fast path is read again.
CHUNK_ROWS = 100_000
_PARSE_ERRORS = (ValueError, OverflowError, pd.errors.ParserError)


@dataclass(frozen=True)
class NumericTable:
    """A delimited file of numbers: which fields to read and how."""

    path: Path
    sep: str  # "\t", "::" or ","
    n_fields: int  # fields every line must have
    fields: dict[str, tuple[int, str]]  # output column -> (field position, "int" | "float")
    header: bool = False  # the first line is a header (validated by the caller)

    @property
    def dtypes(self) -> dict[int, str]:
        return {pos: ("int64" if kind == "int" else "float32") for pos, kind in self.fields.values()}


@dataclass
class ReadTable:
    """A parsed NumericTable; `ordinals[i]` is row i's index among the non-blank data lines (None: i)."""

    frame: pd.DataFrame
    table: NumericTable
    ordinals: np.ndarray | None = None

    def line_of(self, row: int) -> int:
        """The 1-based file line of row `row` (0-based position in `frame`)."""
        target = int(self.ordinals[row]) if self.ordinals is not None else row
        seen = -1
        with self.table.path.open("rb") as fh:
            for number, raw in enumerate(fh, start=1):
                if (number == 1 and self.table.header) or not raw.strip():
                    continue
                seen += 1
                if seen == target:
                    return number
        raise IndexError(row)

    def drop(self, mask: np.ndarray) -> None:
        """Remove the rows where `mask` is True (lenient mode), keeping the row -> line mapping."""
        keep = ~mask
        ordinals = self.ordinals if self.ordinals is not None else np.arange(len(self.frame))
        self.frame = self.frame.loc[keep].reset_index(drop=True)
        self.ordinals = ordinals[keep]


def read_numeric_table(table: NumericTable, *, strict: bool, skips: SkipLog) -> ReadTable:
    """Read a numeric table; a line with the wrong number of fields or a non-number is an error.

    Strict mode raises DataError(path, line); lenient mode skips such lines and records them in `skips`.
    """
    try:
        return ReadTable(_fast_read(table), table)
    except pd.errors.EmptyDataError as exc:
        raise DataError("no data lines", path=table.path) from exc
    except _PARSE_ERRORS as exc:
        return _recover(table, strict=strict, skips=skips, fast_error=exc)


def _source(table: NumericTable) -> tuple[BinaryIO, str, int]:
    """(binary stream, one-character separator, size): the C parser takes one-character separators only,
    so "::" files are read from a copy in memory where "::" became a tab."""
    if len(table.sep) == 1:
        return table.path.open("rb"), table.sep, table.path.stat().st_size
    data = table.path.read_bytes().replace(table.sep.encode(), b"\t")
    return io.BytesIO(data), "\t", len(data)


def _read_csv(stream: BinaryIO | io.IOBase, table: NumericTable, sep: str, **kwargs: object) -> pd.DataFrame:
    return pd.read_csv(
        stream,
        sep=sep,
        header=None,
        index_col=False,
        dtype=table.dtypes,
        engine="c",
        skip_blank_lines=True,
        na_filter=False,  # an empty or "NA" field is an error, reported by the line parser
        encoding="utf-8",  # numbers are ASCII; bytes go to the C parser directly
        **kwargs,
    )


def _columns(frame: pd.DataFrame, table: NumericTable) -> pd.DataFrame:
    if frame.shape[1] != table.n_fields:
        raise ValueError(f"expected {table.n_fields} fields, found {frame.shape[1]}")
    positions = [pos for pos, _ in table.fields.values()]
    if positions != list(range(table.n_fields)):
        frame = frame[positions]  # a copy, only when the file has columns we do not use
    frame.columns = list(table.fields)
    return frame


def _fast_read(table: NumericTable) -> pd.DataFrame:
    stream, sep, size = _source(table)
    with (
        stream,
        tqdm.wrapattr(
            stream, "read", total=size, desc=f"reading {table.path.name}", disable=size < PROGRESS_MIN_BYTES
        ) as wrapped,
    ):
        return _columns(_read_csv(wrapped, table, sep, skiprows=1 if table.header else 0), table)


def _recover(table: NumericTable, *, strict: bool, skips: SkipLog, fast_error: Exception) -> ReadTable:
    """Chunked re-read after the fast path failed: good chunks via pandas, bad chunks line by line."""
    stream, sep, size = _source(table)
    frames: list[pd.DataFrame] = []
    ordinals: list[np.ndarray] = []
    ordinal, line, n_bad = 0, 1, 0
    desc = f"re-reading {table.path.name}"
    with (
        stream,
        tqdm(total=size, unit="B", unit_scale=True, desc=desc, disable=size < PROGRESS_MIN_BYTES) as bar,
    ):
        if table.header:
            stream.readline()
            line = 2
        while True:
            offset, done = stream.tell(), 0
            try:
                for chunk in _read_csv(stream, table, sep, chunksize=CHUNK_ROWS):
                    frames.append(_columns(chunk, table))
                    ordinals.append(np.arange(ordinal + done, ordinal + done + len(chunk)))
                    done += len(chunk)
                    bar.update(min(stream.tell(), size) - bar.n)
                break
            except pd.errors.EmptyDataError:
                break
            except _PARSE_ERRORS:
                pass
            stream.seek(offset)
            line = _skip_rows(stream, done, line)
            ordinal += done
            scanned = _scan(stream, table, sep, line, ordinal, strict=strict, skips=skips)
            frames.append(scanned.frame)
            ordinals.append(scanned.ordinals)
            ordinal, line, n_bad = ordinal + scanned.rows, scanned.next_line, n_bad + scanned.bad
            if scanned.rows < CHUNK_ROWS:  # end of file
                break
    if n_bad == 0:
        raise DataError(f"cannot parse: {fast_error}", path=table.path) from fast_error
    frame = pd.concat(frames, ignore_index=True) if frames else _columns(pd.DataFrame(), table)
    return ReadTable(frame.astype(dict(zip(table.fields, table.dtypes.values(), strict=True))), table,
                     np.concatenate(ordinals) if ordinals else np.zeros(0, dtype=np.int64))  # fmt: skip


def _skip_rows(stream: BinaryIO, rows: int, line: int) -> int:
    """Advance past `rows` non-blank lines; returns the line number reached."""
    while rows > 0:
        raw = stream.readline()
        if not raw:
            break
        line += 1
        rows -= bool(raw.strip())
    return line


@dataclass
class _Scanned:
    frame: pd.DataFrame
    ordinals: np.ndarray
    rows: int  # non-blank lines consumed, good or bad
    bad: int
    next_line: int


def _scan(
    stream: BinaryIO, table: NumericTable, sep: str, line: int, ordinal: int, *, strict: bool, skips: SkipLog
) -> _Scanned:
    """Parse up to CHUNK_ROWS non-blank lines one by one, exact about where and why a line is bad."""
    columns = {name: array("q" if kind == "int" else "f") for name, (_, kind) in table.fields.items()}
    convert: dict[str, Callable[[str], float | int]] = {
        name: (_int64 if kind == "int" else parse_float) for name, (_, kind) in table.fields.items()
    }
    kept, rows, bad = array("q"), 0, 0
    while rows < CHUNK_ROWS:
        raw = stream.readline()
        if not raw:
            break
        number, line = line, line + 1
        if not raw.strip():
            continue
        rows += 1
        text = _decode(raw).rstrip("\r\n")
        fields = next(csv.reader([text])) if sep == "," else text.split(sep)
        reason = _check(fields, table, convert, columns)
        if reason is None:
            kept.append(ordinal + rows - 1)
            continue
        bad += 1
        fail_or_skip(strict, skips, table.path, number, reason)
    frame = pd.DataFrame({name: np.asarray(values) for name, values in columns.items()})
    return _Scanned(frame, np.asarray(kept, dtype=np.int64), rows, bad, line)


def _check(
    fields: list[str],
    table: NumericTable,
    convert: dict[str, Callable[[str], float | int]],
    columns: dict[str, array],
) -> str | None:
    """Append a good line's values to `columns` and return None, or return why the line is bad."""
    if len(fields) != table.n_fields:
        return f"expected {table.n_fields} fields, found {len(fields)}"
    values = []
    for name, (pos, kind) in table.fields.items():
        try:
            values.append(convert[name](fields[pos].strip()))
        except (ValueError, OverflowError):
            return f"{name}: {fields[pos]!r} is not {'an integer' if kind == 'int' else 'a number'}"
    for name, value in zip(columns, values, strict=True):
        columns[name].append(value)
    return None


def _int64(text: str) -> int:
    value = parse_int(text)
    if not -(2**63) <= value < 2**63:
        raise OverflowError(text)
    return value


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def check_rows(
    read: ReadTable, mask: np.ndarray, reason: Callable[[int], str], *, strict: bool, skips: SkipLog
) -> None:
    """Rows where `mask` is True are bad: raise at the first (strict) or drop and record them."""
    if not mask.any():
        return
    first = int(np.flatnonzero(mask)[0])
    fail_or_skip(strict, skips, read.table.path, read.line_of(first), reason(first), int(mask.sum()))
    read.drop(mask)
