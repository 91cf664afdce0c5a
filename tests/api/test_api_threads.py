"""How many threads a worker gives its blocking routes (`Settings.blocking_threads`), and that with one
thread concurrent messages to one worker are served one at a time, in order. Also the
start-up's garbage-collector freeze of the loaded models."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from anyio import to_thread
from fastapi.testclient import TestClient

from dialogue.manager import DialogueManager
from recsys.settings import Settings


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"llm_model": "none"}, 2),
        ({"llm_model": "smollm2"}, 8),
        ({"llm_model": "none", "api_threads": 3}, 3),
        ({"llm_model": "smollm2", "api_threads": 1}, 1),
    ],
)
def test_blocking_threads_default_and_override(options: dict[str, object], expected: int) -> None:
    assert Settings(**options).blocking_threads == expected


def test_api_threads_must_be_positive() -> None:
    with pytest.raises(ValueError, match="api_threads"):
        Settings(api_threads=0)


@pytest.mark.parametrize("threads", [1, 4])
def test_the_app_sets_its_thread_limit_at_start_up(
    make_client: Callable[..., TestClient], threads: int
) -> None:
    client = make_client(api_threads=threads)
    assert client.portal is not None
    assert client.portal.call(lambda: to_thread.current_default_thread_limiter().total_tokens) == threads


class _Overlap:
    """Wraps a manager's `turn` to record how many turns run at once."""

    def __init__(self, manager: DialogueManager) -> None:
        self.manager = manager
        self.running = 0
        self.most = 0
        self.lock = threading.Lock()

    def turn(self, session_id: str, text: str):  # type: ignore[no-untyped-def]
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(0.02)  # long enough for the other requests to arrive meanwhile
            return self.manager.turn(session_id, text)
        finally:
            with self.lock:
                self.running -= 1

    def __getattr__(self, name: str) -> object:
        return getattr(self.manager, name)


@pytest.mark.parametrize(("threads", "overlap"), [(1, 1), (4, 2)])
def test_turns_overlap_only_up_to_the_thread_limit(
    make_client: Callable[..., TestClient], api_manager: DialogueManager, threads: int, overlap: int
) -> None:
    wrapped = _Overlap(api_manager)
    client = make_client(manager=wrapped, api_threads=threads)  # type: ignore[arg-type]
    sessions = [client.post("/v1/sessions", json={}).json()["session_id"] for _ in range(6)]

    def talk(sid: str) -> int:
        return client.post(f"/v1/sessions/{sid}/messages", json={"text": "hello"}).status_code

    with ThreadPoolExecutor(6) as pool:
        assert list(pool.map(talk, sessions)) == [200] * 6
    if threads == 1:
        assert wrapped.most == 1
    else:
        assert wrapped.most >= overlap  # several turns did run at once with more threads


def test_the_default_manager_factory_freezes_what_it_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Objects alive after the build are moved out of the garbage collector's generations."""
    import gc

    import dialogue.system
    from api.main import default_manager_factory

    loaded = [[i] for i in range(1000)]  # stands for the models: long-lived container objects
    fake = type("FakeManager", (), {"explainer": None, "loaded": loaded})()
    monkeypatch.setattr(dialogue.system, "build_manager", lambda settings: fake)
    gc.unfreeze()
    try:
        assert default_manager_factory(Settings(llm_model="none"))() is fake
        assert gc.get_freeze_count() >= len(loaded)
    finally:
        gc.unfreeze()
