"""API keys (401), rate limits in Redis (429 + Retry-After), CORS."""

from __future__ import annotations

import time

import pytest
import redis
from fastapi.testclient import TestClient
from redis.backoff import NoBackoff
from redis.retry import Retry

from api.security import Principal, RateLimiter
from recsys.settings import Settings, hash_api_key

KEY_A, KEY_B = "key-a-0123456789", "key-b-9876543210"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def locked(make_client) -> TestClient:
    return make_client(api_keys=",".join(hash_api_key(k) for k in (KEY_A, KEY_B)))


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "missing API key"),
        (bearer("wrong-key"), "unknown API key"),
        ({"Authorization": f"Basic {KEY_A}"}, "malformed Authorization"),
        ({"Authorization": "Bearer "}, "malformed Authorization"),
    ],
)
def test_keys_required_when_configured(locked: TestClient, headers: dict, message: str) -> None:
    for method, path in (("POST", "/v1/sessions"), ("GET", "/v1/items"), ("GET", "/v1/users/alice/profile")):
        r = locked.request(method, path, headers=headers, json={} if method == "POST" else None)
        assert r.status_code == 401, r.text
        assert r.headers["WWW-Authenticate"] == "Bearer"
        assert message in r.json()["error"]["message"]


def test_valid_keys_pass_and_probes_stay_open(locked: TestClient) -> None:
    assert locked.post("/v1/sessions", json={}, headers=bearer(KEY_A)).status_code == 201
    assert locked.get("/v1/items/0", headers=bearer(KEY_B)).status_code == 200
    for path in ("/healthz", "/readyz", "/metrics", "/", "/openapi.json"):
        assert locked.get(path).status_code == 200, path


def test_open_api_without_keys(client: TestClient) -> None:
    assert client.post("/v1/sessions", json={}).status_code == 201


def test_settings_refuse_plain_keys_in_place_of_hashes() -> None:
    with pytest.raises(ValueError, match="SHA-256 hex digests"):
        Settings(api_keys="my-secret-key")
    assert Settings(api_keys=f" {hash_api_key('k').upper()} , ").api_keys == (hash_api_key("k"),)


def test_api_settings_come_from_the_one_settings_class(
    monkeypatch: pytest.MonkeyPatch, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    """CRS_ variables (comma lists included) and the settings file reach `get_settings()`; the env wins."""
    from api.settings import main
    from recsys.settings import get_settings

    settings_file = tmp_path / "crs.toml"
    settings_file.write_text('rate_limit = 7\ncors_origins = ["http://a.example"]\nmax_text_chars = 50\n')
    monkeypatch.setenv("CRS_SETTINGS_FILE", str(settings_file))
    monkeypatch.setenv("CRS_API_KEYS", f"{hash_api_key(KEY_A)}, {hash_api_key(KEY_B).upper()}")
    monkeypatch.setenv("CRS_MAX_TEXT_CHARS", "80")
    get_settings.cache_clear()
    settings = get_settings()
    assert settings.api_keys == (hash_api_key(KEY_A), hash_api_key(KEY_B))
    assert settings.auth_required
    assert settings.rate_limit == 7 and settings.cors_origins == ("http://a.example",)
    assert settings.max_text_chars == 80  # environment over file
    assert not Settings(api_keys="").auth_required
    assert main(["secret"]) == 0 and capsys.readouterr().out.strip() == hash_api_key("secret")
    assert main([]) == 2


def test_rate_limit_429_with_retry_after_per_key(make_client) -> None:
    client = make_client(
        api_keys=",".join(hash_api_key(k) for k in (KEY_A, KEY_B)), rate_limit=3, rate_limit_window_seconds=60
    )
    remaining = []
    for _ in range(3):
        r = client.get("/v1/items/0", headers=bearer(KEY_A))
        assert r.status_code == 200
        remaining.append(int(r.headers["RateLimit-Remaining"]))
        assert r.headers["RateLimit-Limit"] == "3"
    assert remaining == [2, 1, 0]
    refused = client.get("/v1/items/0", headers=bearer(KEY_A))
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    retry = int(refused.headers["Retry-After"])
    # 3 requests in the current window: one more fits once a third of a window has slid past it
    assert 20 <= retry <= 80
    assert client.get("/v1/items/0", headers=bearer(KEY_B)).status_code == 200  # another key, own budget
    assert client.get("/healthz").status_code == 200  # probes are not limited


def test_open_api_limits_per_client_address(make_client) -> None:
    client = make_client(rate_limit=2)
    assert [client.get("/v1/items").status_code for _ in range(3)] == [200, 200, 429]


def test_limiter_counts_are_shared_through_redis(make_client) -> None:
    """Two app instances (two workers) share one budget."""
    one, two = make_client(rate_limit=3), make_client(rate_limit=3)
    codes = [c.get("/v1/items").status_code for c in (one, two, one, two)]
    assert codes == [200, 200, 200, 429]


def _redis_calls(client: redis.Redis) -> dict[str, int]:
    """Commands the Redis server has run so far, by name (its own INFO calls left out)."""
    stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): s["calls"] for name, s in stats.items() if name != "cmdstat_info"}


