"""`crs eval movielens` end to end on a tiny synthetic MovieLens release in the csv layout."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from typer.testing import CliRunner

from recsys.cli import app
from recsys.errors import ConfigError, DataFormatError
from recsys.eval.movielens_bench import BenchConfig, run_benchmark
from recsys.models import registry
from recsys.models.popularity import Popularity

GENRES = ["Action", "Comedy", "Drama", "Sci-Fi", "Horror", "Romance"]
REQUIRED = ("recall@10", "ndcg@10", "recall@20", "ndcg@20", "train_seconds", "recommend_p99_ms")
UNIT_INTERVAL = ("recall@10", "ndcg@10", "recall@20", "ndcg@20", "mrr@10", "coverage@10")


def write_movielens(path: Path, *, n_users: int = 45, n_items: int = 50, seed: int = 0) -> Path:
    """ratings.csv / movies.csv / tags.csv with two taste groups, so that CF has something to learn."""
    rng = np.random.default_rng(seed)
    path.mkdir(parents=True)
    movies = ["movieId,title,genres"]
    for i in range(1, n_items + 1):
        genres = "|".join(sorted({GENRES[i % 6], GENRES[(i * 7) % 6]}))
        movies.append(f'{i},"Movie {i}, The ({1970 + i % 40})",{genres}')
    (path / "movies.csv").write_text("\n".join(movies) + "\n")
    ratings = ["userId,movieId,rating,timestamp"]
    for u in range(1, n_users + 1):
        group = u % 2  # even users like even movies, odd users odd ones
        items = rng.choice(np.arange(1, n_items + 1), size=32, replace=False)
        for t, i in enumerate(items):
            liked = (i % 2) == group
            rating = (
                rng.choice([4.0, 4.5, 5.0]) if liked or rng.random() < 0.3 else rng.choice([1.0, 2.0, 2.5])
            )
            ratings.append(f"{u},{i},{rating},{1_000_000 + 1000 * u + t}")
    (path / "ratings.csv").write_text("\n".join(ratings) + "\n")
    tags = ["userId,movieId,tag,timestamp"] + [
        f"1,{i},{'dark' if i % 3 else 'funny'},5" for i in range(1, 20)
    ]
    (path / "tags.csv").write_text("\n".join(tags) + "\n")
    return path


def _run(args: list[str]) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(app, ["eval", "movielens", *args])
    return result.exit_code, result.output, result.exception


def test_quick_run_writes_json_markdown_and_png(tmp_path: Path) -> None:
    data = write_movielens(tmp_path / "ml")
    out = tmp_path / "out"
    models = "popularity,itemknn,ease,fusion"
    code, output, exc = _run(
        [
            *("--dataset-dir", str(data), "--output-json", str(out / "r.json"), "--models", models),
            *(
                "--output-md",
                str(out / "r.md"),
                "--output-png",
                str(out / "r.png"),
                "--quick",
                "--no-progress",
            ),
        ]
    )
    assert code == 0, (output, exc)
    report = json.loads((out / "r.json").read_text())
    assert list(report["models"]) == ["popularity", "itemknn", "ease", "fusion"]
    for name, row in report["models"].items():
        assert row["status"] == "ok", name
        for key in (
            *REQUIRED,
            "mrr@10",
            "coverage@10",
            "mean_popularity@10",
            "recommend_p50_ms",
            "recommend_cpu_p99_ms",
        ):
            assert isinstance(row[key], float), (name, key)
        for key in UNIT_INTERVAL:
            assert 0.0 <= row[key] <= 1.0, (name, key, row[key])
        assert row["train_seconds"] >= 0 and 0 < row["recommend_p50_ms"] <= row["recommend_p99_ms"]
        assert row["batch_users_per_s"] > 0
    # the two taste groups are learnable: item-based CF beats popularity
    assert report["models"]["itemknn"]["ndcg@10"] > report["models"]["popularity"]["ndcg@10"]
    fusion = report["models"]["fusion"]["fusion"]
    assert fusion["members"] == ["popularity", "itemknn", "ease"]
    assert fusion["tuning"]["chosen"]["score"] >= max(fusion["tuning"]["singles"].values())
    p = report["protocol"]
    assert (p["threshold"], p["core"], p["seed"], p["protocol"]) == (3.0, 10, 42, "random")
    assert p["n_train"] + p["n_valid"] + p["n_test"] == p["n_interactions"]
    assert p["n_users"] <= 45 and p["n_items"] <= 50
    assert report["environment"]["usable_cores"] >= 1 and report["environment"]["versions"]["numpy"]
    assert report["dataset"]["layout"] == "csv" and report["dataset"]["n_attributes"] > 6
    assert "| fusion |" in (out / "r.md").read_text()
    assert (out / "r.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_temporal_protocol_and_time_budget(tmp_path: Path) -> None:
    data = write_movielens(tmp_path / "ml", seed=1)
    out = tmp_path / "r.json"
    args = ["--dataset-dir", str(data), "--output-json", str(out), "--quick", "--no-progress"]
    code, output, exc = _run([*args, "--models", "popularity", "--protocol", "temporal"])
    assert code == 0, (output, exc)
    report = json.loads(out.read_text())
    assert report["protocol"]["split"] == "temporal leave-last-out"
    assert report["protocol"]["n_test"] == report["protocol"]["n_users"]  # one test item per user
    code, output, exc = _run([*args, "--models", "popularity,fusion", "--time-budget", "0.0001"])
    assert code == 0, (output, exc)
    models = json.loads(out.read_text())["models"]
    assert {n: r["status"] for n, r in models.items()} == {"popularity": "skipped", "fusion": "skipped"}


def test_a_failing_model_is_reported_and_the_exit_code_is_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(registry._CLASSES, "ppr", "no_such_module_xyz:Model")
    data = write_movielens(tmp_path / "ml")
    out = tmp_path / "r.json"
    code, _, _ = _run(
        ["--dataset-dir", str(data), "--output-json", str(out), "--models", "popularity,ppr", "--quick"]
    )
    assert code == 1
    models = json.loads(out.read_text())["models"]
    assert models["popularity"]["status"] == "ok"
    assert models["ppr"]["status"] == "failed" and "not available" in models["ppr"]["error"]


def test_bad_arguments_raise_clear_errors(tmp_path: Path) -> None:
    data = write_movielens(tmp_path / "ml")
    out = str(tmp_path / "r.json")
    _, _, exc = _run(["--dataset-dir", str(data), "--output-json", out, "--models", "popularity,svd"])
    assert isinstance(exc, ConfigError) and "svd" in str(exc)
    _, _, exc = _run(["--dataset-dir", str(data), "--output-json", out, "--protocol", "loo"])
    assert isinstance(exc, ConfigError) and "protocol" in str(exc)
    _, _, exc = _run(["--dataset-dir", str(tmp_path), "--output-json", out])
    assert isinstance(exc, DataFormatError)


class _RecordsValidation(Popularity):
    """A popularity model whose fit takes an early-stopping validation matrix, and records it."""

    seen_validation: ClassVar[list[bool]] = []

    def fit(self, data, *, show_progress: bool = False, validation=None):  # type: ignore[no-untyped-def]
        type(self).seen_validation.append(validation is not None)
        return super().fit(data, show_progress=show_progress)


def test_validation_goes_to_early_stopping_models_only_on_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = types.ModuleType("fake_bench_models")
    module.Model = _RecordsValidation  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_bench_models", module)
    monkeypatch.setitem(registry._CLASSES, "lightgcn", "fake_bench_models:Model")
    data = write_movielens(tmp_path / "ml")
    for flag in (False, True):
        config = BenchConfig(dataset_dir=data, models=("lightgcn",), quick=True, early_stop_on_valid=flag)
        report = run_benchmark(config)
        assert report["models"]["lightgcn"]["status"] == "ok"
        assert (report["protocol"]["early_stopping"] == "validation split") is flag
    assert _RecordsValidation.seen_validation == [False, True]
