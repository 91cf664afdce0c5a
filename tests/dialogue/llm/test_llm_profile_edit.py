"""A profile text edited by the user flows into the typed preferences (api.profiles.edit_profile)."""

from __future__ import annotations

from api.profiles import attribute_vocabulary, edit_profile, text_preferences
from dialogue.llm.profile_parse import AttributeVocabulary
from dialogue.state.ordered import OrderedSet
from dialogue.store import StateStore
from recsys.catalog.types import Catalog


def seed(store: StateStore, user: str) -> None:
    def mutate(p) -> None:
        p.liked_attributes = OrderedSet(["genre:horror", "genre:sci-fi", "star:tom hanks"])
        p.disliked_attributes = OrderedSet(["genre:war"])
        p.set_profile_text("Likes horror, sci-fi and Tom Hanks; dislikes war.", by_user=False)

    store.update_profile(user, mutate)


def test_vocabulary_is_built_once_per_catalog(world: Catalog) -> None:
    vocab = attribute_vocabulary(world)
    assert attribute_vocabulary(world) is vocab
    assert "genre:horror" in vocab.attributes and "director:christopher nolan" in vocab.attributes
    edit = text_preferences("No horror. I love Christopher Nolan and the nineties.", world)
    assert edit.disliked == ("genre:horror",)
    assert set(edit.liked) == {"director:christopher nolan", "decade:1990s"}


def test_edit_moves_named_attributes_and_keeps_the_others(store: StateStore, world: Catalog) -> None:
    seed(store, "eve")
    text = "No horror any more. I'm into war films now."
    profile = edit_profile(store, world, "eve", {"profile_text": text}, None)
    assert profile.profile_text == text and profile.edited_by_user and profile.profile_version == 2
    assert list(profile.liked_attributes) == ["genre:sci-fi", "star:tom hanks", "genre:war"]
    assert list(profile.disliked_attributes) == ["genre:horror"]
    assert store.get_profile("eve").disliked_attributes == profile.disliked_attributes


def test_lists_sent_with_the_text_win_for_their_side(store: StateStore, world: Catalog) -> None:
    seed(store, "fay")
    changes = {"profile_text": "No horror, no comedy.", "disliked_attributes": ["genre:romance"]}
    profile = edit_profile(store, world, "fay", changes, None)
    assert list(profile.disliked_attributes) == ["genre:romance"]  # as sent
    assert "genre:horror" not in profile.liked_attributes  # the text still removes it from the likes
    assert "genre:sci-fi" in profile.liked_attributes


def test_confirming_the_inferred_text_makes_it_the_users(store: StateStore, world: Catalog) -> None:
    seed(store, "gus")
    same = store.get_profile("gus").profile_text
    profile = edit_profile(store, world, "gus", {"profile_text": same}, None)
    assert profile.edited_by_user and profile.profile_version == 2
    again = edit_profile(store, world, "gus", {"profile_text": same}, None)
    assert again.profile_version == 2  # the same user text again: no new version


def test_cue_words_are_never_attributes(world: Catalog) -> None:
    # "love" is a MovieLens tag too, and the cue that makes a like: never read as the tag
    vocabulary = AttributeVocabulary(["tag:love", "tag:dark", "director:christopher nolan", "genre:horror"])
    edit = text_preferences("I love Christopher Nolan; no horror", world, vocabulary)
    assert edit.liked == ("director:christopher nolan",) and edit.disliked == ("genre:horror",)
    assert text_preferences("dark stuff please", world, vocabulary).liked == ("tag:dark",)