def _calls_during(client: redis.Redis, action) -> dict[str, int]:
    before = _redis_calls(client)
    action()
    after = _redis_calls(client)
    return {name: n - before.get(name, 0) for name, n in after.items() if n != before.get(name, 0)}


def test_limiter_off_asks_redis_nothing_and_on_one_script_call(make_client, redis_client) -> None:
    """Item reads touch Redis only for the limiter: none with the limit off, one EVALSHA per request with
    it on (the script's SHA is known after the first call: no SCRIPT LOAD, no extra round trip). Redis
    counts the commands the script runs inside too: TIME, HMGET, HSET, PEXPIRE once each per call."""
    off = make_client(rate_limit=0)
    assert off.get("/v1/items/0").status_code == 200
    assert _calls_during(redis_client, lambda: [off.get("/v1/items/0") for _ in range(3)]) == {}
    on = make_client(rate_limit=50)
    assert on.get("/v1/items/0").status_code == 200
    assert _calls_during(redis_client, lambda: [on.get("/v1/items/0") for _ in range(3)]) == {
        "evalsha": 3,
        "time": 3,
        "hmget": 3,
        "hset": 3,
        "pexpire": 3,
    }


def test_sliding_window_frees_up_after_retry_after(redis_client: redis.Redis) -> None:
    limiter = RateLimiter(redis_client, limit=2, window_seconds=1)
    who = Principal("ip", "10.0.0.1")
    assert [limiter.check(who).allowed for _ in range(3)] == [True, True, False]
    refused = limiter.check(who)
    assert not refused.allowed and 1 <= refused.retry_after_seconds <= 2
    time.sleep(refused.retry_after_seconds)
    assert limiter.check(who).allowed
    assert redis_client.pttl("crs:ratelimit:ip:10.0.0.1") > 0  # counters expire by themselves


def test_limiter_lets_requests_through_when_redis_is_down(redis_server_factory) -> None:
    server = redis_server_factory()
    limiter = RateLimiter(server.client(retry=Retry(NoBackoff(), 0)), limit=1, window_seconds=60)
    server.stop()
    decision = limiter.check(Principal("ip", "x"))
    assert decision.allowed and decision.store_error and limiter.failures == 1


def test_cors_only_for_configured_origins(make_client) -> None:
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    allowed = make_client(cors_origins="https://app.example, https://other.example")
    r = allowed.options("/v1/sessions", headers=preflight)
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "https://app.example"
    r = allowed.options("/v1/sessions", headers={**preflight, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers
    closed = make_client()
    r = closed.get("/healthz", headers={"Origin": "https://app.example"})
    assert "access-control-allow-origin" not in r.headers
