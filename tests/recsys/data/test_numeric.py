"""Numeric tables: the chunked recovery after a failed fast read finds every bad line, in any chunk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recsys.data import numeric
from recsys.data.numeric import NumericTable, check_rows, read_numeric_table
from recsys.data.parsing import SkipLog
from recsys.errors import DataError

FIELDS = {"user_id": (0, "int"), "item_id": (1, "int"), "rating": (2, "float"), "timestamp": (3, "int")}


def _write(path: Path, lines: list[str], sep: str = "\t") -> NumericTable:
    path.write_text("\n".join(lines) + "\n")
    return NumericTable(path, sep, 4, FIELDS, header=lines[0].startswith("userId"))


def _good(i: int, sep: str = "\t") -> str:
    return sep.join([str(i), str(100 + i), f"{1 + i % 5}.0", str(1_000_000 + i)])


@pytest.fixture(params=[1, 3, 7, 100_000], ids=lambda n: f"chunk{n}")
def chunk_rows(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(numeric, "CHUNK_ROWS", request.param)
    return request.param


def _mixed_file(tmp_path: Path, sep: str) -> tuple[NumericTable, dict[int, str], dict[int, int]]:
    """20 good rows, blank lines, and bad lines; returns (table, line -> reason, good user -> line)."""
    lines: list[str] = ["userId,movieId,rating,timestamp"] if sep == "," else []
    bad = {
        4: ("1", "2", "x", "4"),  # non-numeric rating
        9: ("1", "2", "3"),  # too few fields
        15: ("1", "2", "3", "4", "5"),  # too many fields: a tokenizer error in pandas
        22: ("1", "2", "", "4"),  # empty rating
        26: ("99999999999999999999", "2", "3", "4"),  # does not fit in int64
    }
    reasons = {
        4: "rating: 'x' is not a number",
        9: "expected 4 fields, found 3",
        15: "expected 4 fields, found 5",
        22: "rating: '' is not a number",
        26: "user_id: '99999999999999999999' is not an integer",
    }
    good_lines: dict[int, int] = {}
    i = 0
    while len(lines) < 30:
        number = len(lines) + 1
        if number in bad:
            lines.append(sep.join(bad[number]))
        elif number % 6 == 0:
            lines.append("" if number % 12 else "   ")
        else:
            lines.append(_good(i, sep))
            good_lines[i] = number
            i += 1
    return _write(tmp_path / "ratings.txt", lines, sep), reasons, good_lines


@pytest.mark.parametrize("sep", ["\t", "::", ","])
def test_lenient_recovery_keeps_every_good_row_with_its_line(
    tmp_path: Path, chunk_rows: int, sep: str
) -> None:
    table, reasons, good_lines = _mixed_file(tmp_path, sep)
    skips = SkipLog()
    read = read_numeric_table(table, strict=False, skips=skips)
    users = read.frame["user_id"].tolist()
    assert users == sorted(good_lines)
    assert read.frame["item_id"].tolist() == [100 + u for u in users]
    assert read.frame.dtypes.astype(str).tolist() == ["int64", "int64", "float32", "int64"]
    assert [read.line_of(row) for row in range(len(users))] == [good_lines[u] for u in users]
    assert skips.as_dict() == {f"{table.path.name}: {r} (first at line {n})": 1 for n, r in reasons.items()}


@pytest.mark.parametrize("sep", ["\t", "::", ","])
def test_strict_recovery_raises_at_the_first_bad_line(tmp_path: Path, chunk_rows: int, sep: str) -> None:
    table, _, _ = _mixed_file(tmp_path, sep)
    with pytest.raises(DataError) as info:
        read_numeric_table(table, strict=True, skips=SkipLog())
    assert (info.value.path, info.value.line) == (table.path, 4)
    assert info.value.reason == "rating: 'x' is not a number"


def test_first_line_with_extra_fields(tmp_path: Path, chunk_rows: int) -> None:
    table = _write(tmp_path / "u.data", ["1\t2\t3\t4\t5", _good(1), _good(2)])
    with pytest.raises(DataError, match=r"u\.data:1: expected 4 fields, found 5"):
        read_numeric_table(table, strict=True, skips=SkipLog())


def test_line_of_after_drops_on_the_fast_path(tmp_path: Path) -> None:
    table = _write(tmp_path / "u.data", [_good(0), "", _good(1), _good(2), "", "", _good(3)])
    read = read_numeric_table(table, strict=False, skips=SkipLog())
    assert read.ordinals is None and [read.line_of(i) for i in range(4)] == [1, 3, 4, 7]
    skips = SkipLog()
    check_rows(read, np.array([False, True, False, False]), lambda i: "bad", strict=False, skips=skips)
    assert skips.as_dict() == {"u.data: bad (first at line 3)": 1}
    assert read.frame["user_id"].tolist() == [0, 2, 3]
    assert [read.line_of(i) for i in range(3)] == [1, 4, 7]


def test_file_without_data_lines(tmp_path: Path) -> None:
    table = _write(tmp_path / "ratings.csv", ["userId,movieId,rating,timestamp"], ",")
    with pytest.raises(DataError, match="no data lines"):
        read_numeric_table(table, strict=True, skips=SkipLog())
