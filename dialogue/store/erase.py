"""Erasing a user from the store: their profile, their session index, and every key of their sessions
(on every node of a cluster). Used by `StateStore.delete_user`."""

from __future__ import annotations

import redis

from dialogue.store.connection import RedisClient, unavailable_as_error
from dialogue.store.keys import Keys, check_user_id


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def delete_user(client: RedisClient, keys: Keys, user_id: str) -> int:
    """Erase the user: every session of theirs, their profile and their index. Returns keys deleted.

    Besides the session keys the store itself writes, any other key under a session's hash tag (an
    idempotency record holding a response, a lock) goes too: one SCAN over the keyspace, on every
    node of a cluster, finds them.
    """
    profile, index = keys.user_keys(check_user_id(user_id))
    with unavailable_as_error("delete user"):
        while True:
            with client.pipeline(transaction=True) as pipe:  # explicit: a cluster's default is False
                try:
                    pipe.watch(index)
                    sids = [_text(s) for s in pipe.zrange(index, 0, -1)]
                    pipe.multi()
                    pipe.delete(profile, index)
                    (deleted,) = pipe.execute()
                    break
                except redis.WatchError:
                    continue  # a session was created meanwhile: read the index again
        # After the index is gone, a session still being created deletes itself (create_session).
        # One DEL per key: a cluster pipeline spans slots, but not within one command.
        with client.pipeline(transaction=False) as pipe:
            for sid in sids:
                for key in keys.session_keys(sid):
                    pipe.delete(key)
            deleted += sum(pipe.execute())
        deleted += _delete_other_session_keys(client, keys, set(sids))
    return int(deleted)


def _delete_other_session_keys(client: RedisClient, keys: Keys, sids: set[str]) -> int:
    """Delete every key under the hash tag of these sessions that is not one of SESSION_PARTS.

    One SCAN of `<prefix>{s:*` (redis-py's cluster client scans every primary); the session id is
    read back from each key's tag.
    """
    if not sids:
        return 0
    head = len(keys.prefix) + 3  # "<prefix>{s:"
    found = []
    for raw in client.scan_iter(match=keys.pattern()[:-1] + "{s:*", count=1000):
        key = _text(raw)
        end = key.find("}", head)
        if end > 0 and key[head:end] in sids:
            found.append(key)
    if not found:
        return 0
    with client.pipeline(transaction=False) as pipe:
        for key in found:
            pipe.delete(key)
        return sum(pipe.execute())
