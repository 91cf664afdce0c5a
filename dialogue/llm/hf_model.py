"""`TextModel` on a transformers causal LM: greedy generation, streaming, batched generation, option scoring.

Prompts are rendered with the tokenizer's chat template. Decoding is greedy (deterministic). The fixed
system turn's KV cache is computed once and reused by single-prompt generation (shorter pre-fill). Streaming
uses transformers' TextStreamer decoding (text is released at word boundaries), forwarded to a callback;
the runtime turns the callbacks into an iterator for the caller. Option scoring is one batched forward
pass over the prompts (dialogue.llm.hf_scoring).
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import torch
from transformers import GenerationConfig, StoppingCriteria, StoppingCriteriaList, TextStreamer

from dialogue.llm.hf_scoring import Output, score_sequences
from dialogue.llm.types import ChatPrompt, Completion, FinishReason

# This module is imported only when a model is loaded (the runtime imports it lazily), so torch and
# transformers are imported at the top.

PREFIX_CACHES = 4  # system prompts whose KV cache is kept


class _StopFlag(StoppingCriteria):
    """Stops every row once `should_stop()` holds (cancellation, deadline); remembers that it fired."""

    def __init__(self, should_stop: Callable[[], bool]) -> None:
        self.should_stop = should_stop
        self.fired = False

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        stop = bool(self.should_stop())
        self.fired = self.fired or stop
        return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)


class _RowStop(StoppingCriteria):
    """Per-row stop: a row is done once `stop_when(prefix + its text so far)` holds (e.g. two sentences)."""

    def __init__(
        self, tokenizer: Any, prompt_width: int, prefixes: Sequence[str], stop_when: Callable[[str], bool]
    ) -> None:
        self.tokenizer = tokenizer
        self.width = prompt_width
        self.prefixes = prefixes
        self.stop_when = stop_when

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        texts = self.tokenizer.batch_decode(input_ids[:, self.width :], skip_special_tokens=True)
        done = [self.stop_when(p + t) for p, t in zip(self.prefixes, texts, strict=True)]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


class _CallbackStreamer(TextStreamer):
    """transformers' word-boundary streaming decoder, handing each finalised chunk to a callback."""

    def __init__(self, tokenizer: Any, on_text: Callable[[str], None]) -> None:
        super().__init__(tokenizer, skip_prompt=True, skip_special_tokens=True)
        self.on_text = on_text

    def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
        if text:
            self.on_text(text)


