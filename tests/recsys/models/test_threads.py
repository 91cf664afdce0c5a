"""single_thread_blas: every BLAS at one thread inside the block, the previous limits restored after,
nested and concurrent blocks sharing one limit; and the profile scoring paths that run under it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from recsys.models.base import profiles_to_csr
from recsys.models.implicit_cf import ALS, rowwise_scores
from recsys.models.threads import blas_libraries, blas_thread_counts, single_thread_blas
from recsys.models.types import Profile
from tests.recsys.models.contract import make_contract_data


def _set_all(libs: list[Any], threads: list[int]) -> None:
    """Set each BLAS's thread count, then release threadpoolctl's per-thread control of it (as a
    finished `threadpool_limits` block does), so any thread may change it next."""
    for lib, n in zip(libs, threads, strict=True):
        lib.set_num_threads(n)
        clear = getattr(type(lib), "clear_controlling_thread", None)
        if clear is not None:
            clear()


@pytest.fixture
def two_threads() -> Iterator[None]:
    """Every BLAS at 2 threads for the test (so a limit to 1 is visible)."""
    import implicit.cpu.als  # noqa: F401  (loads scipy's BLAS too, which implicit's ALS solver calls)

    libs = blas_libraries()
    before = [lib.num_threads for lib in libs]
    _set_all(libs, [2] * len(libs))
    try:
        if not before or set(blas_thread_counts()) != {2}:
            pytest.skip("no BLAS whose thread count can be set to 2 here")
        yield
    finally:
        _set_all(libs, before)


def test_limit_inside_and_restored_after(two_threads: None) -> None:
    with single_thread_blas():
        assert set(blas_thread_counts()) == {1}
        with single_thread_blas():  # nested: still one thread, and leaving it keeps the outer limit
            assert set(blas_thread_counts()) == {1}
        assert set(blas_thread_counts()) == {1}
    assert set(blas_thread_counts()) == {2}


def test_limit_restored_after_an_exception(two_threads: None) -> None:
    with pytest.raises(RuntimeError, match="boom"), single_thread_blas():
        raise RuntimeError("boom")
    assert set(blas_thread_counts()) == {2}


def test_overlapping_blocks_in_two_threads_restore_once_both_left(two_threads: None) -> None:
    a_inside, b_inside, a_left = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, list[int]] = {}

    def first() -> None:
        with single_thread_blas():
            a_inside.set()
            b_inside.wait(5)
        a_left.set()

    def second() -> None:
        a_inside.wait(5)
        with single_thread_blas():
            b_inside.set()
            a_left.wait(5)
            seen["after_a_left"] = blas_thread_counts()  # A left first: B's block must still be limited

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert set(seen["after_a_left"]) == {1}
    assert set(blas_thread_counts()) == {2}


def test_als_fold_in_runs_single_threaded_with_the_same_scores(
    two_threads: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    cdata = make_contract_data()
    als = ALS(factors=8, regularization=20.0, iterations=10, random_state=3, num_threads=1).fit(cdata.data)
    profiles = [Profile(liked_items=(0, 3, 5), item_weights=(1.0, 2.0, 1.0)), Profile(liked_items=(7,))]
    # before: implicit's solve called directly, with the BLAS at 2 threads
    rows = profiles_to_csr(profiles, cdata.data.n_items, disliked_weight=als.disliked_weight)
    before = rowwise_scores(als.model_.recalculate_user(np.arange(2), rows), als.item_factors)

    solve = als.model_.recalculate_user
    threads_seen: list[list[int]] = []

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        threads_seen.append(blas_thread_counts())
        return solve(*args, **kwargs)

    monkeypatch.setattr(als.model_, "recalculate_user", spy)
    after = als.score_profiles(profiles)
    assert threads_seen and all(set(t) == {1} for t in threads_seen)
    np.testing.assert_allclose(after, before, rtol=1e-6, atol=1e-7)
    assert set(blas_thread_counts()) == {2}  # restored after scoring
