"""`ProfileStore`: user profiles in Redis, without expiry, under optimistic concurrency.

A profile is one JSON string at `crs:{u:<uid>}:profile` carrying its `version` (1 after the first write,
+1 per write). `put` writes only if the stored version is still the one the caller read (else
ConflictError); `update` re-reads and retries a mutation until it lands (WATCH / MULTI / EXEC).
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


class ProfileStore:
    """Get / put / update user profiles (used through `StateStore`)."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.client = client
        self.keys = keys

    def get(self, user_id: str) -> UserProfile:
        """The stored profile, or a new empty one (version 0) if the user has none."""
        check_user_id(user_id)
        with unavailable_as_error("get profile"):
            raw = self.client.get(self.keys.user(user_id, "profile"))
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
        mutate: Callable[[UserProfile], None],
        *,
        require_session: str | None = None,
    ) -> UserProfile:
        """Read, `mutate` in place, and write the profile, retrying on concurrent writes; returns it.

        `require_session`: abort with SessionNotFoundError unless that session is still in the user's
        session index (so a merge racing with `delete_user` cannot resurrect a deleted user).
        """
        check_user_id(user_id)
        key, index = self.keys.user(user_id, "profile"), self.keys.user(user_id, "sessions")
        for attempt in range(MAX_ATTEMPTS):
            with unavailable_as_error("update profile"), self.client.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(key, index)
                    raw = pipe.get(key)
                    if require_session is not None and pipe.zscore(index, require_session) is None:
                        raise SessionNotFoundError(f"no session {require_session!r} of user {user_id!r}")
                    profile = profile_from_json(raw) if raw else UserProfile(user_id=user_id)
                    mutate(profile)
                    self._write(pipe, key, profile)
                    return profile
                except redis.WatchError:
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
