"""Key layout, id checks and the mapping of Redis errors (no server needed)."""

from __future__ import annotations

import pytest
import redis
from redis.crc import key_slot

from dialogue.store.connection import unavailable_as_error
from dialogue.store.keys import Keys, check_session_id, check_user_id
from recsys.errors import ConfigError, SessionNotFoundError, StoreUnavailableError, ValidationError


def test_session_and_user_keys_share_their_hash_tag() -> None:
    keys = Keys()
    assert keys.session("abc", "events") == "crs:{s:abc}:events"
    assert keys.user("alice@x.org", "profile") == "crs:{u:alice@x.org}:profile"
    assert len({key_slot(k.encode()) for k in keys.session_keys("abc")}) == 1
    assert len({key_slot(k.encode()) for k in keys.user_keys("alice")}) == 1
    assert [k.rsplit(":", 1)[1] for k in keys.session_keys("abc")] == [
        "meta",
        "events",
        "ids",
        "turn",
        "snapshot",
    ]


def test_prefix_is_configurable_but_brace_free() -> None:
    assert Keys("app1:").session("x", "meta") == "app1:{s:x}:meta"
    assert Keys("a*b:").pattern() == "a\\*b:*"
    for bad in ("", "crs{", "x}:"):
        with pytest.raises(ConfigError, match="prefix"):
            Keys(bad)


def test_ids_cannot_escape_their_hash_tag() -> None:
    assert check_user_id("alice.b-c_d@e:f") == "alice.b-c_d@e:f"
    for bad in ("a}", "{a", "a b", "", "é", "x" * 129, None):
        with pytest.raises(ValidationError):
            check_user_id(bad)  # type: ignore[arg-type]
        with pytest.raises(SessionNotFoundError, match="malformed"):
            check_session_id(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "exc",
    [
        redis.ConnectionError("refused"),
        redis.TimeoutError("timed out"),
        redis.BusyLoadingError("loading"),
        redis.ResponseError("LOADING Redis is loading the dataset in memory"),
        redis.ResponseError("MISCONF Redis is configured to save RDB snapshots, but it's unable to persist"),
        redis.ReadOnlyError("READONLY You can't write against a read only replica."),
    ],
)
def test_unavailability_errors_become_store_unavailable(exc: Exception) -> None:
    with (
        pytest.raises(StoreUnavailableError, match=r"unavailable \(doing x\)") as info,
        unavailable_as_error("doing x"),
    ):
        raise exc
    assert info.value.__cause__ is exc


def test_other_redis_errors_pass_through() -> None:
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"), unavailable_as_error("x"):
        raise redis.ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value")
