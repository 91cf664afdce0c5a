"""The hostile-input corpus (tests/api/hostile_corpus.py) over real HTTP: a uvicorn server on a loopback
port serving the real app, the tiny manager and the real test Redis.

Every refused request gets its 4xx with the common error body naming the problem (never a 5xx, never a
traceback); odd but legitimate messages are processed, stored verbatim, answered with catalog items only,
and come back as JSON that a browser will not sniff as HTML (the chat page renders text, never markup).
Emoji and non-Latin titles are found in messages and in item search.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
import redis
import scipy.sparse as sp
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.deps import get_manager
from api.main import STATIC_DIR, create_app
from dialogue.manager import DialogueManager
from dialogue.store import StateStore
from dialogue.understanding import RuleExtractor
from recsys.catalog.train_data import item_attributes
from recsys.catalog.types import Catalog, CatalogItem
from recsys.models.itemknn import ItemKNN
from recsys.models.types import TrainData
from recsys.settings import Settings
from tests.api.hostile_corpus import HANDLED_MESSAGES, PROMPT_INJECTIONS, REFUSED, Handled, Refused
from tests.api.synthetic import MOVIES
from tests.redis_fixtures import RedisServer, free_tcp_port

MOVIE_YEARS = [(title, year) for title, year, *_ in MOVIES]

# Non-Latin and emoji titles: two taste clusters of four (ids 0-3 and 4-7).
WORLD_TITLES = [
    ("千と千尋の神隠し", 2001, ("animation", "fantasy")),
    ("Амели", 2001, ("comedy", "romance")),
    ("Léon", 1994, ("crime", "drama")),
    ("🎃 Pumpkin Night", 2020, ("horror",)),
    ("Город грехов", 2005, ("crime", "thriller")),
    ("الرسالة", 1976, ("drama", "history")),
    ("올드보이", 2003, ("thriller", "mystery")),
    ("Ζορμπάς", 1964, ("drama",)),
]


def world_manager(store: StateStore) -> DialogueManager:
    catalog = Catalog(
        [
            CatalogItem(item_id=i, title=t, year=y, genres=g, popularity=float(50 - i))
            for i, (t, y, g) in enumerate(WORLD_TITLES)
        ]
    )
    rows, cols = [], []
    for user in range(24):
        cluster = range(0, 4) if user % 2 == 0 else range(4, 8)
        for item in np.random.default_rng(user).choice(list(cluster), size=3, replace=False):
            rows.append(user)
            cols.append(int(item))
    attributes, names = item_attributes(catalog)
    data = TrainData(
        sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(24, len(catalog))),
        item_ids=np.arange(len(catalog)),
        user_ids=np.arange(24),
        item_attributes=attributes,
        attribute_names=names,
    )
    recommender = ItemKNN().fit(data)
    return DialogueManager(recommender, RuleExtractor(catalog, use_embeddings=False), store, catalog)


def serve(manager: DialogueManager) -> Iterator[str]:
    """A uvicorn server in a thread, serving the real app with `manager`; yields its URL."""
    app = create_app(Settings(rate_limit=0, api_warm_up=False))
    app.dependency_overrides[get_manager] = lambda: manager
    port = free_tcp_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def live(api_manager: DialogueManager) -> Iterator[httpx.Client]:
    for url in serve(api_manager):
        with httpx.Client(base_url=url, timeout=30) as client:
            yield client


@pytest.fixture
def sid(live: httpx.Client, redis_client: object) -> str:
    return live.post("/v1/sessions", json={}).json()["session_id"]


def assert_clean_error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    assert error["request_id"] == response.headers["x-request-id"]
    assert len(response.content) < 5000  # the input is not echoed back in full
    for leak in ("Traceback", 'File "', "site-packages", "pydantic", "UserUttered", "redis"):
        assert leak not in response.text
    return error["message"]


@pytest.mark.parametrize("case", REFUSED, ids=lambda c: c.name)
def test_refused_with_a_clear_4xx(live: httpx.Client, sid: str, case: Refused) -> None:
    path = case.path.replace("{sid}", sid)
    response = live.request(
        case.method, path, json=case.json, content=case.content, headers=case.headers, params=case.params
    )
    message = assert_clean_error(response, case.status, case.code)
    for word in case.words:
        assert word in message, message
    if "{sid}" in case.path:  # a refused message or feedback left no trace in the session
        state = live.get(f"/v1/sessions/{sid}").json()["state"]
        assert state["turn"] == 0 and state["items"]["liked"]["count"] == 0
    if case.path == "/v1/sessions/{sid}/messages":  # the same answer when streamed; no turn number used up
        stream = live.request(
            case.method, path + "/stream", json=case.json, content=case.content, headers=case.headers
        )
        assert assert_clean_error(stream, case.status, case.code) == message
        assert live.post(path, json={"text": "hello"}).json()["turn"] == 1


def test_refused_requests_did_not_write_redis(live: httpx.Client, redis_client: redis.Redis) -> None:
    for case in REFUSED:
        if case.path.startswith("/v1/users"):
            live.request(case.method, case.path, json=case.json, content=case.content, headers=case.headers)
    assert redis_client.get("crs:{u:eve}:profile") is None


@pytest.mark.parametrize("case", HANDLED_MESSAGES, ids=lambda c: c.name)
def test_odd_messages_are_handled_safely(live: httpx.Client, sid: str, case: Handled) -> None:
    r = live.post(f"/v1/sessions/{sid}/messages", json={"text": case.text})
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["x-content-type-options"] == "nosniff"
    turn = r.json()
    assert turn["turn"] == 1
    assert all(0 <= rec["item_id"] < 16 for rec in turn["recommendations"])
    assert "<script" not in turn["reply"] and "<img" not in turn["reply"]  # the reply is the system's words
    transcript = live.get(f"/v1/sessions/{sid}").json()["transcript"]
    assert transcript[-1]["user"] == case.text  # stored verbatim, returned as a JSON string


def test_what_the_odd_messages_meant(live: httpx.Client) -> None:
    """The titles inside markup, SQL and emoji are still understood; nothing else is invented."""
    texts = {c.name: c.text for c in HANDLED_MESSAGES}
    for name, title, polarity in (
        ("script tag", "The Matrix", "liked"),
        ("SQL", "Alien", "liked"),
        ("emoji", "The Matrix", "neutral"),  # "I ❤️ X": the heart is not read as a verdict
        ("Redis commands", "Blade Runner", "liked"),
    ):
        sid = live.post("/v1/sessions", json={}).json()["session_id"]
        turn = live.post(f"/v1/sessions/{sid}/messages", json={"text": texts[name]}).json()
        items = [(m["title"], m["polarity"]) for m in turn["understanding"]["items"]]
        assert items == [(f"{title} ({dict(MOVIE_YEARS)[title]})", polarity)], (name, turn["understanding"])


@pytest.mark.parametrize("text", PROMPT_INJECTIONS)
def test_prompt_injection_recommends_only_catalog_items(live: httpx.Client, text: str) -> None:
    sid = live.post("/v1/sessions", json={}).json()["session_id"]
    first = live.post(f"/v1/sessions/{sid}/messages", json={"text": text}).json()
    more = live.post(f"/v1/sessions/{sid}/messages", json={"text": "recommend something"}).json()
    titles = {title for title, _ in MOVIE_YEARS}
    for turn in (first, more):
        for rec in turn["recommendations"]:
            assert 0 <= rec["item_id"] < 16 and rec["title"] in titles
        for word in ("Hacked", "Pwned", "99999", "system prompt", "developer mode"):
            assert word not in turn["reply"]
    assert more["recommendations"], "the session still works after the injection"


def test_stream_frames_cannot_be_forged_by_the_message(live: httpx.Client, sid: str) -> None:
    text = 'I loved The Matrix\n\nevent: done\ndata: {"turn": 999}\n\n'
    r = live.post(f"/v1/sessions/{sid}/messages/stream", json={"text": text})
    assert r.status_code == 200
    events = re.findall(r"^event: (\w+)$", r.text, flags=re.MULTILINE)
    assert events.count("done") == 1 and events[-1] == "done"
    assert '"turn": 999' not in r.text.split("event: done")[0]


def test_search_with_hostile_queries(live: httpx.Client) -> None:
    for q in ("<script>alert(1)</script>", "' OR 1=1 --", "(a+)+$[.*", "😀🎬", "黑客帝国", "%00", "\u202e"):
        r = live.get("/v1/items", params={"q": q})
        assert r.status_code == 200, q
        assert r.json()["query"] == q and r.headers["x-content-type-options"] == "nosniff"
    r = live.get("/v1/items?q=%FF%FE%00")  # invalid UTF-8 in the query string
    assert r.status_code == 200 and r.json()["total"] == 0


def test_html_in_a_profile_round_trips_as_text(live: httpx.Client, redis_client: redis.Redis) -> None:
    markup = "<img src=x onerror=alert(1)><script>steal()</script>"
    r = live.put("/v1/users/mallory/profile", json={"profile_text": markup})
    assert r.status_code == 200 and r.json()["profile_text"] == markup
    assert live.get("/v1/users/mallory/profile").json()["profile_text"] == markup


def test_the_chat_page_renders_text_never_markup(live: httpx.Client) -> None:
    page = live.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    script = (STATIC_DIR / "app.js").read_text(encoding="utf-8")
    assert "textContent" in script
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in script, f"app.js uses {sink}: user text could become markup"


FIELDS = ["text", "item_id", "kind", "liked", "disliked", "k", "user_id", "profile_text", "liked_items"]
FIELDS += ["liked_attributes", "disliked_attributes", "version", "seen_items"]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(["like", "genre:comedy", "I loved The Matrix", "alice", "<b>x</b>", "\u0000"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=12,
)
ENDPOINTS = [
    ("POST", "/v1/sessions"),
    ("POST", "/v1/sessions/{sid}/messages"),
    ("POST", "/v1/sessions/{sid}/feedback"),
    ("POST", "/v1/recommendations"),
    ("PATCH", "/v1/users/fuzz/profile"),
    ("PUT", "/v1/users/fuzz/profile"),
]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(endpoint=st.sampled_from(ENDPOINTS), body=json_values)
def test_random_json_bodies_never_get_a_5xx(
    live: httpx.Client, sid: str, endpoint: tuple, body: object
) -> None:
    method, path = endpoint
    r = live.request(method, path.replace("{sid}", sid), json=body)
    assert r.status_code in (200, 201, 404, 409, 413, 422), (r.status_code, r.text[:300])
    if r.status_code >= 400:
        error = r.json()["error"]
        assert error["code"] and error["message"] and "Traceback" not in r.text


def raw_http(base_url: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes (no client library fixing them up) and read the response: status, headers, body."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            if sep and length and len(body) >= int(length.group(1)):
                break
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers, body


def _chunked(sid: str, pieces: list[bytes]) -> bytes:
    head = f"POST /v1/sessions/{sid}/messages HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in pieces)
    return head.encode() + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunks + b"0\r\n\r\n"


HOST = b"Host: t\r\nConnection: close\r\n"
MALFORMED_HTTP = {
    "invalid UTF-8 in the path": b"GET /v1/sessions/\xff\xfe HTTP/1.1\r\n" + HOST + b"\r\n",
    "raw non-ASCII in the path": b"GET /v1/items/\xc3\xa9 HTTP/1.1\r\n" + HOST + b"\r\n",
    "NUL in the path": b"GET /v1/items/\x00 HTTP/1.1\r\n" + HOST + b"\r\n",
    "NUL in a header": b"GET /healthz HTTP/1.1\r\n" + HOST + b"X-A: a\x00b\r\n\r\n",
    "negative Content-Length": b"POST /v1/sessions HTTP/1.1\r\n" + HOST + b"Content-Length: -1\r\n\r\n{}",
    "binary method": b"G\xffT / HTTP/1.1\r\n" + HOST + b"\r\n",
}


@pytest.mark.parametrize("name", MALFORMED_HTTP)
def test_malformed_http_is_400_from_the_server(live: httpx.Client, name: str) -> None:
    status, _, body = raw_http(str(live.base_url), MALFORMED_HTTP[name])
    assert status == 400 and body == b"Invalid HTTP request received."  # uvicorn's parser refuses it
    assert live.get("/healthz").status_code == 200  # and goes on serving


def test_http09_request_line_is_refused_or_served_as_a_plain_get(live: httpx.Client) -> None:
    # h11 refuses "GET /" without a version (400); httptools (llhttp, uvicorn's parser when installed)
    # reads it as HTTP/0.9 and serves the page like any GET /: either way nothing breaks
    status, _, body = raw_http(str(live.base_url), b"GET /\r\n\r\n")
    assert (status, body) == (400, b"Invalid HTTP request received.") or (status == 200 and b"<html" in body)
    assert live.get("/healthz").status_code == 200


def test_chunked_megabyte_is_413_while_reading(live: httpx.Client, sid: str) -> None:
    body = [b'{"text":"'] + [b"a" * 65536] * 16 + [b'"}']
    status, headers, raw = raw_http(str(live.base_url), _chunked(sid, body))
    assert status == 413 and headers["content-type"] == "application/json"
    assert b"payload_too_large" in raw
    status, _, raw = raw_http(str(live.base_url), _chunked(sid, [b'{"text":', b'"I loved', b' Alien"}']))
    assert status == 200 and b'"turn":1' in raw  # a small chunked body is fine


def test_invalid_request_id_header_is_replaced(live: httpx.Client) -> None:
    request = b"GET /v1/items?limit=1 HTTP/1.1\r\n" + HOST + b"X-Request-ID: \xff\xfe<script>\r\n\r\n"
    status, headers, _ = raw_http(str(live.base_url), request)
    assert status == 200 and re.fullmatch(r"[0-9a-f]{32}", headers["x-request-id"])


@pytest.fixture(scope="module")
def world(redis_server: RedisServer) -> Iterator[httpx.Client]:
    store = StateStore(redis_server.client(), ttl_seconds=600)
    for url in serve(world_manager(store)):
        with httpx.Client(base_url=url, timeout=30) as client:
            yield client
    store.close()


@pytest.mark.parametrize(
    ("message", "item_id"),
    [
        ("I loved 千と千尋の神隠し", 0),
        ("I loved «Амели» so much", 1),
        ("I really liked Léon", 2),
        ("i liked leon", 2),
        ("🎃 Pumpkin Night was great", 3),
        ("I loved Город грехов", 4),
        ("I liked الرسالة", 5),
        ("올드보이 was amazing", 6),
    ],
)
def test_non_latin_and_emoji_titles_in_messages(world: httpx.Client, message: str, item_id: int) -> None:
    sid = world.post("/v1/sessions", json={}).json()["session_id"]
    turn = world.post(f"/v1/sessions/{sid}/messages", json={"text": message})
    assert turn.status_code == 200, turn.text
    mentioned = [m["item_id"] for m in turn.json()["understanding"]["items"]]
    assert mentioned == [item_id], turn.json()["understanding"]
    cluster = set(range(0, 4)) if item_id < 4 else set(range(4, 8))
    recs = [r["item_id"] for r in turn.json()["recommendations"]]
    assert set(recs[:3]) == cluster - {item_id}  # the movie's neighbours first


@pytest.mark.parametrize(
    ("query", "item_id"),
    [("千と千尋の神隠し", 0), ("амели", 1), ("Leon", 2), ("pumpkin night", 3), ("город", 4), ("올드보이", 6)],
)
def test_non_latin_and_emoji_titles_in_search(world: httpx.Client, query: str, item_id: int) -> None:
    r = world.get("/v1/items", params={"q": query})
    assert r.status_code == 200
    items = r.json()["items"]
    assert items and items[0]["item_id"] == item_id and items[0]["title"] == WORLD_TITLES[item_id][0]
