"""Batched sequence scoring on a tiny random Llama (no download): sharing the common prefix's KV cache
and right padding give the same log-probabilities as scoring each sequence alone."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from dialogue.llm.hf_scoring import common_prefix_length, score_sequences  # noqa: E402


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=64,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=128,
    )
    return transformers.LlamaForCausalLM(config).eval()


def _reference(model, seq: list[int], outputs) -> list[float]:
    with torch.inference_mode():
        logprobs = torch.log_softmax(model(input_ids=torch.tensor([seq])).logits[0].float(), dim=-1)
    return [sum(float(logprobs[pos, tok]) for pos, tok in out) for out in outputs]


def test_common_prefix_length():
    assert common_prefix_length([[1, 2, 3, 4], [1, 2, 5], [1, 2, 3]], limit=10) == 2
    assert common_prefix_length([[1, 2, 3], [1, 2, 3]], limit=2) == 2


@pytest.mark.parametrize("share", [True, False])
def test_batched_scores_equal_single_sequence_scores(tiny_model, share):
    prefix = list(range(3, 15))  # 12 shared tokens, then rows of different lengths
    tails = [[20, 21, 22], [30], [40, 41, 42, 43, 44, 45], [50, 51]]
    sequences = [prefix + t for t in tails]
    outputs = [
        [[(len(s) - 1, 7)], [(len(s) - 1, 9)], [(len(s) - 2, s[-1]), (len(s) - 1, 7)]] for s in sequences
    ]
    got = score_sequences(tiny_model, 0, sequences, outputs, batch=3, share_prefix=share)
    for seq, outs, values in zip(sequences, outputs, got, strict=True):
        assert values == pytest.approx(_reference(tiny_model, seq, outs), abs=1e-4)


def test_a_read_position_inside_the_common_prefix_is_still_scored(tiny_model):
    sequences = [list(range(3, 20)), [*range(3, 20), 25]]
    outputs = [[[(10, 9)]], [[(10, 9)], [(17, 2)]]]  # read at 10: only 10 of 17 shared tokens pre-run
    got = score_sequences(tiny_model, 0, sequences, outputs)
    for seq, outs, values in zip(sequences, outputs, got, strict=True):
        assert values == pytest.approx(_reference(tiny_model, seq, outs), abs=1e-4)
