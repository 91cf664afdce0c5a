"""The small interface between the LLM runtime and a language model, and the runtime's typed results.

`TextModel` is what the runtime needs from a model: greedy generation (optionally streamed, stoppable),
batched generation, and option scoring (log-likelihoods). `HFTextModel` implements it with transformers;
`ScriptedModel` (dialogue.llm.testing) implements it without a model, for tests.

Every runtime call returns either a result or a `Fallback` — never an exception for "the LLM is busy /
slow / off" — so callers branch once and use their template.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

FinishReason = Literal["stop", "length", "stopped", "cancelled"]
FallbackReason = Literal["disabled", "unavailable", "busy", "timeout", "error"]


@dataclass(frozen=True)
class ChatPrompt:
    """A fixed system prompt plus one user turn (which carries the data block).

    `answer_prefix` starts the assistant's answer ("You may like Inception because"): the model continues
    it, and the text it returns includes it. It steers a small model to the expected form."""

    system: str
    user: str
    answer_prefix: str = ""

    def messages(self) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user}]


@dataclass(frozen=True)
class Completion:
    """What a model produced for one prompt."""

    text: str
    n_tokens: int
    finish_reason: FinishReason


@runtime_checkable
class TextModel(Protocol):
    """A loaded language model. Called from one worker thread at a time (the runtime serialises calls)."""

    name: str

    def generate(
        self,
        prompt: ChatPrompt,
        *,
        max_new_tokens: int,
        should_stop: Callable[[], bool],
        on_text: Callable[[str], None] | None = None,
    ) -> Completion:
        """Greedy continuation of `prompt`. `should_stop` is polled after every token (True = stop now,
        finish_reason "stopped"); `on_text` receives decoded text chunks as they are finalised."""
        ...

    def generate_batch(
        self,
        prompts: Sequence[ChatPrompt],
        *,
        max_new_tokens: int,
        should_stop: Callable[[], bool],
        stop_when: Callable[[str], bool] | None = None,
    ) -> list[Completion]:
        """Greedy continuations of several prompts in one padded batch; a row ends early once
        `stop_when(its text so far)` holds (finish_reason "stopped")."""
        ...

    def score_options(self, prompts: Sequence[ChatPrompt], options: Sequence[str]) -> list[list[float]]:
        """For each prompt, the log-probability of each option as the start of the assistant's answer."""
        ...


@dataclass(frozen=True)
class Generated:
    """A successful generation."""

    text: str
    n_tokens: int
    finish_reason: FinishReason
    seconds: float


@dataclass(frozen=True)
class Scored:
    """Successful option scoring: `logprobs[i][j]` is option j's log-probability after prompt i."""

    logprobs: list[list[float]]
    seconds: float


@dataclass(frozen=True)
class Fallback:
    """The LLM could not answer; the caller uses its template.

    reason: "disabled" (llm_model = none), "unavailable" (the model failed to load), "busy" (the queue is
    full), "timeout" (no answer in time), "error" (the model raised; `detail` says what).
    """

    reason: FallbackReason
    detail: str = ""
