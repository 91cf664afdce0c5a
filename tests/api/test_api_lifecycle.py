"""The shutdown drain: it waits for the session writes still running, and no longer than its bound."""

from __future__ import annotations

import threading
import time

from api.lifecycle import InFlight


def test_drain_waits_for_running_writes() -> None:
    in_flight = InFlight()
    entered, finished = threading.Event(), []

    def write() -> None:
        with in_flight.track():
            entered.set()
            time.sleep(0.3)
            finished.append(True)

    thread = threading.Thread(target=write)
    thread.start()
    entered.wait(5)
    assert in_flight.count == 1
    assert in_flight.drain(timeout=5) is True and finished == [True]
    assert in_flight.count == 0
    thread.join()


def test_drain_is_bounded() -> None:
    in_flight = InFlight()
    with in_flight.track():
        start = time.monotonic()
        assert in_flight.drain(timeout=0.2) is False
        assert 0.2 <= time.monotonic() - start < 1
    assert in_flight.drain(timeout=0) is True  # nothing running: at once
