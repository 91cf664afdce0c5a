"""Applying profile edits (PUT = replace, PATCH = merge) to a stored `UserProfile`.

The typed preferences are replaced list by list; item ids are checked against the catalog (unknown: 404)
and an item or attribute cannot be both liked and disliked (422). A new text is the user's own words
(`edited_by_user`), and bumps `profile_version` when it differs from the stored text or makes an inferred
text the user's own. With `version`
in the request, the write happens only if the stored profile is still at that version (else 409).

The typed preferences follow an edited text: it is read back into attribute likes and dislikes with the
rule-based parser (dialogue.llm.profile_parse, over every attribute of the catalog), and each attribute
it names moves to the side the text puts it on ("no horror" makes genre:horror a dislike and no longer a
like), so the ranking follows the edit. Attributes the text does not name keep their side. Lists sent
in the same request win over the text for their own side ("liked_attributes": [...] is taken as given).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from dialogue.llm.profile_parse import AttributeVocabulary, PreferenceEdit, profile_to_preferences
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


_vocabularies: dict[int, tuple[Catalog, AttributeVocabulary]] = {}
_vocabulary_lock = threading.Lock()


def attribute_vocabulary(catalog: Catalog) -> AttributeVocabulary:
    """Every attribute of the catalog's items as a phrase index (built once per catalog, ~1 s)."""
    from recsys.catalog.train_data import item_attribute_values

    with _vocabulary_lock:
        entry = _vocabularies.get(id(catalog))
        if entry is None or entry[0] is not catalog:
            names = dict.fromkeys(a for item in catalog for a in item_attribute_values(item))
            entry = (catalog, AttributeVocabulary(names))
            _vocabularies.clear()  # one catalog per process in practice
            _vocabularies[id(catalog)] = entry
        return entry[1]


def text_preferences(
    text: str, catalog: Catalog, vocabulary: AttributeVocabulary | None = None
) -> PreferenceEdit:
    """The attribute likes / dislikes an edited profile text states."""
    return profile_to_preferences(text, vocabulary or attribute_vocabulary(catalog))


def _follow_text(profile: UserProfile, edit: PreferenceEdit, changes: dict[str, Any]) -> None:
    """Move each attribute the text names to the side it puts it on, except on a side the request set."""
    for attribute in edit.liked:
        if "liked_attributes" not in changes:
            profile.liked_attributes.add(attribute)
        if "disliked_attributes" not in changes:
            profile.disliked_attributes.discard(attribute)
    for attribute in edit.disliked:
        if "disliked_attributes" not in changes:
            profile.disliked_attributes.add(attribute)
        if "liked_attributes" not in changes:
            profile.liked_attributes.discard(attribute)


def _apply(profile: UserProfile, changes: dict[str, Any], edit: PreferenceEdit | None = None) -> None:
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
        if (text or None) != profile.profile_text or (text and not profile.edited_by_user):
            if text:
                profile.set_profile_text(text, by_user=True)
                if edit is not None:
                    _follow_text(profile, edit, changes)
            else:
                profile.profile_text = None
                profile.profile_version += 1
                profile.edited_by_user = True


def edit_profile(
    store: StateStore,
    catalog: Catalog,
    user_id: str,
    changes: dict[str, Any],
    version: int | None,
    *,
    vocabulary: AttributeVocabulary | None = None,
) -> UserProfile:
    """Apply `changes` (field -> new value) to the user's stored profile and return the stored result."""
    _check_changes(changes, catalog)
    text = changes.get("profile_text")
    edit = text_preferences(text, catalog, vocabulary) if isinstance(text, str) and text.strip() else None
    if version is None:
        return store.update_profile(user_id, lambda p: _apply(p, changes, edit))
    profile = store.get_profile(user_id)
    if profile.version != version:
        raise ConflictError(
            f"profile of {user_id} is at version {profile.version}, not {version}: "
            "re-read it and apply the change again"
        )
    _apply(profile, changes, edit)
    return store.put_profile(profile)
