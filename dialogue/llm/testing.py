"""A deterministic stand-in for a language model, behind the same `TextModel` interface.

Used by the tests of every LLM feature (and usable by the dialogue manager's tests): answers come from a
function of the prompt, yes/no scores from another, and every prompt seen is recorded. It can also be
made slow (per "token") to exercise timeouts and the bounded queue.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from dialogue.llm.types import ChatPrompt, Completion


class ScriptedModel:
    """`TextModel` whose answer to a prompt is `respond(prompt)`, emitted word by word after the prompt's
    answer prefix (which the returned text includes, as with a real model).

    score: maps (prompt, option) -> log-probability; default 0.0 for every option.
    seconds_per_token: sleep per emitted word (for timeout tests); the stop flag is polled each word.
    """

    def __init__(
        self,
        respond: Callable[[ChatPrompt], str] | str = "",
        *,
        score: Callable[[ChatPrompt, str], float] | None = None,
        seconds_per_token: float = 0.0,
        name: str = "scripted",
    ) -> None:
        self._respond = respond if callable(respond) else (lambda _p, text=respond: text)
        self._score = score or (lambda _p, _o: 0.0)
        self.seconds_per_token = seconds_per_token
        self.name = name
        self.prompts: list[ChatPrompt] = []
        self.calls: list[str] = []  # "generate", "generate_batch", "score_options" in call order
        self.started = threading.Event()  # set when a generation starts (to sequence tests)

    def _emit(
        self,
        prompt: ChatPrompt,
        max_new_tokens: int,
        should_stop: Callable[[], bool],
        on_text: Callable[[str], None] | None,
        stop_when: Callable[[str], bool] | None = None,
    ) -> Completion:
        self.prompts.append(prompt)
        self.started.set()
        words = self._respond(prompt).split(" ")
        if words == [""]:
            return Completion(prompt.answer_prefix.strip(), 0, "stop")
        given = prompt.answer_prefix
        if given and on_text is not None:
            on_text(given)
        sep = " " if given and not given.endswith(" ") else ""  # the continuation starts a new word
        prefix = given + sep
        out: list[str] = []
        for i, word in enumerate(words):
            if len(out) >= max_new_tokens:
                return Completion(prefix + " ".join(out), len(out), "length")
            if self.seconds_per_token:
                time.sleep(self.seconds_per_token)
            out.append(word)
            if on_text is not None:
                on_text(sep + word if i == 0 else " " + word)
            if should_stop() or (stop_when is not None and stop_when(prefix + " ".join(out))):
                return Completion(prefix + " ".join(out), len(out), "stopped")
        return Completion(prefix + " ".join(out), len(out), "stop")

    def generate(
        self,
        prompt: ChatPrompt,
        *,
        max_new_tokens: int,
        should_stop: Callable[[], bool],
        on_text: Callable[[str], None] | None = None,
    ) -> Completion:
        self.calls.append("generate")
        return self._emit(prompt, max_new_tokens, should_stop, on_text)

    def generate_batch(
        self,
        prompts: Sequence[ChatPrompt],
        *,
        max_new_tokens: int,
        should_stop: Callable[[], bool],
        stop_when: Callable[[str], bool] | None = None,
    ) -> list[Completion]:
        self.calls.append("generate_batch")
        return [self._emit(p, max_new_tokens, should_stop, None, stop_when) for p in prompts]

    def score_options(self, prompts: Sequence[ChatPrompt], options: Sequence[str]) -> list[list[float]]:
        self.calls.append("score_options")
        self.prompts.extend(prompts)
        return [[self._score(p, o) for o in options] for p in prompts]
