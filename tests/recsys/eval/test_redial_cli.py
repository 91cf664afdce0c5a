"""`crs eval redial` end to end on tiny synthetic files: the JSON contract, sample counts, baselines."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from recsys.cli import app
from recsys.errors import ConfigError, DataError

N_MOVIES = 30
UNKNOWN = 99999
N_TEST = 6
METRICS = ("recall@1", "recall@10", "recall@50", "ndcg@10", "mrr@10")


def _movie(i: int) -> str:
    return f"Film Number {i} ({1980 + i})"


def _dialogue(conv: int, messages: list[tuple[bool, str]]) -> dict:
    return {
        "conversationId": conv,
        "movieMentions": {},
        "initiatorQuestions": {},
        "respondentQuestions": [],
        "initiatorWorkerId": 1,
        "respondentWorkerId": 2,
        "messages": [
            {"messageId": 100 * conv + i, "senderWorkerId": 1 if seeker else 2, "text": t, "timeOffset": i}
            for i, (seeker, t) in enumerate(messages)
        ],
    }


def write_files(root: Path, seed: int = 0) -> dict[str, Path]:
    """MovieLens (csv layout), the ReDial movie list and train/test dialogues with co-mention pairs
    (movie 2j goes with 2j+1). Each test dialogue has one new and one repeated target; one more test
    dialogue mentions a movie the catalog does not know."""
    rng = np.random.default_rng(seed)
    ml = root / "ml"
    ml.mkdir(parents=True)
    genres = ["Action", "Comedy", "Drama"]
    (ml / "movies.csv").write_text(
        "movieId,title,genres\n"
        + "".join(f'{i},"{_movie(i)}",{genres[i % 3]}\n' for i in range(1, N_MOVIES + 1))
    )
    ratings = ["userId,movieId,rating,timestamp"]
    for u in range(1, 21):
        for i in rng.choice(np.arange(1, N_MOVIES + 1), size=10, replace=False):
            ratings.append(f"{u},{i},{rng.choice([2.0, 4.0, 5.0])},{1000 + u}")
    (ml / "ratings.csv").write_text("\n".join(ratings) + "\n")
    redial = root / "redial"
    redial.mkdir()
    (redial / "movies_with_mentions.csv").write_text(
        "movieId,movieName,nbMentions\n"
        + "".join(f"{1000 + i},{_movie(i)},3\n" for i in range(1, N_MOVIES + 1))
        + "2001,Only On Redial (2016),1\n"
    )

    def pair(a: int) -> int:
        return a + 1 if a % 2 == 0 else a - 1

    train = []
    for conv in range(40):
        a = int(rng.integers(1, N_MOVIES + 1))
        c = int(rng.integers(1, N_MOVIES + 1))
        train.append(
            _dialogue(
                conv,
                [
                    (True, f"hi! I really liked @{1000 + a}"),
                    (False, f"then you will love @{1000 + pair(a)}"),
                    (True, f"@{1000 + pair(a)} was great, something else?"),
                    (False, f"maybe @{1000 + c} or @2001"),
                ],
            )
        )
    test = []
    for conv in range(N_TEST):
        a = 2 + 2 * conv
        test.append(
            _dialogue(
                500 + conv,
                [(True, f"I like @{1000 + a}"), (False, f"try @{1000 + pair(a)}, or see @{1000 + a} again")],
            )
        )
    test.append(_dialogue(600, [(True, "hello"), (False, f"have you seen @{UNKNOWN}?")]))
    for name, rows in (("train.jsonl", train), ("test.jsonl", test)):
        (redial / name).write_text("".join(json.dumps(d) + "\n" for d in rows))
    return {"ml": ml, "train": redial / "train.jsonl", "test": redial / "test.jsonl"}


def _run(args: list[str]):
    result = CliRunner().invoke(app, ["eval", "redial", *args])
    return result.exit_code, result.output, result.exception


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    root = tmp_path_factory.mktemp("redial")
    files = write_files(root)
    out = root / "out"
    code, output, exc = _run(
        [
            *("--train", str(files["train"]), "--test", str(files["test"])),
            *("--movielens-dir", str(files["ml"]), "--output-json", str(out / "r.json")),
            *("--output-md", str(out / "r.md"), "--models", "comention,mention_pop,itemknn,fusion"),
            *("--quick", "--seed", "3", "--no-progress"),
        ]
    )
    assert code == 0, f"{output}\n{exc!r}"
    assert "# ReDial benchmark" in (out / "r.md").read_text()
    return json.loads((out / "r.json").read_text()), out


def test_json_contract(report) -> None:
    r, _ = report
    for protocol in ("full", "dedup"):
        figures = r[protocol]
        assert set(METRICS) | {"samples"} <= set(figures)
        assert all(0.0 <= figures[m] <= 1.0 for m in METRICS)
        assert figures["recall@1"] <= figures["recall@10"] <= figures["recall@50"]
    assert r["dedup_no_exclusion"]["samples"] == r["dedup"]["samples"]
    assert {"popularity", "repeat"} <= set(r["baselines"])
    assert {"comention", "mention_pop", "itemknn", "fusion_no_boost"} <= set(r["ablations"])
    for block in (*r["baselines"].values(), *r["ablations"].values()):
        assert set(block) == {"full", "dedup"}
    assert {"samples", "full", "dedup", "n_ranked_items", "test_unknown_targets"} <= set(r["protocol"])
    assert r["fusion"]["members"] == ["comention", "mention_pop", "itemknn"]
    assert r["timing"]["total_seconds"] > 0


def test_sample_counts_and_unknown_target(report) -> None:
    r, _ = report
    assert r["full"]["samples"] == 2 * N_TEST + 1  # new + repeated per dialogue, plus the unknown one
    assert r["dedup"]["samples"] == N_TEST + 1
    assert r["protocol"]["test_unknown_targets"] == 1
    assert r["protocol"]["n_ranked_items"] == N_MOVIES + 1


def test_repeat_baseline_and_the_co_mention_signal(report) -> None:
    r, _ = report
    # the repeated movie is the only context movie: first in `repeat`; the new one never is
    assert r["baselines"]["repeat"]["full"]["recall@1"] == pytest.approx(N_TEST / (2 * N_TEST + 1))
    # the new target is the co-mention partner of the seeker's movie, seen in training
    assert r["ablations"]["comention"]["dedup"]["recall@10"] >= 0.5
    assert r["fusion"]["check"]["identical_full"] == r["fusion"]["check"]["samples_full"]


def test_bad_input_is_reported(tmp_path: Path) -> None:
    files = write_files(tmp_path / "data")
    code, _, exc = _run(
        [
            *("--train", str(tmp_path / "missing.jsonl"), "--test", str(files["test"])),
            *("--movielens-dir", str(files["ml"]), "--output-json", str(tmp_path / "r.json"), "--quick"),
            *("--movies", str(files["train"].with_name("movies_with_mentions.csv")), "--no-progress"),
        ]
    )
    assert code != 0 and isinstance(exc, DataError) and "missing.jsonl" in str(exc)
    code, _, exc = _run(
        [
            *("--train", str(files["train"]), "--test", str(files["test"])),
            *("--movielens-dir", str(files["ml"]), "--output-json", str(tmp_path / "r.json")),
            *("--models", "comention,nope", "--no-progress"),
        ]
    )
    assert code != 0 and isinstance(exc, ConfigError) and "nope" in str(exc)


def test_a_tight_time_budget_skips_the_refit(tmp_path: Path) -> None:
    files = write_files(tmp_path / "data", seed=1)
    code, output, exc = _run(
        [
            *("--train", str(files["train"]), "--test", str(files["test"])),
            *("--movielens-dir", str(files["ml"]), "--output-json", str(tmp_path / "r.json")),
            *("--models", "comention,mention_pop", "--quick", "--time-budget", "0.01", "--no-progress"),
        ]
    )
    assert code == 0, f"{output}\n{exc!r}"
    r = json.loads((tmp_path / "r.json").read_text())
    assert "time budget" in r["skipped"]["refit"]
    assert r["generators"]["final_fit"] == "no refit (see skipped)"
    assert r["full"]["samples"] == 2 * N_TEST + 1
    assert "Skipped: refit" in output
