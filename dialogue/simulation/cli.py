"""`crs simulate`: an A/B comparison of two dialogue configurations on simulated users.

Users come from ReDial-format dialogues (`--dialogues FILE`), from the last N dialogues of the configured
ReDial training file (`--redial-holdout N`, dialogue.simulation.redial_split) or from held-out MovieLens
users (`--movielens DIR`, dialogue.simulation.movielens). With `--redial-holdout` / `--movielens` the
in-process arms are trained on a copy of the data without what the simulated users hold out
(`CRS_REDIAL_DIR` / `CRS_MOVIELENS_DIR` are pointed at it); servers compared over HTTP must be started
with that copy too (its path is printed and reported). With `--dialogues` the models are those of the
settings: make sure they were not trained on those dialogues.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from recsys.errors import ConfigError


def simulate(
    output_dir: Annotated[Path, typer.Option("--output-dir", help="Where report.json, report.md, plots go.")],
    dialogues: Annotated[
        Path | None, typer.Option("--dialogues", help="ReDial-format dialogues (jsonl) to simulate.")
    ] = None,
    movielens: Annotated[
        Path | None, typer.Option("--movielens", help="MovieLens release dir: simulate held-out users.")
    ] = None,
    redial_holdout: Annotated[
        int | None,
        typer.Option(
            "--redial-holdout", min=1, help="Simulate the last N ReDial training dialogues, held out."
        ),
    ] = None,
    arm_a: Annotated[
        str | None, typer.Option("--arm-a", help="Policy preset or preset file of arm A.")
    ] = None,
    arm_b: Annotated[
        str | None, typer.Option("--arm-b", help="Policy preset or preset file of arm B.")
    ] = None,
    server_a: Annotated[str | None, typer.Option("--server-a", help="Base URL of arm A's server.")] = None,
    server_b: Annotated[str | None, typer.Option("--server-b", help="Base URL of arm B's server.")] = None,
    users: Annotated[int, typer.Option("--users", min=1, help="Simulated users (seeded sample).")] = 200,
    turns: Annotated[int, typer.Option("--turns", min=1, max=50, help="User turns before giving up.")] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the sample, the users and the bootstrap.")] = 0,
    difficulty: Annotated[
        str, typer.Option("--difficulty", help="Simulated user: 'default' (generous) or 'hard'.")
    ] = "default",
    threshold: Annotated[
        float, typer.Option("--threshold", help="--movielens: a rating >= this is a like.")
    ] = 4.0,
    holdout: Annotated[
        int, typer.Option("--holdout", min=1, help="--movielens: last ratings held out per user.")
    ] = 10,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Worker processes (in-process arms).")] = 1,
    api_key: Annotated[str | None, typer.Option("--api-key", help="Bearer key for the servers.")] = None,
) -> None:
    """Run two arms on the same simulated users and write a paired-statistics report."""
    from dialogue.simulation.report import build_report, write_report
    from dialogue.simulation.runner import ArmSpec, run_http, run_local, select_users
    from dialogue.simulation.simulator import get_difficulty
    from recsys.settings import get_settings

    http = server_a is not None or server_b is not None
    if http and (server_a is None or server_b is None or arm_a or arm_b):
        raise ConfigError("HTTP mode needs both --server-a and --server-b (and no --arm-a / --arm-b)")
    if not http and (arm_a is None or arm_b is None):
        raise ConfigError("give --arm-a and --arm-b (policy presets or files), or --server-a and --server-b")
    if sum(x is not None for x in (dialogues, movielens, redial_holdout)) != 1:
        raise ConfigError("give one source of users: --dialogues FILE, --redial-holdout N or --movielens DIR")
    try:
        behaviour = get_difficulty(difficulty)
    except ValueError as exc:
        raise ConfigError(f"--difficulty: {exc}") from None
    spec_a = ArmSpec(server=server_a) if http else ArmSpec(policy=arm_a)
    spec_b = ArmSpec(server=server_b) if http else ArmSpec(policy=arm_b)
    configs = {"a": spec_a.describe(), "b": spec_b.describe()}  # validates preset names / files early
    settings = get_settings()
    extra: dict[str, Any] = {}
    if movielens is not None:
        settings, split_extra = _movielens_settings(settings, movielens, users, seed, threshold, holdout)
        extra.update(split_extra)
    if redial_holdout is not None:
        settings, dialogues = _redial_settings(settings, redial_holdout)
        extra["redial_train_dir"] = str(settings.redial_dir)
    system, build_s = None, None
    if not http and workers == 1:
        from dialogue.simulation.runner import build_system

        _say("building the dialogue system ...")
        start = time.perf_counter()
        system = build_system(settings, [spec_a.policy or "", spec_b.policy or ""])
        build_s = round(time.perf_counter() - start, 2)
        catalog = system[1]
    else:
        from recsys.catalog.pipeline import prepare_dialogue_data

        catalog = prepare_dialogue_data(settings).catalog
    built = _build_users(catalog, dialogues, extra.get("split"), seed)
    chosen = select_users(built.users, users, seed)
    _say(f"{len(built.users)} users (skipped: {built.skipped}); using {len(chosen)}")
    extra.pop("split", None)
    if http:
        result = run_http(
            server_a or "",
            server_b or "",
            chosen,
            catalog,
            max_turns=turns,
            seed=seed,
            api_key=api_key,
            difficulty=behaviour,
        )
    else:
        result = run_local(
            settings,
            spec_a,
            spec_b,
            chosen,
            max_turns=turns,
            seed=seed,
            workers=workers,
            system=system,
            difficulty=behaviour,
        )
    report = build_report(
        result.a,
        result.b,
        configs=configs,
        users=chosen,
        max_turns=turns,
        seed=seed,
        source=dialogues or movielens,
        timings={**result.timings, **({"build_s": build_s} if build_s is not None else {})},
        extra={**extra, "users_available": len(built.users), "skipped": built.skipped},
        difficulty=behaviour,
    )
    write_report(report, result.a, result.b, output_dir)
    a, b, c = report["arms"]["a"], report["arms"]["b"], report["comparison"]
    print(
        f"A success {a['success_rate']:.3f}, B success {b['success_rate']:.3f}, "
        f"diff {c['success_diff']:+.3f} "
        f"CI {c['success_diff_ci95']}, McNemar p {c['p_value_success']:.3g}\n{c['conclusion']}\n"
        f"report: {output_dir / 'report.md'}"
    )


def _movielens_settings(
    settings: Any, directory: Path, users: int, seed: int, threshold: float, holdout: int
) -> tuple[Any, dict[str, Any]]:
    """The held-out split of `directory` and settings whose MovieLens directory is its training copy."""
    from dialogue.simulation.movielens import split_movielens, training_copy
    from recsys.data.movielens import load_movielens

    _say(f"loading {directory} ...")
    split = split_movielens(
        load_movielens(directory), users=users, seed=seed, threshold=threshold, holdout=holdout
    )
    copy = training_copy(directory, split, settings.artifacts_dir)
    _say(
        f"held out the last {holdout} ratings of {len(split.users)} of {split.eligible} eligible users; "
        f"models are trained on {copy} (set CRS_MOVIELENS_DIR to it for servers)"
    )
    info = {
        "movielens_train_dir": str(copy),
        "movielens_split": {k: v for k, v in split.to_dict().items() if k != "users"},
        "split": split,
    }
    return settings.model_copy(update={"movielens_dir": copy}), info


def _redial_settings(settings: Any, n: int) -> tuple[Any, Path]:
    """Settings whose ReDial directory lacks the last `n` dialogues, and the file of those dialogues."""
    from dialogue.simulation.redial_split import redial_holdout

    split = redial_holdout(settings.redial_path, n, settings.artifacts_dir)
    total = split.heldout_dialogues + split.train_dialogues
    _say(
        f"held out the last {split.heldout_dialogues} of {total} ReDial dialogues; models are trained on "
        f"{split.redial_dir} (set CRS_REDIAL_DIR to it for servers)"
    )
    return settings.model_copy(update={"redial_dir": split.redial_dir}), split.heldout_file


def _build_users(catalog: Any, dialogues: Path | None, split: Any, seed: int) -> Any:
    if dialogues is not None:
        from dialogue.simulation.users import users_from_dialogues
        from recsys.data.redial import load_redial_dialogues

        _say(f"loading {dialogues} ...")
        return users_from_dialogues(load_redial_dialogues(dialogues), catalog)
    from dialogue.simulation.movielens import users_from_movielens

    return users_from_movielens(split, catalog, seed)


def _say(message: str) -> None:
    print(message, file=sys.stderr)
