"""Lua scripts of the state store. Each runs atomically on the server and touches one session's keys only
(KEYS = Keys.session_keys(sid): meta, events, ids, turn, snapshot - one hash slot), refreshing their TTL.

Return codes shared by the scripts: -1 = no such session (missing or expired), -2 = the session has ended,
-3 = the turn counter moved since a lock holder reserved a turn number (see APPEND_EVENTS).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.commands.core import Script
from redis.exceptions import NoScriptError


def run(script: Script, keys: Sequence[str], args: Sequence[object]) -> Any:
    """`script(keys=keys, args=args)`: the same EVALSHA, sent straight to the script's client
    (`Script.__call__` and redis-py's EVALSHA wrappers cost more Python per call than the command itself);
    the script is loaded again, as `Script.__call__` does, if the server lost it (a restart)."""
    try:
        return script.registered_client.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)
    except NoScriptError:
        return script(keys=keys, args=args)


# ARGV: ttl_ms, user_id ("" = anonymous), created_at, event_id, event_json
# -> 1 created (or this very creation retried), 0 the id is taken by another session
CREATE_SESSION = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('SISMEMBER', KEYS[3], ARGV[4])
end
redis.call('HSET', KEYS[1], 'user_id', ARGV[2], 'created_at', ARGV[3], 'ended', '0')
redis.call('RPUSH', KEYS[2], ARGV[5])
redis.call('SADD', KEYS[3], ARGV[4])
redis.call('SET', KEYS[4], '0')
for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
return 1
"""

# ARGV: ttl_ms, ends ("1" if the batch ends the session), claim_from, claim_to ("" = no claim),
# then event_id, event_json pairs. Events whose id is already stored are skipped (idempotent retries).
# A claim commits turn numbers a lock holder handed out without a round trip: the counter must still be
# claim_from (else {-3}, nothing written) and becomes claim_to.
# -> {appended, length of the log} or {-1} / {-2} / {-3}; an ended session accepts only a replay of
# stored ids.
APPEND_EVENTS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
if redis.call('HGET', KEYS[1], 'ended') == '1' then
  for i = 5, #ARGV, 2 do
    if redis.call('SISMEMBER', KEYS[3], ARGV[i]) == 0 then return {-2} end
  end
  return {0, redis.call('LLEN', KEYS[2])}
end
if ARGV[3] ~= '' then
  if tonumber(redis.call('GET', KEYS[4]) or '0') ~= tonumber(ARGV[3]) then return {-3} end
  redis.call('SET', KEYS[4], ARGV[4])
end
local n = 0
for i = 5, #ARGV, 2 do
  if redis.call('SADD', KEYS[3], ARGV[i]) == 1 then
    redis.call('RPUSH', KEYS[2], ARGV[i + 1])
    n = n + 1
  end
end
if ARGV[2] == '1' then redis.call('HSET', KEYS[1], 'ended', '1') end
for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
return {n, redis.call('LLEN', KEYS[2])}
"""

# ARGV: ttl_ms -> the next turn number, or -1 / -2
NEXT_TURN = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HGET', KEYS[1], 'ended') == '1' then return -2 end
local turn = redis.call('INCR', KEYS[4])
for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
return turn
"""

# ARGV: ttl_ms, state schema, use_snapshot ("1"/"0"), take_turn ("1": also INCR the turn counter, as
# NEXT_TURN does, unless the session has ended; absent: "0")
# -> {-1} or {1, user_id, snapshot_state ("" = none), first event index, {events from that index},
#     the new turn number (0: none taken)}
LOAD = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
local start, state = 0, ''
if ARGV[3] == '1' then
  local snap = redis.call('HMGET', KEYS[5], 'n', 'schema', 'state')
  if snap[1] and snap[2] == ARGV[2] then
    start, state = tonumber(snap[1]), snap[3]
  end
end
local meta = redis.call('HMGET', KEYS[1], 'user_id', 'ended')
local turn = 0
if ARGV[4] == '1' and meta[2] ~= '1' then turn = redis.call('INCR', KEYS[4]) end
return {1, meta[1], state, start, redis.call('LRANGE', KEYS[2], start, -1), turn}
"""

# ARGV: turn -> 1 the counter was still `turn` and went back by one, 0 it had moved (left alone)
GIVE_BACK_TURN = """
if tonumber(redis.call('GET', KEYS[4]) or '-1') ~= tonumber(ARGV[1]) then return 0 end
redis.call('DECR', KEYS[4])
return 1
"""

# ARGV: ttl_ms, n (events covered), schema, state_json -> 1 written, 0 kept the existing (newer) one
SAVE_SNAPSHOT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = tonumber(ARGV[2])
if n > redis.call('LLEN', KEYS[2]) then return 0 end
local cur = redis.call('HMGET', KEYS[5], 'n', 'schema')
if cur[1] and cur[2] == ARGV[3] and tonumber(cur[1]) >= n then return 0 end
redis.call('HSET', KEYS[5], 'n', ARGV[2], 'schema', ARGV[3], 'state', ARGV[4])
redis.call('PEXPIRE', KEYS[5], ARGV[1])
return 1
"""

# ARGV: ttl_ms -> {-1} or {1, user_id}: refreshes the session's expiry and tells its owner
TOUCH = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
return {1, redis.call('HGET', KEYS[1], 'user_id')}
"""

# ARGV: ttl_ms, first event index -> {-1} or {1, user_id, {events from that index}}
EVENTS_FROM = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
return {1, redis.call('HGET', KEYS[1], 'user_id'), redis.call('LRANGE', KEYS[2], ARGV[2], -1)}
"""

# A session lock taken together with the state load of LOAD (one round trip for both).
# KEYS: the session's keys (as above), then its lock; ARGV: ttl_ms, state schema, token, lease_ms
# -> {0} the lock is taken by someone else; {1, -1} locked, but there is no such session;
#    {1, 1, user_id, snapshot_state ("" = none), first event index, {events from that index},
#     turn counter, ended ("1" / "0")}
LOCK_AND_LOAD = """
if not redis.call('SET', KEYS[6], ARGV[3], 'NX', 'PX', ARGV[4]) then return {0} end
if redis.call('EXISTS', KEYS[1]) == 0 then return {1, -1} end
for i = 1, 5 do redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
local start, state = 0, ''
local snap = redis.call('HMGET', KEYS[5], 'n', 'schema', 'state')
if snap[1] and snap[2] == ARGV[2] then
  start, state = tonumber(snap[1]), snap[3]
end
local meta = redis.call('HMGET', KEYS[1], 'user_id', 'ended')
local events = redis.call('LRANGE', KEYS[2], start, -1)
return {1, 1, meta[1], state, start, events, redis.call('GET', KEYS[4]) or '0', meta[2] or '0'}
"""
