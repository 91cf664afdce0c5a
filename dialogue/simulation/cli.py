"""`crs simulate`: an A/B comparison of two dialogue configurations on simulated ReDial users."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from recsys.errors import ConfigError


def simulate(
    dialogues: Annotated[Path, typer.Option("--dialogues", help="ReDial-format dialogues (jsonl).")],
    output_dir: Annotated[Path, typer.Option("--output-dir", help="Where report.json, report.md, plots go.")],
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
    workers: Annotated[int, typer.Option("--workers", min=1, help="Worker processes (in-process arms).")] = 1,
    api_key: Annotated[str | None, typer.Option("--api-key", help="Bearer key for the servers.")] = None,
) -> None:
    """Run two arms on the same simulated users and write a paired-statistics report."""
    from dialogue.simulation.report import build_report, write_report
    from dialogue.simulation.runner import ArmSpec, run_http, run_local, select_users
    from dialogue.simulation.users import users_from_dialogues
    from recsys.data.redial import load_redial_dialogues
    from recsys.settings import get_settings

    http = server_a is not None or server_b is not None
    if http and (server_a is None or server_b is None or arm_a or arm_b):
        raise ConfigError("HTTP mode needs both --server-a and --server-b (and no --arm-a / --arm-b)")
    if not http and (arm_a is None or arm_b is None):
        raise ConfigError("give --arm-a and --arm-b (policy presets or files), or --server-a and --server-b")
    spec_a = ArmSpec(server=server_a) if http else ArmSpec(policy=arm_a)
    spec_b = ArmSpec(server=server_b) if http else ArmSpec(policy=arm_b)
    configs = {"a": spec_a.describe(), "b": spec_b.describe()}  # validates preset names / files early
    settings = get_settings()
    _say(f"loading {dialogues} ...")
    all_dialogues = load_redial_dialogues(dialogues)
    system = None
    build_s = None
    if http:
        from recsys.catalog.pipeline import prepare_dialogue_data

        catalog = prepare_dialogue_data(settings).catalog
    else:
        from dialogue.simulation.runner import build_system

        if workers == 1:
            _say("building the dialogue system ...")
            start = time.perf_counter()
            system = build_system(settings, [spec_a.policy or "", spec_b.policy or ""])
            build_s = round(time.perf_counter() - start, 2)
            catalog = system[1]
        else:
            from recsys.catalog.pipeline import prepare_dialogue_data

            catalog = prepare_dialogue_data(settings).catalog
    built = users_from_dialogues(all_dialogues, catalog)
    chosen = select_users(built.users, users, seed)
    _say(
        f"{len(built.users)} users from {len(all_dialogues)} dialogues "
        f"(skipped: {built.skipped}); using {len(chosen)}"
    )
    if http:
        result = run_http(
            server_a or "", server_b or "", chosen, catalog, max_turns=turns, seed=seed, api_key=api_key
        )
    else:
        result = run_local(
            settings, spec_a, spec_b, chosen, max_turns=turns, seed=seed, workers=workers, system=system
        )
    report = build_report(
        result.a,
        result.b,
        configs=configs,
        users=chosen,
        max_turns=turns,
        seed=seed,
        source=dialogues,
        timings={**result.timings, **({"build_s": build_s} if build_s is not None else {})},
        extra={"users_available": len(built.users), "skipped_dialogues": built.skipped},
    )
    write_report(report, result.a, result.b, output_dir)
    a, b, c = report["arms"]["a"], report["arms"]["b"], report["comparison"]
    print(
        f"A success {a['success_rate']:.3f}, B success {b['success_rate']:.3f}, "
        f"diff {c['success_diff']:+.3f} "
        f"CI {c['success_diff_ci95']}, McNemar p {c['p_value_success']:.3g}\n{c['conclusion']}\n"
        f"report: {output_dir / 'report.md'}"
    )


def _say(message: str) -> None:
    print(message, file=sys.stderr)
