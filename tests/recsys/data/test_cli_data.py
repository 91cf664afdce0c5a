"""`crs data summary`: the JSON contract, the table, and errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recsys.cli import app
from recsys.errors import DataError, DataFormatError
from recsys.settings import get_settings

runner = CliRunner()


def _json(args: list[str]) -> dict:
    result = runner.invoke(app, ["data", "summary", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_movielens_summary_json(ml100k_dir: Path) -> None:
    summary = _json(["--movielens", str(ml100k_dir)])
    assert (summary["users"], summary["items"], summary["ratings"]) == (3, 5, 8)
    assert summary["layout"] == "ml-100k"
    assert summary["path"] == str(ml100k_dir)
    assert summary["n_movies_in_catalog_file"] == 5
    assert summary["n_movies_without_ratings"] == 0
    assert summary["rating_scale"] == {
        "min": 1.0,
        "max": 5.0,
        "values": [1.0, 2.0, 3.0, 4.0, 5.0],
        "mean": 3.375,
    }
    assert summary["year_range"] == {"min": 1993, "max": 1997, "n_movies_without_year": 1}
    assert summary["n_tags"] == 0 and summary["skipped"] == {}


def test_csv_summary_counts_tags_and_catalog(csv_dir: Path) -> None:
    summary = _json(["--movielens", str(csv_dir)])
    assert (summary["users"], summary["items"], summary["ratings"]) == (3, 5, 7)
    assert summary["n_movies_in_catalog_file"] == 7
    assert summary["n_movies_without_ratings"] == 2
    assert (summary["n_tags"], summary["n_item_tag_pairs"], summary["n_movies_with_tags"]) == (5, 5, 2)
    assert summary["n_movies_with_imdb_id"] == 6
    assert summary["rating_dates"] == {"first": "2000-07-30", "last": "2015-10-24"}


def test_redial_summary_json(redial_file: Path) -> None:
    summary = _json(["--redial", str(redial_file)])
    assert (summary["dialogues"], summary["messages"], summary["mentions"]) == (3, 7, 5)
    assert summary["distinct_movies_mentioned"] == 4
    assert (summary["seeker_messages"], summary["recommender_messages"]) == (4, 3)
    assert summary["dialogues_with_synthesized_message_ids"] == 1


def test_both_datasets_give_one_object_with_two_parts(ml100k_dir: Path, redial_file: Path) -> None:
    summary = _json(["--movielens", str(ml100k_dir), "--redial", str(redial_file)])
    assert set(summary) == {"movielens", "redial"}
    assert summary["movielens"]["ratings"] == 8 and summary["redial"]["mentions"] == 5


def test_without_options_the_configured_datasets_are_used(
    ml100k_dir: Path, redial_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRS_MOVIELENS_DIR", str(ml100k_dir))
    monkeypatch.setenv("CRS_REDIAL_DIR", str(redial_file.parent))
    get_settings.cache_clear()
    summary = _json([])
    assert summary["movielens"]["users"] == 3 and summary["redial"]["dialogues"] == 3


def test_table_output(ml100k_dir: Path, redial_file: Path) -> None:
    result = runner.invoke(
        app, ["data", "summary", "--movielens", str(ml100k_dir), "--redial", str(redial_file)]
    )
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in result.stdout.splitlines()
            if line.count("│") == 3}  # fmt: skip
    assert (rows["users"], rows["items"], rows["ratings"], rows["layout"]) == ("3", "5", "8", "ml-100k")
    assert (rows["dialogues"], rows["messages"], rows["mentions"]) == ("3", "7", "5")


def test_errors_propagate_as_data_errors(tmp_path: Path, ml100k_dir: Path, replace_line) -> None:
    result = runner.invoke(app, ["data", "summary", "--movielens", str(tmp_path / "nothing-here"), "--json"])
    assert result.exit_code != 0 and isinstance(result.exception, DataFormatError)
    replace_line(ml100k_dir / "u.data", 2, "1\t2\tthree\t881250950")
    result = runner.invoke(app, ["data", "summary", "--movielens", str(ml100k_dir), "--json"])
    assert isinstance(result.exception, DataError)
    assert str(result.exception).startswith(f"{ml100k_dir / 'u.data'}:2: rating: 'three' is not a number")


def test_lenient_summary_reports_skipped_rows(ml100k_dir: Path, replace_line) -> None:
    replace_line(ml100k_dir / "u.data", 2, "1\t2\tthree\t881250950")
    summary = _json(["--movielens", str(ml100k_dir), "--lenient"])
    assert summary["ratings"] == 7
    assert summary["skipped"] == {"u.data: rating: 'three' is not a number (first at line 2)": 1}


def test_console_script_prints_error_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"conversationId": 1}\n')
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from recsys.cli import main; main()",
            "data",
            "summary",
            "--redial",
            str(bad),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {bad}:1: dialogue: missing key 'initiatorWorkerId'"


def test_split_redial_writes_a_seeded_split_by_conversation(redial_file: Path, tmp_path: Path) -> None:
    args = ["data", "split-redial", str(redial_file), "--fraction", "0.34", "--seed", "3"]
    first = runner.invoke(app, [*args, "--to", str(tmp_path / "a")])
    again = runner.invoke(app, [*args, "--to", str(tmp_path / "b")])
    assert first.exit_code == 0 and again.exit_code == 0, first.output + again.output
    report = json.loads(first.stdout)
    assert report["dialogues"] == {"train.jsonl": 2, "test.jsonl": 1}  # 3 conversations, a third held out
    lines = redial_file.read_text(encoding="utf-8").splitlines()
    train = (tmp_path / "a" / "train.jsonl").read_text(encoding="utf-8").splitlines()
    test = (tmp_path / "a" / "test.jsonl").read_text(encoding="utf-8").splitlines()
    assert sorted(train + test) == sorted(lines)  # every line copied unchanged, none lost
    assert (tmp_path / "b" / "test.jsonl").read_text() == (tmp_path / "a" / "test.jsonl").read_text()


def test_split_redial_names_the_bad_line(redial_file: Path, tmp_path: Path) -> None:
    redial_file.write_text(redial_file.read_text(encoding="utf-8") + "{not json\n", encoding="utf-8")
    result = runner.invoke(app, ["data", "split-redial", str(redial_file), "--to", str(tmp_path / "out")])
    assert result.exit_code != 0 and isinstance(result.exception, DataError)
    assert f"{redial_file}:4: invalid JSON" in str(result.exception)  # the file and the line
    assert not (tmp_path / "out" / "train.jsonl").exists()  # nothing half-written
