"""Running two arms on the same simulated users (paired), in process or against servers over HTTP.

An arm is a policy preset name or a preset file (`dialogue.policy.load_policy`: policy, k, ...), run on
an in-process DialogueManager, or a running server's base URL (`HttpClient`). Each user meets arm A then
arm B with the same seeded dice (`simulator.UserAgent`), so the outcomes are paired by user.

`--workers N` splits the users into N contiguous chunks run by worker processes; each worker builds its
own system (`build_system`). Results are merged in user order, so they do not depend on N.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from dialogue.simulation.simulator import (
    DEFAULT_DIFFICULTY,
    ConversationClient,
    Difficulty,
    ManagerClient,
    Outcome,
    simulate,
)
from dialogue.simulation.users import SimulatedUser
from recsys.catalog.types import Catalog


@dataclass(frozen=True)
class ArmSpec:
    """One arm: a policy (preset name or file) for the in-process system, or a server URL."""

    policy: str | None = None
    server: str | None = None

    def __post_init__(self) -> None:
        if (self.policy is None) == (self.server is None):
            raise ValueError("an arm is either a policy (preset or file) or a server URL")

    def describe(self) -> dict[str, Any]:
        """The arm's full configuration, for the report."""
        if self.server is not None:
            return {"kind": "server", "url": self.server}
        from dialogue.policy import load_policy

        return {
            "kind": "policy",
            "source": self.policy,
            "policy": load_policy(self.policy).model_dump(mode="json"),
        }


@dataclass
class RunResult:
    """Outcomes of both arms (same users, same order) and how long it took."""

    a: list[Outcome]
    b: list[Outcome]
    timings: dict[str, float] = field(default_factory=dict)


def select_users(users: Sequence[SimulatedUser], n: int, seed: int) -> list[SimulatedUser]:
    """A seeded sample of `n` users (all of them when there are fewer), in their original order."""
    if n >= len(users):
        return list(users)
    chosen = sorted(random.Random(seed).sample(range(len(users)), n))
    return [users[i] for i in chosen]


def run_paired(
    users: Sequence[SimulatedUser],
    client_a: ConversationClient,
    client_b: ConversationClient,
    catalog: Catalog,
    *,
    max_turns: int,
    seed: int,
    progress: bool = True,
    on_user: Callable[[], None] | None = None,
    difficulty: Difficulty = DEFAULT_DIFFICULTY,
) -> tuple[list[Outcome], list[Outcome]]:
    """Each user talks to arm A, then to arm B."""
    out_a: list[Outcome] = []
    out_b: list[Outcome] = []
    bar = tqdm(total=len(users), desc="simulating users x 2 arms", unit="user", disable=not progress)
    for user in users:
        for client, out in ((client_a, out_a), (client_b, out_b)):
            out.append(simulate(user, client, catalog, max_turns=max_turns, seed=seed, difficulty=difficulty))
        bar.update()
        if on_user is not None:
            on_user()
    bar.close()
    return out_a, out_b


def build_system(settings: Any, policies: Sequence[str]) -> tuple[list[Any], Catalog]:
    """One DialogueManager per policy over the trained (or stored) system of `settings`, sharing the
    recommender, extractor and store. The language model is off (`llm=False`): explanations and the
    profile text (which the profile matcher ranks with) come from templates, so a run is reproducible
    and costs milliseconds per turn; compare LLM-backed deployments black-box over HTTP."""
    from dialogue.system import build_manager, train_models

    trained = train_models(settings)
    first = build_manager(settings, policy=policies[0], trained=trained, llm=False)
    managers = [first] + [
        build_manager(
            settings,
            policy=p,
            recommender=trained.recommender,
            catalog=trained.catalog,
            extractor=first.extractor,
            store=first.store,
            llm=False,
        )
        for p in policies[1:]
    ]
    return managers, trained.catalog


def _worker(
    args: tuple[Any, str, str, list[SimulatedUser], int, int, Difficulty],
) -> tuple[list[Outcome], list[Outcome]]:
    settings, policy_a, policy_b, users, max_turns, seed, difficulty = args
    (ma, mb), catalog = build_system(settings, [policy_a, policy_b])
    return run_paired(
        users,
        ManagerClient(ma),
        ManagerClient(mb),
        catalog,
        max_turns=max_turns,
        seed=seed,
        progress=False,
        difficulty=difficulty,
    )


def run_local(
    settings: Any,
    arm_a: ArmSpec,
    arm_b: ArmSpec,
    users: Sequence[SimulatedUser],
    *,
    max_turns: int,
    seed: int,
    workers: int = 1,
    system: tuple[list[Any], Catalog] | None = None,
    progress: bool = True,
    difficulty: Difficulty = DEFAULT_DIFFICULTY,
) -> RunResult:
    """Both policies on in-process managers (built here, or passed in as `system`)."""
    assert arm_a.policy is not None and arm_b.policy is not None
    start = time.perf_counter()
    if workers <= 1 or len(users) < 2 * workers:
        (ma, mb), catalog = system or build_system(settings, [arm_a.policy, arm_b.policy])
        built = time.perf_counter()
        a, b = run_paired(
            users,
            ManagerClient(ma),
            ManagerClient(mb),
            catalog,
            max_turns=max_turns,
            seed=seed,
            progress=progress,
            difficulty=difficulty,
        )
        end = time.perf_counter()
        return RunResult(a, b, {"build_s": round(built - start, 2), "simulate_s": round(end - built, 2)})
    size = -(-len(users) // workers)
    chunks = [list(users[i : i + size]) for i in range(0, len(users), size)]
    jobs = [(settings, arm_a.policy, arm_b.policy, chunk, max_turns, seed, difficulty) for chunk in chunks]
    a, b = [], []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        bar = tqdm(
            total=len(users), desc=f"simulating on {workers} workers", unit="user", disable=not progress
        )
        for (ca, cb), chunk in zip(pool.map(_worker, jobs), chunks, strict=True):
            a.extend(ca)
            b.extend(cb)
            bar.update(len(chunk))
        bar.close()
    return RunResult(a, b, {"total_s": round(time.perf_counter() - start, 2), "workers": workers})


def run_http(
    url_a: str,
    url_b: str,
    users: Sequence[SimulatedUser],
    catalog: Catalog,
    *,
    max_turns: int,
    seed: int,
    api_key: str | None = None,
    progress: bool = True,
    difficulty: Difficulty = DEFAULT_DIFFICULTY,
) -> RunResult:
    """Both arms against running servers through the REST API."""
    from dialogue.simulation.http_client import HttpClient

    start = time.perf_counter()
    with HttpClient(url_a, api_key=api_key) as ca, HttpClient(url_b, api_key=api_key) as cb:
        a, b = run_paired(
            users, ca, cb, catalog, max_turns=max_turns, seed=seed, progress=progress, difficulty=difficulty
        )
    return RunResult(a, b, {"simulate_s": round(time.perf_counter() - start, 2)})
