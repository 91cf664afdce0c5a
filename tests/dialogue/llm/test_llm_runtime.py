"""The runtime with a scripted model: results, typed fallbacks (disabled, busy, timeout, unavailable,
error), cancellation, streaming, bounded lengths."""

from __future__ import annotations

import threading
import time
import types

import pytest

from dialogue.llm.runtime import LLMConfig, LLMRuntime, TextStream, get_runtime, reset_runtime
from dialogue.llm.testing import ScriptedModel
from dialogue.llm.types import ChatPrompt, Fallback, Generated, Scored
from recsys.errors import ConfigError, ValidationError
from recsys.settings import get_settings

PROMPT = ChatPrompt("system", "user")


def runtime(model: ScriptedModel, **config) -> LLMRuntime:
    return LLMRuntime(LLMConfig(model="scripted", **config), model=model)


def test_generate_returns_the_models_answer():
    rt = runtime(ScriptedModel("Inception is a dream heist film."))
    result = rt.generate(PROMPT)
    assert isinstance(result, Generated)
    assert result.text == "Inception is a dream heist film."
    assert result.n_tokens == 6 and result.finish_reason == "stop"
    assert rt.outcomes["ok"] == 1


def test_max_new_tokens_is_capped_by_the_hard_limit():
    rt = runtime(ScriptedModel("w " * 50), max_new_tokens=5, max_new_tokens_limit=8)
    assert rt.generate(PROMPT).n_tokens == 5  # the default
    capped = rt.generate(PROMPT, max_new_tokens=1000)
    assert capped.n_tokens == 8 and capped.finish_reason == "length"
    with pytest.raises(ValidationError, match="max_new_tokens"):
        rt.generate(PROMPT, max_new_tokens=0)


def test_stop_when_ends_generation_early():
    rt = runtime(ScriptedModel("One. Two. Three. Four."))
    result = rt.generate(PROMPT, stop_when=lambda text: text.count(".") >= 2)
    assert result.text == "One. Two." and result.finish_reason == "stopped"


def test_disabled_mode_answers_fallback_without_a_model():
    rt = LLMRuntime(LLMConfig(model="none"))
    assert not rt.enabled and rt.status == "disabled"
    assert rt.generate(PROMPT) == Fallback("disabled")
    assert rt.score_options([PROMPT], ["Yes", "No"]) == Fallback("disabled")
    assert rt.stream(PROMPT) == Fallback("disabled")
    assert rt.generate_many([PROMPT]) == Fallback("disabled")
    assert rt.load() is None


def test_timeout_returns_fallback_and_cancels_the_generation():
    model = ScriptedModel("word " * 200, seconds_per_token=0.02)
    rt = runtime(model, max_new_tokens=200)
    start = time.perf_counter()
    result = rt.generate(PROMPT, timeout=0.2)
    assert isinstance(result, Fallback) and result.reason == "timeout"
    assert time.perf_counter() - start < 1.0
    # The cancelled generation stops within a token, so the worker is free for the next call at once.
    model._respond = lambda _p: "done."
    follow_up = rt.generate(PROMPT, timeout=1.0)
    assert isinstance(follow_up, Generated) and follow_up.text == "done."
    assert rt.outcomes["timeout"] == 1


def test_full_queue_answers_busy_immediately():
    model = ScriptedModel("slow " * 100, seconds_per_token=0.01)
    rt = runtime(model, queue_size=1, max_new_tokens=100)
    results: list = []
    first = threading.Thread(target=lambda: results.append(rt.generate(PROMPT, timeout=5)))
    first.start()
    assert model.started.wait(2)  # the worker is busy with the first call
    second = threading.Thread(target=lambda: results.append(rt.generate(PROMPT, timeout=5)))
    second.start()
    deadline = time.monotonic() + 2
    while rt._queue.qsize() < 1 and time.monotonic() < deadline:  # the second call waits in the queue
        time.sleep(0.005)
    start = time.perf_counter()
    third = rt.generate(PROMPT, timeout=5)
    assert third == Fallback("busy", "1 calls already waiting")
    assert time.perf_counter() - start < 0.1
    first.join()
    second.join()
    assert all(isinstance(r, Generated) for r in results) and len(results) == 2


def test_a_call_whose_wait_would_use_up_its_budget_is_busy_at_once():
    model = ScriptedModel("w " * 10, seconds_per_token=0.02)  # a call runs ~0.2 s
    rt = runtime(model, max_new_tokens=10)
    assert rt.expected_wait() == 0.0  # no call has finished yet: nothing to go by, every call is admitted
    assert isinstance(rt.generate(PROMPT, timeout=5), Generated)
    assert rt.service_seconds is not None and 0.15 < rt.service_seconds < 1.0
    model.started.clear()
    running: list = []
    first = threading.Thread(target=lambda: running.append(rt.generate(PROMPT, timeout=5)))
    first.start()
    assert model.started.wait(2)
    assert rt.expected_wait() == pytest.approx(rt.service_seconds)  # one call ahead
    start = time.perf_counter()
    refused = rt.generate(PROMPT, timeout=0.1)  # ~0.2 s of work ahead of a 0.1 s budget
    assert isinstance(refused, Fallback) and refused.reason == "busy"
    assert "over the 0.1 s budget" in (refused.detail or "")
    assert time.perf_counter() - start < 0.05  # refused at once, not after waiting out its budget
    admitted = rt.generate(PROMPT, timeout=5)  # a budget that covers the wait: queued, answered
    first.join()
    assert isinstance(admitted, Generated) and isinstance(running[0], Generated)
    assert rt.outcomes["busy"] == 1


