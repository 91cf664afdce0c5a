"""The workload of the API load benchmark (`scripts/bench_api.py`): varied scripted conversations and the wrk
Lua script that replays them.

Every session follows its own conversation, built from a seeded RNG over the catalog's popular titles,
genres, critiques and questions, so that consecutive sessions do not send the same messages: a benchmark
that repeats one script lets every memo (title matches, ranked lists, profile-text embeddings) hit, and
measures a cheaper turn than real users cause. `conversations()` makes them; `lua_script()` writes the wrk
script for one phase.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

Step = tuple[str, str, str]  # method, path ("{sid}" stands for the session id), JSON body ("" for none)

GENRES = ("comedy", "drama", "action", "sci-fi", "thriller", "romance", "animation", "crime", "fantasy")
AVOID = ("horror", "musicals", "westerns", "war movies", "documentaries")
OPENERS = (
    "Hi! I want to watch a movie tonight.",
    "hello there",
    "can you recommend a movie?",
    "I need something to watch with friends",
)
CRITIQUES = (
    "something less violent",
    "something more recent",
    "older ones please",
    "something funnier",
    "something lighter",
    "a bit darker maybe",
)
QUESTIONS = ("why the first one?", "tell me about the second one", "why the third one?")


def conversation(rng: random.Random, titles: Sequence[str]) -> list[str]:
    """One scripted conversation of eight messages: an opener, likes, a critique, a dislike, a question."""
    liked, also, disliked = rng.sample(list(titles), 3)
    genre, other = rng.sample(GENRES, 2)
    return [
        rng.choice(OPENERS),
        rng.choice([f"I loved {liked} and {also}", f"I really liked {liked}", f"something like {liked}"]),
        rng.choice(CRITIQUES),
        f"more like {also}" if rng.random() < 0.5 else f"I like {genre} movies",
        f"I don't like {rng.choice(AVOID)}",
        rng.choice(QUESTIONS),
        rng.choice(CRITIQUES),
        rng.choice([f"recommend me a {other}", f"I didn't like {disliked}", "show me more"]),
    ]


def conversations(n: int, titles: Sequence[str], seed: int = 0) -> list[list[str]]:
    """`n` conversations (ASCII titles only: wrk's LuaJIT knows no \\u escapes in literals)."""
    ascii_titles = [t for t in titles if t.isascii() and '"' not in t]
    if len(ascii_titles) < 3:
        raise ValueError("the benchmark needs at least 3 ASCII titles")
    rng = random.Random(seed)
    return [conversation(rng, ascii_titles) for _ in range(n)]


def message_steps(texts: Sequence[str]) -> list[Step]:
    return [("POST", "/v1/sessions/{sid}/messages", json.dumps({"text": t})) for t in texts]


def mixed_steps(texts: Sequence[str], item_id: int) -> list[Step]:
    """A conversation with feedback, a session read, a search and stateless recommendations mixed in."""
    steps: list[Step] = []
    for i, step in enumerate(message_steps(texts)):
        steps.append(step)
        if i == 1:
            steps.append(
                ("POST", "/v1/sessions/{sid}/feedback", json.dumps({"item_id": item_id, "kind": "like"}))
            )
        if i == 3:
            steps.append(("GET", "/v1/sessions/{sid}", ""))
            steps.append(("GET", "/v1/items?q=star%20wars", ""))
            steps.append(("POST", "/v1/recommendations", json.dumps({"liked": [item_id], "k": 10})))
    return steps


# A wrk script: each thread serves its own slice of the sessions, request n goes to session n mod S with
# step n div S of that session's script, so consecutive requests of a session are S requests apart. A
# thread stops after LIMIT responses; statuses other than 2xx are tallied. done() writes the summary as JSON.
LUA = r"""
local SESSIONS = __SESSIONS__
local SCRIPTS = __SCRIPTS__
local LIMIT = __LIMIT__
local OUT = __OUT__
local THREADS = __THREADS__
local threads, count = {}, 0

function setup(thread)
  thread:set("tid", count)
  count = count + 1
  table.insert(threads, thread)
end

function init(args)
  mine = {}
  for i, entry in ipairs(SESSIONS) do
    if (i - 1) % THREADS == tid then table.insert(mine, entry) end
  end
  n, responses, bad = 0, 0, {}
end

function request()
  local entry = mine[(n % #mine) + 1]
  local steps = SCRIPTS[entry[2]]
  local step = steps[(math.floor(n / #mine) % #steps) + 1]
  n = n + 1
  local path = string.gsub(step[2], "{sid}", entry[1])
  local headers = {}
  if step[3] ~= "" then headers["Content-Type"] = "application/json" end
  return wrk.format(step[1], path, headers, step[3] ~= "" and step[3] or nil)
end

function response(status, headers, body)
  responses = responses + 1
  if status >= 300 then
    local key = tostring(status)
    bad[key] = (bad[key] or 0) + 1
  end
  if responses == LIMIT then
    io.open(OUT .. ".done" .. tid, "w"):close()  -- wrk ends on SIGINT from the driver once all are done
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local errors = {}
  for _, thread in ipairs(threads) do
    for status, c in pairs(thread:get("bad")) do errors[status] = (errors[status] or 0) + c end
  end
  local parts = {}
  for status, c in pairs(errors) do table.insert(parts, string.format('"%s": %d', status, c)) end
  local e = summary.errors
  local f = io.open(OUT, "w")
  f:write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"mean_us": %.1f, "status_errors": {%s}, "socket_errors": {"connect": %d, "read": %d, ' ..
    '"write": %d, "timeout": %d}}',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, table.concat(parts, ", "),
    e.connect, e.read, e.write, e.timeout))
  f:close()
end
"""


def lua_string(text: str) -> str:
    """A Lua string literal (ASCII only: LuaJIT knows no \\u escapes)."""
    if not text.isascii():
        raise ValueError(f"non-ASCII text in the wrk script: {text!r}")
    return json.dumps(text)


def lua_script(
    sessions: Sequence[str], scripts: Sequence[Sequence[Step]], limit: int, threads: int, out: str
) -> str:
    """The wrk script for one phase: session i follows scripts[i % len(scripts)] (see LUA)."""
    if not scripts or any(not s for s in scripts):
        raise ValueError("every script needs at least one step")
    table = ", ".join(
        "{" + ", ".join("{" + ", ".join(lua_string(x) for x in step) + "}" for step in script) + "}"
        for script in scripts
    )
    entries = ", ".join(f"{{{lua_string(sid)}, {i % len(scripts) + 1}}}" for i, sid in enumerate(sessions))
    return (
        LUA.replace("__SESSIONS__", "{" + entries + "}")
        .replace("__SCRIPTS__", "{" + table + "}")
        .replace("__LIMIT__", str(limit))
        .replace("__THREADS__", str(threads))
        .replace("__OUT__", lua_string(out))
    )