class HFTextModel:
    """A transformers causal LM + tokenizer behind the `TextModel` interface."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        name: str,
        *,
        reuse_system_cache: bool = True,
        share_prompt_prefix: bool = True,
    ) -> None:
        self.model = model
        self.reuse_system_cache = reuse_system_cache
        self.share_prompt_prefix = share_prompt_prefix
        self.tokenizer = tokenizer
        self.name = name
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        self._prefix_caches: OrderedDict[str, tuple[list[int], Any]] = OrderedDict()
        self._generation = {
            "do_sample": False,
            "eos_token_id": tokenizer.eos_token_id,
            "pad_token_id": tokenizer.pad_token_id,
            "bos_token_id": tokenizer.bos_token_id,
        }

    def _config(self, max_new_tokens: int) -> GenerationConfig:
        """A fresh greedy generation config (the model's own may carry sampling defaults)."""
        return GenerationConfig(**self._generation, max_new_tokens=max_new_tokens)

    # ---- prompt rendering -------------------------------------------------------------------------
    def render(self, prompt: ChatPrompt) -> str:
        """The prompt as the model sees it (chat template, generation prompt and answer prefix appended)."""
        chat = self.tokenizer.apply_chat_template(
            prompt.messages(), add_generation_prompt=True, tokenize=False
        )
        return chat + prompt.answer_prefix

    def encode(self, prompts: Sequence[ChatPrompt], *, padding_side: str = "left") -> Any:
        self.tokenizer.padding_side = padding_side
        texts = [self.render(p) for p in prompts]
        return self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    # ---- system-prompt cache ------------------------------------------------------------------------
    def _prefix_cache(self, prompt: ChatPrompt, input_ids: list[int]) -> Any | None:
        """A copy of the KV cache of the prompt's fixed system turn, when `input_ids` starts with it.

        System prompts are constants, so their keys/values are computed once (a few per process) and
        every single-prompt generation only pre-fills the user turn."""
        entry = self._prefix_caches.get(prompt.system)
        if entry is None:
            system_turn = self.tokenizer.apply_chat_template(
                [{"role": "system", "content": prompt.system}], tokenize=False
            )
            ids = self.tokenizer(system_turn, add_special_tokens=False)["input_ids"]
            with torch.inference_mode():
                cache = self.model(input_ids=torch.tensor([ids]), use_cache=True).past_key_values
            entry = (ids, cache)
            self._prefix_caches[prompt.system] = entry
            while len(self._prefix_caches) > PREFIX_CACHES:
                self._prefix_caches.popitem(last=False)
        ids, cache = entry
        if len(input_ids) <= len(ids) or input_ids[: len(ids)] != ids:
            return None  # tokenised differently at the boundary: no reuse
        return copy.deepcopy(cache)

    # ---- generation -------------------------------------------------------------------------------
    def _finish(self, new_tokens: Any, max_new_tokens: int, stopped: bool) -> tuple[int, FinishReason]:
        ids = new_tokens.tolist()
        eos = self.tokenizer.eos_token_id
        n = ids.index(eos) if eos in ids else len(ids)
        if eos in ids:
            return n, "stop"
        if stopped:
            return n, "stopped"
        return n, "length" if n >= max_new_tokens else "stop"

    def generate(
        self,
        prompt: ChatPrompt,
        *,
        max_new_tokens: int,
        should_stop: Callable[[], bool],
        on_text: Callable[[str], None] | None = None,
    ) -> Completion:
        enc = self.encode([prompt])
        streamer = None
        if on_text is not None:
            if prompt.answer_prefix:
                on_text(prompt.answer_prefix)
            streamer = _CallbackStreamer(self.tokenizer, on_text)
        flag = _StopFlag(should_stop)
        cache = self._prefix_cache(prompt, enc["input_ids"][0].tolist()) if self.reuse_system_cache else None
        with torch.inference_mode():
            out = self.model.generate(
                **enc,
                generation_config=self._config(max_new_tokens),
                stopping_criteria=StoppingCriteriaList([flag]),
                streamer=streamer,
                past_key_values=cache,
            )
        new = out[0, enc["input_ids"].shape[1] :]
        n, reason = self._finish(new, max_new_tokens, flag.fired)
        text = prompt.answer_prefix + self.tokenizer.decode(new[:n], skip_special_tokens=True)
        return Completion(text.strip(), n, reason)

    def generate_batch(
        self,
        prompts: Sequence[ChatPrompt],
        *,
        max_new_tokens: int,
        should_stop: Callable[[], bool],
        stop_when: Callable[[str], bool] | None = None,
    ) -> list[Completion]:
        if not prompts:
            return []
        enc = self.encode(prompts, padding_side="left")
        width = enc["input_ids"].shape[1]
        flag = _StopFlag(should_stop)
        criteria = StoppingCriteriaList([flag])
        if stop_when is not None:
            criteria.append(_RowStop(self.tokenizer, width, [p.answer_prefix for p in prompts], stop_when))
        with torch.inference_mode():
            out = self.model.generate(
                **enc, generation_config=self._config(max_new_tokens), stopping_criteria=criteria
            )
        completions = []
        for prompt, row in zip(prompts, out, strict=True):
            new = row[width:]
            n, reason = self._finish(new, max_new_tokens, flag.fired)
            text = prompt.answer_prefix + self.tokenizer.decode(new[:n], skip_special_tokens=True)
            if stop_when is not None and stop_when(text):
                reason = "stopped"
            completions.append(Completion(text.strip(), n, reason))
        return completions

    # ---- scoring ----------------------------------------------------------------------------------
    def option_token_ids(self, options: Sequence[str]) -> list[list[int]]:
        return [self.tokenizer(o, add_special_tokens=False)["input_ids"] for o in options]

    def score_options(self, prompts: Sequence[ChatPrompt], options: Sequence[str]) -> list[list[float]]:
        """Log-probability of each option continuing each prompt's assistant turn.

        Single-token options (the yes/no case): one batched forward pass over the prompts, reading the
        next-token distribution at each prompt's last position. Multi-token options: prompt + option
        sequences are scored by teacher forcing (sum of the option tokens' log-probabilities). The
        prompts' common beginning is run once (dialogue.llm.hf_scoring).
        """
        if not prompts:
            return []
        option_ids = self.option_token_ids(options)
        if any(not ids for ids in option_ids):
            raise ValueError(f"every option must encode to at least one token: {list(options)}")
        rendered = [self.tokenizer(self.render(p), add_special_tokens=False)["input_ids"] for p in prompts]
        # Each sequence yields one value per output: the option's tokens at the positions predicting them.
        single = all(len(ids) == 1 for ids in option_ids)
        sequences: list[list[int]] = []
        outputs: list[list[Output]] = []
        for ids in rendered:
            if single:
                sequences.append(ids)
                outputs.append([[(len(ids) - 1, opt[0])] for opt in option_ids])
            else:
                for opt in option_ids:
                    sequences.append(ids + opt)
                    outputs.append([[(len(ids) - 1 + k, tok) for k, tok in enumerate(opt)]])
        values = score_sequences(
            self.model, self.tokenizer.pad_token_id, sequences, outputs, share_prefix=self.share_prompt_prefix
        )
        if single:
            return values
        k = len(options)
        return [[v[0] for v in values[i : i + k]] for i in range(0, len(values), k)]