def test_loader_failure_is_reported_once_then_fallback_unavailable():
    calls = []

    def broken_loader():
        calls.append(1)
        raise ConfigError("llm_model='/nope' is neither ...")

    rt = LLMRuntime(LLMConfig(model="/nope"), loader=broken_loader)
    first = rt.generate(PROMPT)
    assert isinstance(first, Fallback) and first.reason == "unavailable" and "/nope" in first.detail
    assert rt.status == "failed"
    assert rt.generate(PROMPT).reason == "unavailable"
    assert len(calls) == 1  # not retried on every call
    with pytest.raises(ConfigError):
        rt.warm_up()


def test_model_exception_becomes_error_fallback():
    class Exploding(ScriptedModel):
        def generate(self, *args, **kwargs):
            raise RuntimeError("out of memory")

    rt = runtime(Exploding())
    result = rt.generate(PROMPT)
    assert result == Fallback("error", "RuntimeError: out of memory")


def test_lazy_loading_happens_once_under_concurrent_calls():
    loads = []
    model = ScriptedModel("ok.")

    def loader():
        loads.append(1)
        time.sleep(0.05)
        return model

    rt = LLMRuntime(LLMConfig(model="scripted"), loader=loader)
    threads = [threading.Thread(target=rt.load) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(loads) == 1 and rt.status == "ready"
    assert rt.generate(PROMPT).text == "ok."


def test_stream_yields_chunks_in_order():
    rt = runtime(ScriptedModel("You will love this film."))
    stream = rt.stream(PROMPT)
    assert isinstance(stream, TextStream)
    chunks = list(stream)
    assert chunks == ["You", " will", " love", " this", " film."]
    assert stream.text == "You will love this film." and stream.finish_reason == "stop"
    assert stream.n_tokens == 5 and stream.first_chunk_seconds is not None


def test_stream_deadline_ends_iteration_and_cancels():
    model = ScriptedModel("tick " * 100, seconds_per_token=0.05)
    rt = runtime(model, max_new_tokens=100)
    stream = rt.stream(PROMPT, timeout=0.3)
    chunks = list(stream)
    assert stream.finish_reason == "timeout"
    assert 1 <= len(chunks) < 20
    model._respond = lambda _p: "next."
    assert rt.generate(PROMPT, timeout=2).text == "next."  # the worker was released


def test_stream_close_cancels_generation():
    model = ScriptedModel("tick " * 100, seconds_per_token=0.02)
    rt = runtime(model, max_new_tokens=100)
    stream = rt.stream(PROMPT, timeout=5)
    first = next(stream)
    stream.close()
    assert first == "tick" and stream.finish_reason == "cancelled"
    assert list(stream) == []
    model._respond = lambda _p: "free."
    assert rt.generate(PROMPT, timeout=2).text == "free."


def test_generate_many_uses_one_batched_call():
    model = ScriptedModel(lambda p: f"answer to {p.user}.")
    rt = runtime(model)
    results = rt.generate_many([ChatPrompt("s", "a"), ChatPrompt("s", "b")])
    assert [r.text for r in results] == ["answer to a.", "answer to b."]
    assert model.calls == ["generate_batch"]
    assert rt.generate_many([]) == []


def test_score_options_returns_log_probabilities():
    model = ScriptedModel(score=lambda p, o: -0.1 if o == "Yes" else -2.0)
    rt = runtime(model)
    result = rt.score_options([PROMPT, PROMPT], ["Yes", "No"])
    assert isinstance(result, Scored) and result.logprobs == [[-0.1, -2.0], [-0.1, -2.0]]
    with pytest.raises(ValidationError, match="two options"):
        rt.score_options([PROMPT], ["Yes"])


def test_outcomes_and_tokens_are_tallied_for_metrics():
    rt = runtime(ScriptedModel("one two three."), queue_size=1)
    rt.generate(PROMPT)
    rt.generate_many([PROMPT, PROMPT])
    list(rt.stream(PROMPT))
    rt.score_options([PROMPT], ["Yes", "No"])
    rt.generate(PROMPT, timeout=1e-9)
    assert rt.outcomes == {"ok": 4, "timeout": 1}  # "ok" or a fallback reason, as api.metrics expects
    assert rt.tokens_generated == 3 + 6 + 3


def test_closed_runtime_answers_unavailable():
    rt = runtime(ScriptedModel("x."))
    assert rt.generate(PROMPT).text == "x."
    rt.close()
    assert rt.generate(PROMPT).reason == "unavailable"


def test_config_validation_and_settings(monkeypatch):
    with pytest.raises(ValidationError, match="queue_size"):
        LLMConfig(queue_size=0)
    with pytest.raises(ValidationError, match="max_new_tokens"):
        LLMConfig(max_new_tokens=500)
    monkeypatch.setenv("CRS_LLM_MODEL", "none")
    get_settings.cache_clear()
    config = LLMConfig.from_settings()
    assert config.disabled and config.cache_dir == get_settings().artifacts_dir / "llm"
    reset_runtime()
    try:
        assert get_runtime() is get_runtime()
        assert get_runtime().generate(PROMPT) == Fallback("disabled")
    finally:
        reset_runtime()


def test_a_turns_llm_calls_get_the_turn_budget(monkeypatch):
    """`llm_turn_budget_seconds` reaches the explainer and the profiler that the system builds."""
    from dialogue.llm.turn import build_turn_llm
    from recsys.settings import Settings

    assert Settings().llm_turn_budget_seconds == 4.0
    with pytest.raises(ValueError, match="llm_turn_budget_seconds"):
        Settings(llm_turn_budget_seconds=0)
    rt = runtime(ScriptedModel("ok"))
    index = types.SimpleNamespace(catalog=())  # neither reads more of the index when built
    explainer, profiler = build_turn_llm(index, rt, timeout=2.5)  # type: ignore[arg-type]
    assert explainer.timeout == 2.5 and profiler.timeout == 2.5
