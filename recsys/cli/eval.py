"""`crs eval ...` commands. Each benchmark lives in its own function; heavy imports happen inside them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from recsys.errors import ConfigError

app = typer.Typer(no_args_is_help=True)

_DEFAULT_MODELS = "popularity,itemknn,ease,als,bpr,lightgcn,kg_gnn,ppr,fusion"


def _names(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    if not names:
        raise ConfigError(f"empty model list {value!r}")
    return names


@app.command("movielens")
def movielens(
    dataset_dir: Annotated[
        Path,
        typer.Option("--dataset-dir", help="A MovieLens release directory (ml-100k, ml-1m, csv layouts)."),
    ],
    output_json: Annotated[Path, typer.Option("--output-json", help="Where to write the JSON report.")],
    models: Annotated[
        str, typer.Option("--models", help="Comma-separated subset of: " + _DEFAULT_MODELS)
    ] = _DEFAULT_MODELS,
    protocol: Annotated[
        str, typer.Option("--protocol", help="random (80/10/10 per user) or temporal (leave-last-out).")
    ] = "random",
    seed: Annotated[int, typer.Option("--seed", help="Seed of the split and of every model.")] = 42,
    threshold: Annotated[float, typer.Option("--threshold", help="Ratings >= this are positives.")] = 3.0,
    core: Annotated[int, typer.Option("--core", help="k-core filter on users and items.")] = 10,
    output_md: Annotated[
        Path | None, typer.Option("--output-md", help="Also write a markdown summary.")
    ] = None,
    output_png: Annotated[Path | None, typer.Option("--output-png", help="Also write a PNG chart.")] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="Small training budgets (smoke runs, tests).")
    ] = False,
    time_budget: Annotated[
        float | None,
        typer.Option(
            "--time-budget", help="Seconds for the whole run; models not started by then are skipped."
        ),
    ] = None,
    fusion_members: Annotated[
        str | None,
        typer.Option("--fusion-members", help="Generators the fusion combines (default: all run)."),
    ] = None,
    early_stop_on_valid: Annotated[
        bool,
        typer.Option(
            "--early-stop-on-valid",
            help="Let early-stopping models (GNNs) use the validation split, as RecBole does; it also tunes "
            "the fusion, which then favours them. Default: they hold out part of the training data.",
        ),
    ] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Progress on stderr.")] = True,
) -> None:
    """Benchmark every generator and the fusion ranker on a MovieLens release (RecBole's protocol)."""
    from recsys.eval import report as reports
    from recsys.eval.movielens_bench import BenchConfig, run_benchmark

    if protocol not in ("random", "temporal"):
        raise ConfigError(f"--protocol must be 'random' or 'temporal', got {protocol!r}")
    if time_budget is not None and time_budget <= 0:
        raise ConfigError(f"--time-budget must be positive, got {time_budget}")
    config = BenchConfig(
        dataset_dir=dataset_dir,
        models=_names(models) or (),
        protocol=protocol,  # type: ignore[arg-type]
        seed=seed,
        threshold=threshold,
        core=core,
        quick=quick,
        time_budget=time_budget,
        fusion_members=_names(fusion_members),
        early_stop_on_valid=early_stop_on_valid,
    )
    result = run_benchmark(config, progress=progress)
    written = [reports.write_json(result, output_json)]
    if output_md is not None:
        written.append(reports.write_markdown(result, output_md))
    if output_png is not None:
        written.append(reports.write_png(result, output_png))
    typer.echo(reports.markdown(result))
    for path in written:
        typer.echo(f"wrote {path}", err=True)
    failed = [n for n, r in result["models"].items() if r.get("status") == "failed"]
    skipped = [n for n, r in result["models"].items() if r.get("status") == "skipped"]
    if skipped:
        typer.echo(f"warning: skipped (time budget): {', '.join(skipped)}", err=True)
    if failed:
        typer.echo(f"error: failed models: {', '.join(failed)} (see the report)", err=True)
        raise typer.Exit(code=1)


_REDIAL_GENERATORS = "comention,mention_pop,itemknn,als,bpr,ppr,kg_gnn"


@app.command("redial")
def redial(
    train: Annotated[Path, typer.Option("--train", help="ReDial training dialogues (.jsonl).")],
    test: Annotated[Path, typer.Option("--test", help="ReDial test dialogues (.jsonl, original format).")],
    movielens_dir: Annotated[
        Path, typer.Option("--movielens-dir", help="A MovieLens release directory (the catalog's base).")
    ],
    output_json: Annotated[Path, typer.Option("--output-json", help="Where to write the JSON report.")],
    movies: Annotated[
        Path | None,
        typer.Option("--movies", help="movies_with_mentions.csv (default: beside --train)."),
    ] = None,
    metadata: Annotated[
        Path | None,
        typer.Option("--metadata", help="movie_metadata.json (default: beside --train; optional)."),
    ] = None,
    models: Annotated[
        str,
        typer.Option(
            "--models",
            help="Comma-separated generators the fusion combines (the fusion is always evaluated), of: "
            + _REDIAL_GENERATORS
            + ",ease,lightgcn,popularity",
        ),
    ] = _REDIAL_GENERATORS,
    quick: Annotated[
        bool, typer.Option("--quick", help="Small training and tuning budgets (smoke runs, tests).")
    ] = False,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the validation split and the models.")] = 42,
    output_md: Annotated[
        Path | None, typer.Option("--output-md", help="Also write a markdown summary.")
    ] = None,
    time_budget: Annotated[
        float,
        typer.Option(
            "--time-budget",
            help="Seconds for the whole run; the refit on all training dialogues and the text ablation "
            "are skipped (and reported as skipped) when they would not fit.",
        ),
    ] = 840.0,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Progress on stderr.")] = True,
) -> None:
    """ReDial conversational recommendation: Recall@1/10/50, NDCG@10, MRR@10 on `full` and `dedup`."""
    from recsys.eval import redial_report
    from recsys.eval.redial_bench import RedialBenchConfig, run_redial_benchmark
    from recsys.eval.report import write_json

    generators = tuple(n for n in _names(models) or () if n != "fusion")
    config = RedialBenchConfig(
        train=train,
        test=test,
        movielens_dir=movielens_dir,
        movies=movies,
        metadata=metadata,
        generators=generators,
        quick=quick,
        seed=seed,
        text_ablation=not quick,
        time_budget_s=time_budget,
    )
    result = run_redial_benchmark(config, progress=progress)
    written = [write_json(result, output_json)]
    if output_md is not None:
        written.append(redial_report.write_markdown(result, output_md))
    typer.echo(redial_report.markdown(result))
    for path in written:
        typer.echo(f"wrote {path}", err=True)
    failed = sorted(
        {n for stage in result["generators"].values() if isinstance(stage, dict) for n, i in stage.items()
         if isinstance(i, dict) and i.get("status") == "failed"}
    )  # fmt: skip
    if failed:
        typer.echo(f"error: failed generators: {', '.join(failed)} (see the report)", err=True)
        raise typer.Exit(code=1)
