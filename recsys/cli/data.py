"""`crs data ...` commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(no_args_is_help=True)


# --------------------------------------------------------------------------------------------------
# crs data summary
# --------------------------------------------------------------------------------------------------


def _print_table(title: str, summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        if isinstance(value, dict):
            text = ", ".join(f"{k}={v}" for k, v in value.items()) if value else "-"
        elif isinstance(value, int) and not isinstance(value, bool):
            text = f"{value:,}"
        else:
            text = str(value)
        table.add_row(key, text)
    Console().print(table)


@app.command("summary")
def summary_command(
    movielens: Annotated[
        Path | None, typer.Option("--movielens", help="A MovieLens release directory (any official layout).")
    ] = None,
    redial: Annotated[Path | None, typer.Option("--redial", help="A ReDial dialogue file (.jsonl).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")] = False,
    lenient: Annotated[
        bool, typer.Option("--lenient", help="Skip malformed MovieLens rows (counted in 'skipped').")
    ] = False,
) -> None:
    """Counts of a MovieLens release and/or a ReDial dialogue file, as loaded (before any filtering).

    MovieLens: users, items (distinct rated items), ratings, layout, catalog size, tags, rating scale,
    years. ReDial: dialogues, messages, mentions (`@id` occurrences), distinct movies, seeker/recommender
    messages. With neither option, both configured datasets are summarised (CRS_MOVIELENS_DIR or
    <data_dir>/movielens/ml-latest-small, and <redial_dir>/train_data.jsonl). With one dataset the JSON
    object is that dataset's summary; with both it is {"movielens": {...}, "redial": {...}}.
    """
    from recsys.data.movielens import load_movielens
    from recsys.data.redial import iter_redial_dialogues
    from recsys.data.summary import summarize_movielens, summarize_redial
    from recsys.settings import get_settings

    if movielens is None and redial is None:
        settings = get_settings()
        movielens, redial = settings.movielens_path, settings.redial_path / "train_data.jsonl"
    summaries: dict[str, dict[str, Any]] = {}
    if movielens is not None:
        summaries["movielens"] = {
            "path": str(movielens),
            **summarize_movielens(load_movielens(movielens, strict=not lenient)),
        }
    if redial is not None:
        summaries["redial"] = {"path": str(redial), **summarize_redial(iter_redial_dialogues(redial))}
    if as_json:
        payload = next(iter(summaries.values())) if len(summaries) == 1 else summaries
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    titles = {"movielens": "MovieLens", "redial": "ReDial"}
    for key, summary in summaries.items():
        _print_table(f"{titles[key]}: {summary['path']}", {k: v for k, v in summary.items() if k != "path"})


# --------------------------------------------------------------------------------------------------
# crs data download
# --------------------------------------------------------------------------------------------------


@app.command("download")
def download_command(
    name: Annotated[
        str,
        typer.Argument(
            help="ml-latest-small, ml-latest, ml-100k, ml-1m, ml-10m, ml-20m, ml-25m, ml-32m, redial."
        ),
    ],
    to: Annotated[
        Path | None,
        typer.Option(
            "--to",
            help="Directory that receives the archive and <to>/<name>/. "
            "Default: <data_dir>/movielens for MovieLens, <data_dir> for ReDial.",
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            envvar="CRS_DOWNLOAD_BASE_URL",
            help="Fetch <base-url>/<archive> instead (a mirror).",
        ),
    ] = None,
    checksum: Annotated[
        str | None, typer.Option("--checksum", help="Expected checksum: md5:<hex> or sha256:<hex>.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Download again even if the archive is there.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars.")] = False,
) -> None:
    """Download an official dataset archive, verify its checksum and unpack it into <to>/<name>/."""
    from recsys.data.download import DATASETS, download_dataset
    from recsys.errors import ConfigError
    from recsys.settings import get_settings

    if name not in DATASETS:
        raise ConfigError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    if to is None:
        data_dir = get_settings().data_dir
        to = data_dir / "movielens" if DATASETS[name].kind == "movielens" else data_dir
    result = download_dataset(name, to, base_url=base_url, checksum=checksum, force=force, progress=not quiet)
    verb = "downloaded" if result.downloaded else "already present, not downloaded again"
    typer.echo(f"{result.archive}: {verb}" + (f" ({result.checksum} verified)" if result.checksum else ""))
    typer.echo(f"{result.directory}: {'unpacked' if result.unpacked else 'up to date'}")
    variable = "CRS_MOVIELENS_DIR" if DATASETS[name].kind == "movielens" else "CRS_REDIAL_DIR"
    typer.echo(f"use it with: {variable}={result.directory}")


# --------------------------------------------------------------------------------------------------
# crs data align
# --------------------------------------------------------------------------------------------------


@app.command("align")
def align_command(
    movielens: Annotated[
        Path | None,
        typer.Option("--movielens", help="A MovieLens release directory (any layout). Default: settings."),
    ] = None,
    redial_movies: Annotated[
        Path | None,
        typer.Option("--redial-movies", help="ReDial movies_with_mentions.csv. Default: <redial_dir>/."),
    ] = None,
    metadata: Annotated[
        Path | None,
        typer.Option(
            "--metadata", help="ReDial movie_metadata.json (IMDb ids). Default: beside the movies file."
        ),
    ] = None,
    no_metadata: Annotated[bool, typer.Option("--no-metadata", help="Match by title and year only.")] = False,
    misses: Annotated[int, typer.Option("--misses", min=0, help="How many misses to list.")] = 20,
    fuzzy_threshold: Annotated[
        float, typer.Option("--fuzzy-threshold", min=0, max=100, help="Token-sort ratio a fuzzy match needs.")
    ] = 90.0,
    output: Annotated[
        Path | None, typer.Option("--output", help="Also write every alignment and miss to this JSON file.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")] = False,
) -> None:
    """Align the ReDial movies to a MovieLens release and report the coverage.

    Evidence in order: IMDb id, exact title + year, year ±1, alternate title, fuzzy title. Prints
    redial_movies, aligned_movies, mention_coverage (share of nbMentions whose movie aligned), counts by
    method and the most mentioned misses with their reason.
    """
    from recsys.catalog.align import AlignConfig
    from recsys.catalog.io import report_to_dict
    from recsys.catalog.pipeline import align_files
    from recsys.settings import get_settings

    settings = get_settings()
    movielens = movielens or settings.movielens_path
    redial_movies = redial_movies or settings.redial_path / "movies_with_mentions.csv"
    if metadata is None and not no_metadata:
        beside = redial_movies.with_name("movie_metadata.json")
        metadata = beside if beside.is_file() else None
    report = align_files(
        movielens,
        redial_movies,
        None if no_metadata else metadata,
        config=AlignConfig(fuzzy_threshold=fuzzy_threshold),
        progress=not as_json,
    )
    summary: dict[str, Any] = {"movielens": str(movielens), "redial_movies_file": str(redial_movies)}
    summary.update(report.to_dict(misses))
    summary["metadata"] = str(metadata) if metadata is not None and not no_metadata else None
    if output is not None:
        output.write_text(json.dumps(report_to_dict(report), indent=1, ensure_ascii=False), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(summary, indent=2, ensure_ascii=False))
        return
    shown = {k: v for k, v in summary.items() if k != "misses"}
    _print_table("ReDial -> MovieLens alignment", shown)
    _print_misses(summary["misses"])


def _print_misses(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    if not rows:
        return
    table = Table(title="Most mentioned unaligned ReDial movies", show_header=True, header_style="bold")
    for column in ("redial id", "name", "mentions", "best candidate", "score", "reason"):
        table.add_column(column, overflow="fold")
    for m in rows:
        score = "" if m["best_score"] is None else f"{m['best_score']:g}"
        candidate = m["best_candidate"] or ""
        table.add_row(str(m["redial_id"]), m["name"], str(m["n_mentions"]), candidate, score, m["reason"])
    Console().print(table)


# --------------------------------------------------------------------------------------------------
# crs data prepare
# --------------------------------------------------------------------------------------------------


@app.command("prepare")
def prepare_command(
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if nothing changed.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object, not a table.")] = False,
) -> None:
    """Build (or load, when nothing changed) the movie catalog and the dialogue's training data.

    Reads the datasets named by the settings (CRS_DATA_DIR, CRS_MOVIELENS_DIR, CRS_REDIAL_DIR) and keeps
    the results in CRS_ARTIFACTS_DIR; prints a summary of the catalog and the training data.
    """
    from recsys.catalog.pipeline import prepare_dialogue_data, prepare_summary

    prepared = prepare_dialogue_data(force=force, progress=not as_json)
    summary = prepare_summary(prepared)
    if as_json:
        typer.echo(json.dumps(summary, indent=2, ensure_ascii=False))
        return
    state = "rebuilt" if any(prepared.built.values()) else "loaded from artifacts (inputs unchanged)"
    _print_table(f"Catalog and training data: {state}", summary)


# --------------------------------------------------------------------------------------------------
# crs data split-redial
# --------------------------------------------------------------------------------------------------


@app.command("split-redial")
def split_redial_command(
    dialogues: Annotated[Path, typer.Argument(help="A ReDial-format jsonl file (e.g. train_data.jsonl).")],
    out_dir: Annotated[Path, typer.Option("--to", help="Directory for train.jsonl and test.jsonl.")],
    fraction: Annotated[
        float, typer.Option(min=0.01, max=0.99, help="Share of conversations held out for test.jsonl.")
    ] = 0.2,
    seed: Annotated[int, typer.Option(help="Seed of the split (same seed, same files).")] = 0,
) -> None:
    """Split a ReDial file by conversation into train.jsonl / test.jsonl (lines copied unchanged).

    The held-out split of the README's ReDial benchmark is `crs data split-redial
    ../shared/data/redial/train_data.jsonl --to split --fraction 0.2 --seed 0`.
    """
    from recsys.eval.redial_samples import write_holdout_split

    train, test = write_holdout_split(dialogues, out_dir, fraction=fraction, seed=seed)
    counts = {p.name: sum(1 for line in p.open(encoding="utf-8") if line.strip()) for p in (train, test)}
    typer.echo(json.dumps({"train": str(train), "test": str(test), "dialogues": counts}))
