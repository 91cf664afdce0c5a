"""Scoring token sequences with a causal LM in batches: the log-probabilities of chosen tokens.

The prompts of one call usually share a long beginning (system prompt, the user's profile and request;
only the movie differs), so that common token prefix is run once, its KV cache copied across the batch,
and only each row's remainder is run (right-padded: a causal model never attends to the pads after a
row's end, and every row is read at its own positions). Only the positions read are projected onto the
vocabulary (`logits_to_keep`).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import torch

SCORE_BATCH = 16  # sequences per forward pass (bounds memory)
MIN_SHARED = 8  # shorter common prefixes are not worth a separate pass

# One value per "output"; an output is a list of (position, token id) whose log-probabilities are summed.
Output = list[tuple[int, int]]


def common_prefix_length(sequences: Sequence[Sequence[int]], limit: int) -> int:
    """Length of the token prefix all sequences share, at most `limit`."""
    first = sequences[0]
    n = 0
    while n < limit and all(s[n] == first[n] for s in sequences):
        n += 1
    return n


def score_sequences(
    model: Any,
    pad_id: int,
    sequences: Sequence[list[int]],
    outputs: Sequence[list[Output]],
    *,
    batch: int = SCORE_BATCH,
    share_prefix: bool = True,
) -> list[list[float]]:
    """For each sequence, the summed log-probability of each of its outputs' tokens, where a token at
    position p is predicted by the logits at position p (the caller passes the predicting position)."""
    if not sequences:
        return []
    first_read = min(pos for outs in outputs for out in outs for pos, _ in out)
    limit = min(min(len(s) for s in sequences) - 1, first_read)  # every row keeps >= 1 token to run
    shared = common_prefix_length(sequences, limit) if share_prefix and len(sequences) > 1 else 0
    shared = shared if shared >= MIN_SHARED else 0
    values: list[list[float]] = []
    with torch.inference_mode():
        prefix_cache = None
        if shared:
            prefix = torch.tensor([list(sequences[0][:shared])])
            prefix_cache = model(input_ids=prefix, use_cache=True).past_key_values
        for start in range(0, len(sequences), batch):
            rows = [s[shared:] for s in sequences[start : start + batch]]
            row_outputs = outputs[start : start + len(rows)]
            width = max(len(r) for r in rows)
            input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(rows), shared + width), dtype=torch.long)
            mask[:, :shared] = 1
            for r, row in enumerate(rows):
                input_ids[r, : len(row)] = torch.tensor(row)
                mask[r, shared : shared + len(row)] = 1
            positions = sorted({pos - shared for outs in row_outputs for out in outs for pos, _ in out})
            column = {pos: k for k, pos in enumerate(positions)}
            extra: dict[str, Any] = {}
            if prefix_cache is not None:
                cache = copy.deepcopy(prefix_cache)
                cache.batch_repeat_interleave(len(rows))
                position_ids = torch.arange(shared, shared + width).unsqueeze(0).expand(len(rows), -1)
                extra = {"past_key_values": cache, "position_ids": position_ids, "use_cache": True}
            logits = model(
                input_ids=input_ids, attention_mask=mask, logits_to_keep=torch.tensor(positions), **extra
            ).logits
            logprobs = torch.log_softmax(logits.float(), dim=-1)
            for r, outs in enumerate(row_outputs):
                values.append(
                    [sum(float(logprobs[r, column[pos - shared], tok]) for pos, tok in out) for out in outs]
                )
    return values
