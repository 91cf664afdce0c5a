"""The streamed turn: Server-Sent Events framing, order of events, and agreement with the JSON turn."""

from __future__ import annotations

import json
from dataclasses import dataclass

from fastapi.testclient import TestClient

from api.turns import reply_chunks, sse_event


@dataclass
class Event:
    id: str | None
    event: str
    data: str


def parse_sse(lines: list[str]) -> list[Event]:
    """A strict reader of the text/event-stream format (fields per line, a blank line ends an event)."""
    events, fields = [], {"id": None, "event": "message", "data": []}
    for line in lines:
        if line == "":
            if fields["data"]:
                events.append(Event(fields["id"], fields["event"], "\n".join(fields["data"])))
            fields = {"id": None, "event": "message", "data": []}
            continue
        name, sep, value = line.partition(":")
        assert sep, f"not a field line: {line!r}"
        value = value[1:] if value.startswith(" ") else value
        assert name in ("id", "event", "data", "retry"), f"unknown field {name!r}"
        if name == "data":
            fields["data"].append(value)
        else:
            fields[name] = value
    assert fields["data"] == [], "the stream ended in the middle of an event"
    return events


def stream(client: TestClient, sid: str, text: str) -> tuple[list[Event], dict]:
    with client.stream("POST", f"/v1/sessions/{sid}/messages/stream", json={"text": text}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["cache-control"] == "no-cache"
        raw = "".join(r.iter_text())
    assert raw.endswith("\n\n")
    return parse_sse(raw.split("\n")[:-1]), dict(r.headers)


def test_streamed_turn_events(client: TestClient) -> None:
    sid = client.post("/v1/sessions", json={}).json()["session_id"]
    events, _ = stream(client, sid, "I loved The Matrix")
    names = [e.event for e in events]
    n_reply = names.count("reply")
    n_recs = names.count("recommendation")
    assert n_reply > 3 and n_recs == 5
    # order: every reply chunk, then every recommendation, then done (last)
    assert names == ["reply"] * n_reply + ["recommendation"] * n_recs + ["done"]
    assert [e.id for e in events] == [f"1.{i}" for i in range(1, len(events) + 1)]
    done = json.loads(events[-1].data)
    assert done["turn"] == 1 and done["action"] == "recommend"
    assert "".join(json.loads(e.data)["text"] for e in events[:n_reply]) == done["reply"]
    recs = [json.loads(e.data) for e in events if e.event == "recommendation"]
    assert [r["rank"] for r in recs] == [1, 2, 3, 4, 5]
    assert [r["item_id"] for r in recs] == [r["item_id"] for r in done["recommendations"]]
    assert all(r["explanation"] for r in recs)
    # the streamed turn is a real turn: it is in the transcript
    session = client.get(f"/v1/sessions/{sid}").json()
    assert session["transcript"][-1] == {"turn": 1, "user": "I loved The Matrix", "bot": done["reply"]}


def test_question_event_when_the_system_asks(client: TestClient) -> None:
    sid = client.post("/v1/sessions", json={}).json()["session_id"]
    events, _ = stream(client, sid, "hello there")
    done = json.loads(events[-1].data)
    if done["question"] is None:  # the policy chose not to ask: no question event either
        assert "question" not in [e.event for e in events]
    else:
        question = [json.loads(e.data) for e in events if e.event == "question"]
        assert question == [done["question"]] and events[-2].event == "question"


def test_errors_before_the_stream_are_plain_json(client: TestClient) -> None:
    r = client.post("/v1/sessions/" + "0" * 32 + "/messages/stream", json={"text": "hi"})
    assert r.status_code == 404 and r.headers["content-type"] == "application/json"
    sid = client.post("/v1/sessions", json={}).json()["session_id"]
    r = client.post(f"/v1/sessions/{sid}/messages/stream", json={"text": " "})
    assert r.status_code == 422


def test_framing_of_awkward_payloads() -> None:
    frame = sse_event("reply", {"text": "line one\nline two\r\n: not a comment"}, "3.1")
    assert frame.endswith("\n\n") and frame.count("\n") == 4  # id, event, one data line, blank line
    (event,) = parse_sse(frame.split("\n")[:-1])
    assert json.loads(event.data)["text"] == "line one\nline two\r\n: not a comment"
    assert "".join(reply_chunks("  Hi there,\nfriend!  ")) == "  Hi there,\nfriend!  "
