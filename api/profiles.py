"""Applying profile edits (PUT = replace, PATCH = merge) to a stored `UserProfile`.

The typed preferences are replaced list by list; item ids are checked against the catalog (unknown: 404)
and an item or attribute cannot be both liked and disliked (422). A new text is the user's own words
(`edited_by_user`), and bumps `profile_version` only when it differs from the stored one. With `version`
in the request, the write happens only if the stored profile is still at that version (else 409).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dialogue.state.ordered import OrderedSet
from dialogue.state.profile import UserProfile
from dialogue.store import StateStore
from recsys.catalog.types import Catalog
from recsys.errors import ConflictError, ValidationError

ITEM_FIELDS = ("liked_items", "disliked_items", "seen_items", "accepted_items")
ATTRIBUTE_FIELDS = ("liked_attributes", "disliked_attributes")


def _check_changes(changes: dict[str, Any], catalog: Catalog) -> None:
    for name in ITEM_FIELDS:
        for item_id in changes.get(name) or ():
            catalog[item_id]  # UnknownItemError (404) for an id outside the catalog
    for a, b in (("liked_items", "disliked_items"), ("liked_attributes", "disliked_attributes")):
        both = set(changes.get(a) or ()) & set(changes.get(b) or ())
        if both:
            raise ValidationError(f"{sorted(both)} cannot be in both {a} and {b}")


def _apply(profile: UserProfile, changes: dict[str, Any]) -> None:
    for name in (*ITEM_FIELDS, *ATTRIBUTE_FIELDS):
        if name in changes:
            values: Iterable[Any] = changes[name] or ()
            setattr(profile, name, OrderedSet(values))
    # a list replaced on one side must not leave its members on the other side (last word wins)
    for a, b in (("liked_items", "disliked_items"), ("liked_attributes", "disliked_attributes")):
        for changed, other in ((a, b), (b, a)):
            if changed in changes and other not in changes:
                for member in getattr(profile, changed):
                    getattr(profile, other).discard(member)
    if "profile_text" in changes:
        text = changes["profile_text"]
        text = text.strip() if isinstance(text, str) else None
        if (text or None) != profile.profile_text:
            if text:
                profile.set_profile_text(text, by_user=True)
            else:
                profile.profile_text = None
                profile.profile_version += 1
                profile.edited_by_user = True


def edit_profile(
    store: StateStore, catalog: Catalog, user_id: str, changes: dict[str, Any], version: int | None
) -> UserProfile:
    """Apply `changes` (field -> new value) to the user's stored profile and return the stored result."""
    _check_changes(changes, catalog)
    if version is None:
        return store.update_profile(user_id, lambda p: _apply(p, changes))
    profile = store.get_profile(user_id)
    if profile.version != version:
        raise ConflictError(
            f"profile of {user_id} is at version {profile.version}, not {version}: "
            "re-read it and apply the change again"
        )
    _apply(profile, changes)
    return store.put_profile(profile)
