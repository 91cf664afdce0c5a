"""Chunked evaluation of fused settings gives the same ranks as one pool over every sample."""

from __future__ import annotations

import numpy as np

from recsys.eval.redial_context import BoostConfig, ContextQuery
from recsys.eval.redial_fusion import FusionSetting
from recsys.eval.redial_pipeline import Encoded, evaluate_settings, make_pools
from recsys.models.types import Profile, Recommendations

N_ITEMS, N = 60, 23


def _encoded(seed: int = 0) -> tuple[Encoded, dict[str, list[Recommendations]]]:
    rng = np.random.default_rng(seed)
    lists: dict[str, list[Recommendations]] = {"a": [], "b": []}
    exclusions, ages = [], []
    for _ in range(N):
        for name in lists:
            items = rng.permutation(N_ITEMS)[:25]
            lists[name].append(Recommendations(items, np.sort(rng.random(25))[::-1].astype(np.float32)))
        ctx = rng.choice(N_ITEMS, size=int(rng.integers(0, 4)), replace=False)
        exclusions.append(ctx.astype(np.int64))
        ages.append({int(c): (float(rng.integers(1, 4)), np.inf) for c in ctx})
    targets = rng.integers(-1, N_ITEMS, size=N)
    dedup = np.array([t not in set(e.tolist()) for t, e in zip(targets, exclusions, strict=True)])
    enc = Encoded(
        samples=[None] * N,  # type: ignore[list-item]  (not used by the evaluation)
        queries=[ContextQuery(position=0)] * N,
        profiles=[Profile()] * N,
        targets=targets,
        exclusions=exclusions,
        ages=ages,
        dedup=dedup,
    )
    return enc, lists


def test_chunks_do_not_change_the_ranks() -> None:
    enc, lists = _encoded()
    mask = np.ones(N_ITEMS, dtype=bool)
    main = FusionSetting("rrf", 60.0, 10, (1.0, 2.0), BoostConfig(0.5, 0.0, 1.0))
    settings = {
        "main": (main, FusionSetting("rrf", 60.0, 10, (1.0, 2.0))),
        "b alone": (FusionSetting("weighted", 60.0, 10, (0.0, 1.0)),) * 2,
    }
    whole = evaluate_settings(lists, enc, 10, mask, settings, k=8, main="main", check=[0, 5, 22])
    parts = evaluate_settings(lists, enc, 10, mask, settings, k=8, main="main", check=[0, 5, 22], chunk=4)
    full, dedup = make_pools(lists, enc, 10, mask)
    assert whole.full["main"].tolist() == full.ranks(main, 8).tolist()
    assert whole.dedup["main"].tolist() == dedup.ranks(settings["main"][1], 8).tolist()
    assert len(whole.dedup["main"]) == int(enc.dedup.sum())
    for name in settings:
        assert parts.full[name].tolist() == whole.full[name].tolist()
        assert parts.dedup[name].tolist() == whole.dedup[name].tolist()
    assert sorted(parts.checked_full) == [0, 5, 22]
    ranked = full.rankings(main, 8)
    for row, top in parts.checked_full.items():
        assert top.tolist() == ranked[row].tolist()
    assert set(parts.checked_dedup) == {r for r in (0, 5, 22) if enc.dedup[r]}
