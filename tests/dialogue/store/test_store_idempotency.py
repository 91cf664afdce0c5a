"""Idempotency records: key checks, request fingerprints, and the record life cycle on a real Redis."""

from __future__ import annotations

import pytest
import redis

from dialogue.store.idempotency import IdempotencyStore, check_idempotency_key, fingerprint
from recsys.errors import SessionNotFoundError, ValidationError


def test_keys_are_visible_ascii_up_to_255() -> None:
    assert check_idempotency_key("6f1c2a9b-0d6e-4c7f") == "6f1c2a9b-0d6e-4c7f"
    for bad in ("", "a b", "x" * 256, "tab\there", "clé"):
        with pytest.raises(ValidationError, match="Idempotency-Key"):
            check_idempotency_key(bad)


def test_fingerprint_is_canonical_and_tells_requests_apart() -> None:
    a = fingerprint("POST", "/v1/sessions/s/feedback", {"item_id": 3, "kind": "like"})
    assert a == fingerprint("POST", "/v1/sessions/s/feedback", {"kind": "like", "item_id": 3})
    assert a != fingerprint("POST", "/v1/sessions/s/feedback", {"item_id": 4, "kind": "like"})
    assert a != fingerprint("POST", "/v1/sessions/t/feedback", {"item_id": 3, "kind": "like"})


def test_record_life_cycle(redis_client: redis.Redis) -> None:
    store = IdempotencyStore(redis_client, ttl_seconds=60)
    ref = store.ref("s1", "key:abc", "k1")
    assert ref.hash == "crs:{s:s1}:idem" and store.get(ref) is None
    assert store.ref("s1", "key:other", "k1").field != ref.field  # scoped per caller
    store.begin(ref, "fp", log_length=7)
    pending = store.get(ref)
    assert pending is not None and (pending.state, pending.fp, pending.log) == ("pending", "fp", 7)
    store.complete(ref, "fp", 200, {"turn": 3, "reply": "héllo"})
    done = store.get(ref)
    assert done is not None and (done.state, done.status, done.body) == (
        "done",
        200,
        {"turn": 3, "reply": "héllo"},
    )
    assert 0 < redis_client.pttl(ref.hash) <= 60_000
    store.forget(ref)
    assert store.get(ref) is None
    store.complete(ref, "fp", 200, {})
    store.forget_session("s1")
    assert not redis_client.exists(ref.hash)
    with pytest.raises(SessionNotFoundError):
        store.ref("{bad}", "x", "k")
