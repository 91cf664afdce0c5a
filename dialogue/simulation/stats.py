"""Per-arm metrics and paired A/B statistics (scipy.stats; nothing hand-rolled).

Conventions
- `success_diff` = success rate of B - success rate of A; its 95% CI is a paired percentile bootstrap
  (`scipy.stats.bootstrap(paired=True)`, seeded) over users.
- McNemar's exact test on success: `binomtest` of the discordant pairs (A fails & B succeeds vs the
  reverse) against p = 0.5.
- Wilcoxon signed-rank on turns to success per user, a failure counting T + 1 turns.
- Effect sizes: Cohen's h of the two success rates, and the odds ratio of the discordant pairs
  (B-only / A-only successes, +0.5 to both when one is zero).
- Sample size for 80% power (two-sided alpha 0.05) at the observed discordant proportions, by the
  normal approximation for McNemar's test (Connor 1987):
  n = (z_{a/2} sqrt(p_d) + z_b sqrt(p_d - delta^2))^2 / delta^2 with p_d = p01 + p10, delta = p01 - p10.
- No conclusion is drawn with fewer than MIN_USERS users or MIN_DISCORDANT discordant pairs.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from dialogue.simulation.simulator import Outcome

MIN_USERS = 30
MIN_DISCORDANT = 10
ALPHA = 0.05
POWER = 0.8


def _r(x: float | None, digits: int = 6) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), digits)


def _p(x: float) -> float:
    """A p-value to 6 significant digits (tiny p-values must not round to 0)."""
    return float(f"{x:.6g}")


def wilson(k: int, n: int) -> tuple[float, float]:
    """The Wilson 95% interval of a proportion k / n (scipy's binomtest)."""
    if n == 0:
        return (0.0, 0.0)
    ci = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
    return (float(ci.low), float(ci.high))


def arm_metrics(outcomes: Sequence[Outcome], max_turns: int) -> dict[str, Any]:
    """Success rate, success-by-turn curve (Wilson bands), mean turns, Recall@k, rejections, questions."""
    n = len(outcomes)
    success = np.array([o.success for o in outcomes], dtype=bool)
    turns = [o.success_turn for o in outcomes if o.success_turn is not None]
    curve, low, high = [], [], []
    for t in range(1, max_turns + 1):
        k = sum(1 for o in outcomes if o.success_turn is not None and o.success_turn <= t)
        lo, hi = wilson(k, n)
        curve.append(_r(k / n if n else 0.0))
        low.append(_r(lo))
        high.append(_r(hi))
    return {
        "users": n,
        "successes": int(success.sum()),
        "success_rate": _r(float(success.mean()) if n else 0.0),
        "success_rate_ci95": [_r(x) for x in wilson(int(success.sum()), n)],
        "success_by_turn": curve,
        "success_by_turn_ci95_low": low,
        "success_by_turn_ci95_high": high,
        "mean_turns": _r(float(np.mean(turns))) if turns else None,  # over successful dialogues
        "mean_turns_with_failures": _r(float(np.mean([o.turns_or_penalty(max_turns) for o in outcomes])))
        if n
        else None,
        "recall_at_k_last": _r(float(np.mean([o.recall_at_k for o in outcomes]))) if n else None,
        "rejections_per_dialogue": _r(float(np.mean([o.rejections for o in outcomes]))) if n else None,
        "questions_per_dialogue": _r(float(np.mean([o.questions for o in outcomes]))) if n else None,
        "gave_up_early": sum(o.gave_up_early for o in outcomes),
    }


def mcnemar_sample_size(p01: float, p10: float, alpha: float = ALPHA, power: float = POWER) -> float | None:
    """Pairs needed to detect the discordance (p01, p10) (module docstring); None when there is none."""
    delta, p_d = p01 - p10, p01 + p10
    if delta == 0 or p_d == 0:
        return None
    za, zb = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    return float(math.ceil((za * math.sqrt(p_d) + zb * math.sqrt(max(p_d - delta**2, 0.0))) ** 2 / delta**2))


def compare(a: Sequence[Outcome], b: Sequence[Outcome], max_turns: int, seed: int) -> dict[str, Any]:
    """Paired comparison of two arms run on the same users in the same order."""
    if [o.user_id for o in a] != [o.user_id for o in b]:
        raise ValueError("the arms were not run on the same users in the same order")
    n = len(a)
    sa = np.array([o.success for o in a], dtype=float)
    sb = np.array([o.success for o in b], dtype=float)
    n01 = int(((sa == 0) & (sb == 1)).sum())  # only B succeeds
    n10 = int(((sa == 1) & (sb == 0)).sum())  # only A succeeds
    diff = float(sb.mean() - sa.mean()) if n else 0.0
    ci: list[float | None] = [_r(diff), _r(diff)]
    if n >= 2 and n01 + n10 > 0:
        res = stats.bootstrap(
            (sa, sb),
            lambda x, y, axis=-1: np.mean(y, axis=axis) - np.mean(x, axis=axis),
            paired=True,
            vectorized=True,
            n_resamples=2000,
            confidence_level=0.95,
            method="percentile",
            random_state=np.random.default_rng(seed),
        )
        ci = [_r(res.confidence_interval.low), _r(res.confidence_interval.high)]
    p_mcnemar = float(stats.binomtest(n01, n01 + n10, 0.5).pvalue) if n01 + n10 else 1.0
    ta = np.array([o.turns_or_penalty(max_turns) for o in a], dtype=float)
    tb = np.array([o.turns_or_penalty(max_turns) for o in b], dtype=float)
    if n and np.any(ta != tb):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            w = stats.wilcoxon(ta, tb, zero_method="wilcox")
        p_wilcoxon, w_stat = float(w.pvalue), float(w.statistic)
    else:
        p_wilcoxon, w_stat = 1.0, None
    pa, pb = (float(sa.mean()), float(sb.mean())) if n else (0.0, 0.0)
    cohens_h = 2 * math.asin(math.sqrt(pb)) - 2 * math.asin(math.sqrt(pa))
    odds = (n01 + 0.5) / (n10 + 0.5) if (n01 == 0 or n10 == 0) else n01 / n10
    needed = mcnemar_sample_size(n01 / n, n10 / n) if n else None
    reasons = []
    if n < MIN_USERS:
        reasons.append(f"only {n} users (at least {MIN_USERS} needed)")
    if n01 + n10 < MIN_DISCORDANT:
        reasons.append(f"only {n01 + n10} discordant pairs (at least {MIN_DISCORDANT} needed)")
    if reasons:
        verdict, conclusion = "insufficient_data", "No conclusion: " + "; ".join(reasons) + "."
    elif p_mcnemar < ALPHA:
        better = "b" if diff > 0 else "a"
        verdict = f"{better}_better"
        conclusion = f"Arm {better.upper()} succeeds significantly more often (McNemar p = {p_mcnemar:.3g})."
    else:
        verdict = "no_significant_difference"
        conclusion = f"No significant difference in success (McNemar p = {p_mcnemar:.3g})."
    return {
        "users": n,
        "success_diff": _r(diff),
        "success_diff_ci95": ci,
        "p_value_success": _p(p_mcnemar),
        "discordant": {"b_only": n01, "a_only": n10},
        "p_value_turns_wilcoxon": _p(p_wilcoxon),
        "wilcoxon_statistic": _r(w_stat) if w_stat is not None else None,
        "mean_turns_diff": _r(float(tb.mean() - ta.mean())) if n else None,
        "cohens_h": _r(cohens_h),
        "discordant_odds_ratio": _r(odds),
        "users_needed_80_power": needed,
        "alpha": ALPHA,
        "significant": verdict.endswith("_better"),
        "verdict": verdict,
        "conclusion": conclusion,
    }
