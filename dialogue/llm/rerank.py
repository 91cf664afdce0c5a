"""Pointwise LLM re-ranking of the fused top-N: "does this movie suit this user?" as a yes/no likelihood.

For each candidate the model reads the profile text, the latest critique and the movie's facts (one
batched forward pass for all candidates) and we take P(yes) = softmax over the "Yes"/"No" answer tokens.
The new score is (1 - weight) * fused score (min-max scaled over the list) + weight * P(yes). The
re-ranker only reorders and (with `drop_below`) drops: its output is always a subset of its input, in
which every item appears once. When the LLM is unavailable the input order is returned unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from dialogue.llm.prompts import SYSTEM_JUDGE, TASK_JUDGE, build_prompt, quoted
from dialogue.llm.runtime import LLMRuntime
from dialogue.llm.types import ChatPrompt, Fallback
from recsys.catalog.types import CatalogItem
from recsys.errors import ValidationError


@dataclass(frozen=True)
class Candidate:
    """A candidate from the fusion ranker: the item and its fused score."""

    item: CatalogItem
    score: float


@dataclass(frozen=True)
class Reranked:
    """A candidate after re-ranking. `p_yes` is None when the LLM was not used."""

    item: CatalogItem
    fused_score: float
    p_yes: float | None
    score: float  # the combined score the list is sorted by
    original_rank: int  # 1-based rank in the input


@dataclass(frozen=True)
class RerankResult:
    """The re-ranked list, the candidates dropped, and whether (or why not) the LLM was used."""

    items: tuple[Reranked, ...]
    dropped: tuple[Reranked, ...] = ()
    used_llm: bool = False
    fallback: str | None = None
    seconds: float = 0.0

    @property
    def item_ids(self) -> list[int]:
        return [r.item.item_id for r in self.items]


def judgement_prompt(item: CatalogItem, profile_text: str, critique: str | None = None) -> ChatPrompt:
    """The yes/no question for one candidate: the user's taste and request (quoted) first — the same for
    every candidate, so that prefix is computed once per call — then the movie's facts."""
    fields = [
        ("the user's taste", quoted(profile_text)),
        ("the user's latest request", quoted(critique or "")),
        ("movie", item.display),
        ("genres", ", ".join(item.genres)),
        ("directed by", ", ".join(item.directors[:2])),
        ("starring", ", ".join(item.stars[:2])),
        ("tags", ", ".join(item.tags[:4])),
        ("plot", item.plot[:120]),
    ]
    return build_prompt(SYSTEM_JUDGE, fields, TASK_JUDGE)


def _scaled(scores: Sequence[float]) -> list[float]:
    low, high = min(scores), max(scores)
    if not math.isfinite(low) or not math.isfinite(high):
        raise ValidationError(f"fused scores must be finite, got {list(scores)}")
    if high - low < 1e-12:
        return [1.0] * len(scores)
    return [(s - low) / (high - low) for s in scores]


class LLMReranker:
    """Re-ranks the head of a candidate list by the LLM's yes/no judgement blended with the fused score.

    weight: share of P(yes) in the combined score (0 = keep the fused order, 1 = LLM only).
    drop_below: drop candidates whose P(yes) is below this (None: never drop); `min_keep` always stay.
    max_candidates: only the first this-many are judged; the rest follow unchanged, in input order
        (judging costs about 0.5 s per candidate on one CPU core with SmolLM2-135M).
    options: the answer tokens compared (the first is "yes").
    """

    def __init__(
        self,
        runtime: LLMRuntime | None,
        *,
        weight: float = 0.3,
        drop_below: float | None = None,
        min_keep: int = 1,
        max_candidates: int = 10,
        options: tuple[str, str] = ("Yes", "No"),
        timeout: float | None = None,
    ) -> None:
        if not 0.0 <= weight <= 1.0:
            raise ValidationError(f"weight must be in [0, 1], got {weight}")
        if drop_below is not None and not 0.0 <= drop_below <= 1.0:
            raise ValidationError(f"drop_below must be in [0, 1], got {drop_below}")
        if max_candidates < 1 or min_keep < 0:
            raise ValidationError("max_candidates must be >= 1 and min_keep >= 0")
        self.runtime = runtime
        self.weight = weight
        self.drop_below = drop_below
        self.min_keep = min_keep
        self.max_candidates = max_candidates
        self.options = options
        self.timeout = timeout

    def rerank(
        self, candidates: Sequence[Candidate], profile_text: str, critique: str | None = None
    ) -> RerankResult:
        """The candidates reordered (and possibly some dropped); never an item that was not given."""
        ids = [c.item.item_id for c in candidates]
        if len(set(ids)) != len(ids):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            raise ValidationError(f"candidates must be distinct items; repeated item ids: {dupes}")
        unchanged = tuple(
            Reranked(c.item, c.score, None, c.score, rank) for rank, c in enumerate(candidates, start=1)
        )
        if not candidates:
            return RerankResult(())
        if self.runtime is None:
            return RerankResult(unchanged, fallback="disabled")
        head = list(candidates[: self.max_candidates])
        prompts = [judgement_prompt(c.item, profile_text, critique) for c in head]
        result = self.runtime.score_options(prompts, self.options, timeout=self.timeout)
        if isinstance(result, Fallback):
            return RerankResult(unchanged, fallback=result.reason)
        fused = _scaled([c.score for c in head])
        judged: list[Reranked] = []
        for rank, (cand, scaled, logprobs) in enumerate(
            zip(head, fused, result.logprobs, strict=True), start=1
        ):
            yes, no = logprobs[0], logprobs[1]
            p_yes = 1.0 / (1.0 + math.exp(no - yes))
            combined = (1.0 - self.weight) * scaled + self.weight * p_yes
            judged.append(Reranked(cand.item, cand.score, p_yes, combined, rank))
        judged.sort(key=lambda r: (-r.score, r.original_rank))
        kept, dropped = judged, []
        if self.drop_below is not None:
            kept = [
                r for i, r in enumerate(judged) if i < self.min_keep or (r.p_yes or 0.0) >= self.drop_below
            ]
            kept_ids = {r.item.item_id for r in kept}
            dropped = [r for r in judged if r.item.item_id not in kept_ids]
        tail = unchanged[len(head) :]
        return RerankResult(tuple(kept) + tail, tuple(dropped), True, None, result.seconds)
