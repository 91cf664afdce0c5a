"""The LLM runtime: one model per process, loaded lazily, every call serialised through one worker thread.

Callers never wait unboundedly and never get an exception for an overloaded or missing model: a call
returns `Generated` / `Scored` / a `TextStream`, or a typed `Fallback` ("disabled", "unavailable",
"busy" when the bounded queue is full, "timeout" when no answer came in time, "error"), and the caller
uses its template. A timed-out generation is cancelled: the model polls a stop flag after every token,
so the worker is free again within one token's time.

The model is loaded on the worker thread by the first call (or by `warm_up()`, e.g. at API start-up);
with a cached conversion this takes about a second. `get_runtime()` gives the process-wide runtime
configured from the settings (`dialogue.llm.config.LLMConfig`, re-exported here).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any, Literal

from dialogue.llm.config import LLMConfig
from dialogue.llm.loading import configure_torch_threads, load_model, resolve_model_source
from dialogue.llm.stream import TextStream
from dialogue.llm.types import ChatPrompt, Completion, Fallback, Generated, Scored, TextModel
from recsys.errors import ValidationError

log = logging.getLogger(__name__)

Status = Literal["disabled", "not_loaded", "ready", "failed"]
__all__ = ["LLMConfig", "LLMRuntime", "Status", "TextStream", "get_runtime", "reset_runtime"]


@dataclass
class _Job:
    run: Callable[[TextModel, Callable[[], bool]], Any]
    deadline: float
    future: Future[Any] = field(default_factory=Future)
    cancel: threading.Event = field(default_factory=threading.Event)
    on_abandon: Callable[[Fallback], None] | None = None

    def should_stop(self) -> bool:
        return self.cancel.is_set() or time.monotonic() > self.deadline


class LLMRuntime:
    """Serialised, bounded, time-limited access to one language model. Thread-safe."""

    def __init__(
        self,
        config: LLMConfig | None = None,
        *,
        model: TextModel | None = None,
        loader: Callable[[], TextModel | None] | None = None,
    ) -> None:
        self.config = config or LLMConfig.from_settings()
        self._model: TextModel | None = model
        self._loader = loader or self._default_loader
        self._load_lock = threading.Lock()
        self._load_error: Exception | None = None
        self._queue: queue.Queue[_Job | None] = queue.Queue(maxsize=self.config.queue_size)
        self._worker: threading.Thread | None = None
        self._worker_lock = threading.Lock()
        self._loader_thread: threading.Thread | None = None
        self._closed = False
        self.load_seconds: float | None = None
        self.outcomes: Counter[str] = Counter()  # "ok", "busy", "timeout", ... (for metrics)
        self.tokens_generated = 0  # total new tokens of successful generations and streams
        self._stats_lock = threading.Lock()
        self._running = False  # the worker is running a job
        self.service_seconds: float | None = None  # moving average of a job's run time (admission)

    # ---- loading ----------------------------------------------------------------------------------
    @property
    def enabled(self) -> bool:
        return self._model is not None or not self.config.disabled

    @property
    def status(self) -> Status:
        if not self.enabled:
            return "disabled"
        if self._model is not None:
            return "ready"
        return "failed" if self._load_error is not None else "not_loaded"

    def _default_loader(self) -> TextModel | None:
        source = resolve_model_source(self.config.model)
        if source is None:
            return None
        configure_torch_threads(self.config.threads)
        from recsys.settings import get_settings

        cache_root = self.config.cache_dir or get_settings().artifacts_dir / "llm"
        loaded = load_model(source, cache_root=cache_root, dtype=self.config.dtype)
        from dialogue.llm.hf_model import HFTextModel

        return HFTextModel(loaded.model, loaded.tokenizer, loaded.name)

    def load(self) -> TextModel | None:
        """The model, loading it on first use (blocking, once). None when disabled.

        Raises the loader's ConfigError / ArtifactError; the failure is remembered and later calls
        through the queue answer Fallback("unavailable") without retrying.
        """
        if self._model is not None or not self.enabled:
            return self._model
        with self._load_lock:
            if self._model is None:
                if self._load_error is not None:
                    raise self._load_error
                start = time.perf_counter()
                try:
                    self._model = self._loader()
                except Exception as exc:
                    self._load_error = exc
                    log.error("the language model could not be loaded; using templates: %s", exc)
                    raise
                self.load_seconds = time.perf_counter() - start
        return self._model

    def warm_up(self) -> None:
        """Load the model now (e.g. at start-up) instead of on the first call. Raises on failure."""
        self.load()

    def start_loading(self) -> bool:
        """Start loading the model in the background (once) and return at once; True when it is ready.

        For callers that would rather use their template now than wait for a first load (seconds with
        a cached conversion, half a minute for the first GGUF conversion): they check `status`, call this
        and fall back while it is "not_loaded". A failure is remembered (status "failed")."""
        if self.status != "not_loaded":
            return self.status == "ready"
        with self._worker_lock:
            if self._loader_thread is None:

                def load_quietly() -> None:
                    with contextlib.suppress(Exception):  # remembered in _load_error, logged by load()
                        self.load()

                self._loader_thread = threading.Thread(target=load_quietly, name="llm-loader", daemon=True)
                self._loader_thread.start()
        return False

    # ---- worker -----------------------------------------------------------------------------------
    def _ensure_worker(self) -> None:
        with self._worker_lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="llm-worker", daemon=True)
                self._worker.start()

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            if job.should_stop():  # the caller gave up while the job waited
                self._abandon(job, Fallback("timeout", "expired in the queue"))
                continue
            try:
                model = self.load()
            except Exception as exc:
                self._abandon(job, Fallback("unavailable", str(exc)))
                continue
            if model is None:
                self._abandon(job, Fallback("disabled"))
                continue
            started = time.monotonic()
            self._running = True
            try:
                result = job.run(model, job.should_stop)
                if job.should_stop():  # cut short by the deadline (or the caller gave up): not an answer
                    result = Fallback("timeout", "cut short at the deadline")
                else:
                    self._observe(time.monotonic() - started)
                job.future.set_result(result)
            except Exception as exc:
                log.exception("language model call failed")
                self._abandon(job, Fallback("error", f"{type(exc).__name__}: {exc}"))
            finally:
                self._running = False

    def _observe(self, seconds: float) -> None:
        """Fold a finished job's run time into the moving average of the admission check."""
        last = self.service_seconds
        self.service_seconds = seconds if last is None else 0.7 * last + 0.3 * seconds

    def expected_wait(self) -> float:
        """Seconds a call submitted now would wait before its own run starts: the jobs ahead of it times
        the average run time (0 while no job has finished: nothing to go by)."""
        if self.service_seconds is None:
            return 0.0
        return (self._queue.qsize() + (1 if self._running else 0)) * self.service_seconds

    @staticmethod
    def _abandon(job: _Job, fallback: Fallback) -> None:
        if job.on_abandon is not None:
            job.on_abandon(fallback)
        if not job.future.done():
            job.future.set_result(fallback)

    def _precheck(self) -> Fallback | None:
        if self._closed:
            return Fallback("unavailable", "the runtime is closed")
        if not self.enabled:
            return Fallback("disabled")
        if self._load_error is not None:
            return Fallback("unavailable", str(self._load_error))
        return None

    def _submit(self, job: _Job, budget: float) -> Fallback | None:
        """Queue `job`, or refuse it at once ("busy") when the queue is full or when the calls ahead of it
        would use up its budget before it starts: under load a caller then uses its template right away
        instead of waiting out its whole budget for a timeout."""
        self._ensure_worker()
        wait = self.expected_wait()
        if wait >= budget:
            return Fallback("busy", f"~{wait:.1f} s of calls ahead, over the {budget:.1f} s budget")
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            return Fallback("busy", f"{self.config.queue_size} calls already waiting")
        return None

    def _call(self, run: Callable[[TextModel, Callable[[], bool]], Any], timeout: float | None) -> Any:
        fallback = self._precheck()
        if fallback is None:
            budget = timeout if timeout is not None else self.config.timeout_seconds
            job = _Job(run, time.monotonic() + budget)
            fallback = self._submit(job, budget)
            if fallback is None:
                try:
                    result = job.future.result(timeout=budget)
                except FutureTimeout:
                    job.cancel.set()
                    result = Fallback("timeout", f"no answer within {budget:.1f} s")
                self._count(result)
                return result
        self._count(fallback)
        return fallback

    def _count(self, result: Any, tokens: int | None = None) -> None:
        """Tally an outcome (and its tokens) for metrics."""
        if tokens is None:
            if isinstance(result, Generated):
                tokens = result.n_tokens
            elif isinstance(result, list):
                tokens = sum(r.n_tokens for r in result)
        with self._stats_lock:
            outcome = (
                result if isinstance(result, str) else result.reason if isinstance(result, Fallback) else "ok"
            )
            self.outcomes[outcome] += 1
            self.tokens_generated += tokens or 0

    def _tokens(self, max_new_tokens: int | None) -> int:
        n = self.config.max_new_tokens if max_new_tokens is None else max_new_tokens
        if n < 1:
            raise ValidationError(f"max_new_tokens must be >= 1, got {n}")
        return min(n, self.config.max_new_tokens_limit)

    # ---- public calls -----------------------------------------------------------------------------
    def generate(
        self,
        prompt: ChatPrompt,
        *,
        max_new_tokens: int | None = None,
        timeout: float | None = None,
        stop_when: Callable[[str], bool] | None = None,
    ) -> Generated | Fallback:
        """Greedy answer to `prompt`. `stop_when(text_so_far)` may end generation early (e.g. after two
        sentences); it is checked whenever a chunk of text is finalised."""
        n = self._tokens(max_new_tokens)

        def run(model: TextModel, should_stop: Callable[[], bool]) -> Generated:
            start = time.perf_counter()
            on_text = None
            if stop_when is not None:
                parts: list[str] = []
                hit = threading.Event()

                def on_text(chunk: str) -> None:
                    parts.append(chunk)
                    if stop_when("".join(parts)):
                        hit.set()

                def stop() -> bool:
                    return hit.is_set() or should_stop()
            else:
                stop = should_stop
            out = model.generate(prompt, max_new_tokens=n, should_stop=stop, on_text=on_text)
            return Generated(out.text, out.n_tokens, out.finish_reason, time.perf_counter() - start)

        return self._call(run, timeout)

    def generate_many(
        self,
        prompts: Sequence[ChatPrompt],
        *,
        max_new_tokens: int | None = None,
        timeout: float | None = None,
        stop_when: Callable[[str], bool] | None = None,
    ) -> list[Generated] | Fallback:
        """Greedy answers to several prompts, generated together in one padded batch (one queue slot);
        each answer ends early once `stop_when(its text so far)` holds."""
        n = self._tokens(max_new_tokens)
        if not prompts:
            return []

        def run(model: TextModel, should_stop: Callable[[], bool]) -> list[Generated]:
            start = time.perf_counter()
            outs: list[Completion] = model.generate_batch(
                prompts, max_new_tokens=n, should_stop=should_stop, stop_when=stop_when
            )
            seconds = time.perf_counter() - start
            return [Generated(o.text, o.n_tokens, o.finish_reason, seconds) for o in outs]

        return self._call(run, timeout)

    def stream(
        self, prompt: ChatPrompt, *, max_new_tokens: int | None = None, timeout: float | None = None
    ) -> TextStream | Fallback:
        """Start generating and return at once; iterate the stream for text chunks as they come."""
        n = self._tokens(max_new_tokens)
        fallback = self._precheck()
        if fallback is not None:
            self._count(fallback)
            return fallback
        budget = timeout if timeout is not None else self.config.timeout_seconds
        job = _Job(lambda m, s: None, time.monotonic() + budget)
        stream = TextStream(job.deadline, job.cancel)

        def run(model: TextModel, should_stop: Callable[[], bool]) -> Completion:
            out = model.generate(prompt, max_new_tokens=n, should_stop=should_stop, on_text=stream._put)
            reason = "cancelled" if job.cancel.is_set() else out.finish_reason
            with self._stats_lock:
                self.tokens_generated += out.n_tokens
            stream._finish(reason, out.n_tokens)
            return out

        job.run = run
        job.on_abandon = lambda fb: stream._finish(fb.reason, 0, fb.detail)
        fallback = self._submit(job, budget)
        if fallback is not None:
            self._count(fallback)
            return fallback
        self._count("ok", 0)  # a started stream; its tokens are counted when it ends
        return stream

    def score_options(
        self, prompts: Sequence[ChatPrompt], options: Sequence[str], *, timeout: float | None = None
    ) -> Scored | Fallback:
        """Log-probability of each option as the answer to each prompt (one batched forward pass)."""
        if len(options) < 2:
            raise ValidationError(f"score_options needs at least two options, got {list(options)}")
        if not prompts:
            return Scored([], 0.0)

        def run(model: TextModel, should_stop: Callable[[], bool]) -> Scored:
            start = time.perf_counter()
            return Scored(model.score_options(prompts, options), time.perf_counter() - start)

        return self._call(run, timeout)

    def close(self) -> None:
        """Stop the worker after the job it is running (waiting jobs get Fallback("unavailable"))."""
        self._closed = True
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                self._abandon(job, Fallback("unavailable", "the runtime is closed"))
        if self._worker is not None and self._worker.is_alive():
            self._queue.put(None)


_runtime: LLMRuntime | None = None
_runtime_lock = threading.Lock()


def get_runtime() -> LLMRuntime:
    """The process-wide runtime, configured from the settings on first use (the model loads lazily)."""
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            _runtime = LLMRuntime(LLMConfig.from_settings())
        return _runtime


def reset_runtime() -> None:
    """Close and forget the process-wide runtime (tests, or after changing the settings)."""
    global _runtime
    with _runtime_lock:
        if _runtime is not None:
            _runtime.close()
        _runtime = None
