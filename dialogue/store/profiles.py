"""`ProfileStore`: user profiles in Redis, without expiry, under optimistic concurrency.

A profile is one JSON string at `crs:{u:<uid>}:profile` carrying its `version` (1 after the first write,
+1 per write). `put` writes only if the stored version is still the one the caller read (else
ConflictError); `update` re-reads and retries a mutation until it lands. `update` takes two round trips
per attempt: a read script (the profile, and whether a session is still in the user's index) and a
compare-and-set script that writes only if the stored version is still the one read (and the session
still indexed) - both on the user's keys only (one hash slot).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import redis

from dialogue.state.profile import UserProfile
from dialogue.state.serialize import profile_from_json, profile_to_json
from dialogue.store.connection import unavailable_as_error
from dialogue.store.keys import Keys, check_user_id
from recsys.errors import ConflictError, SessionNotFoundError

MAX_ATTEMPTS = 50

# KEYS: profile, sessions index; ARGV: session id ("" = none) -> {profile json or nil, 1 if indexed else 0}
_READ = """
local indexed = 1
if ARGV[1] ~= '' and not redis.call('ZSCORE', KEYS[2], ARGV[1]) then indexed = 0 end
return {redis.call('GET', KEYS[1]) or '', indexed}
"""
# KEYS: profile, sessions index; ARGV: version read, session id ("" = none), new profile json
# -> 1 written, 0 the stored version changed since it was read, -1 the session left the index
_COMPARE_AND_SET = """
if ARGV[2] ~= '' and not redis.call('ZSCORE', KEYS[2], ARGV[2]) then return -1 end
local raw = redis.call('GET', KEYS[1])
local stored = 0
if raw then stored = tonumber(cjson.decode(raw)['version']) end
if stored ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[3])
return 1
"""


class ProfileStore:
    """Get / put / update user profiles (used through `StateStore`)."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.client = client
        self.keys = keys
        self._read = client.register_script(_READ)
        self._cas = client.register_script(_COMPARE_AND_SET)

    def get(self, user_id: str) -> UserProfile:
        """The stored profile, or a new empty one (version 0) if the user has none."""
        return self.parse(user_id, self.get_raw(user_id))

    def get_raw(self, user_id: str) -> bytes:
        """The stored profile's JSON (b"" if the user has none)."""
        check_user_id(user_id)
        with unavailable_as_error("get profile"):
            raw = self.client.get(self.keys.user(user_id, "profile"))
        return raw if isinstance(raw, bytes) else (raw or "").encode()

    @staticmethod
    def parse(user_id: str, raw: bytes) -> UserProfile:
        """The profile of `get_raw`'s answer."""
        return profile_from_json(raw) if raw else UserProfile(user_id=user_id)

    def put(self, profile: UserProfile) -> UserProfile:
        """Store `profile` if the stored version is still `profile.version`; returns it with its new version.

        Raises ConflictError when someone else wrote the profile since it was read.
        """
        check_user_id(profile.user_id)
        key = self.keys.user(profile.user_id, "profile")
        with unavailable_as_error("put profile"), self.client.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(key)
                raw = pipe.get(key)
                stored = profile_from_json(raw).version if raw else 0
                if stored != profile.version:
                    raise ConflictError(
                        f"profile of {profile.user_id} is at version {stored}, not {profile.version}: "
                        "re-read it and apply the change again"
                    )
                self._write(pipe, key, profile)
            except redis.WatchError:
                raise ConflictError(
                    f"profile of {profile.user_id} changed while it was being written"
                ) from None
        return profile

    def update(
        self,
        user_id: str,
        mutate: Callable[[UserProfile], object],
        *,
        require_session: str | None = None,
        write_if: Callable[[UserProfile], bool] | None = None,
        first_read: bytes | None = None,
    ) -> UserProfile:
        """Read, `mutate` in place, and write the profile, retrying on concurrent writes; returns it.

        `require_session`: abort with SessionNotFoundError unless that session is still in the user's
        session index (so a merge racing with `delete_user` cannot resurrect a deleted user).
        `write_if`: called after `mutate`; False skips the write (nothing changed) and returns the profile.
        `first_read`: the profile JSON as the caller last read it (b"": none), used by the first attempt
        instead of reading it again; the compare-and-set refuses it if it is stale, and the next attempt
        reads.
        """
        check_user_id(user_id)
        keys = self.keys.user_keys(user_id)  # profile, sessions index
        session = require_session or ""
        for attempt in range(MAX_ATTEMPTS):
            if attempt == 0 and first_read is not None:
                raw, indexed = first_read, 1  # the compare-and-set checks the index
            else:
                with unavailable_as_error("update profile"):
                    raw, indexed = self._read(keys=keys, args=[session])
            if not indexed:
                raise SessionNotFoundError(f"no session {require_session!r} of user {user_id!r}")
            profile = profile_from_json(raw) if raw else UserProfile(user_id=user_id)
            read_version = profile.version
            mutate(profile)
            if write_if is not None and not write_if(profile):
                return profile
            profile.version = read_version + 1
            profile.updated_at = time.time()
            with unavailable_as_error("update profile"):
                done = int(self._cas(keys=keys, args=[read_version, session, profile_to_json(profile)]))
            if done == 1:
                return profile
            if done == -1:
                raise SessionNotFoundError(f"no session {require_session!r} of user {user_id!r}")
            if attempt > 0 or first_read is None:  # a stale first guess is retried at once
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        raise ConflictError(f"profile of {user_id} kept changing; gave up after {MAX_ATTEMPTS} attempts")

    @staticmethod
    def _write(pipe: redis.client.Pipeline, key: str, profile: UserProfile) -> None:
        """MULTI / SET / EXEC on a watching pipeline; bumps the version only once the write landed."""
        profile.version += 1
        profile.updated_at = time.time()
        try:
            pipe.multi()
            pipe.set(key, profile_to_json(profile))
            pipe.execute()
        except BaseException:
            profile.version -= 1
            raise
