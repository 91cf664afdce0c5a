"""The title index on a 60,000-title synthetic catalog: built once, fast per message, still precise."""

from __future__ import annotations

import statistics
import time

import pytest

from dialogue.understanding import RuleExtractor
from recsys.catalog.types import Catalog

from .synthetic import PLANTED, synthetic_catalog

pytestmark = pytest.mark.slow

MESSAGES = [
    "I loved the dark knight but not horror",
    "Incepton was great, anything similar?",
    "the godfahter",
    "it was good",
    "Hi! I'm looking for a good comedy, I liked @200001 and @200002",
    "something light and funny from the 90s with no gore please",
    "Can you recommend something like Pulp Fiction but less violent?",
    "I've already seen Heat and I hated Schindlers List",
    "up to you, I love comedies",
]


@pytest.fixture(scope="module")
def big() -> tuple[Catalog, RuleExtractor]:
    catalog = synthetic_catalog(60_000, seed=0)
    return catalog, RuleExtractor(catalog, use_embeddings=False)


def test_index_builds_once_in_reasonable_time(big: tuple[Catalog, RuleExtractor]) -> None:
    catalog, extractor = big
    assert len(catalog) == 60_000
    assert len(extractor.titles) > 60_000  # every title under several keys
    # Measured ~3 s on an idle 2-core machine; the bound leaves room for a loaded CI box.
    assert extractor.build_seconds < 120


def test_extraction_stays_well_under_ten_milliseconds(big: tuple[Catalog, RuleExtractor]) -> None:
    _, extractor = big
    best = []
    for text in MESSAGES:
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            extractor.extract(text)
            runs.append(time.perf_counter() - started)
        best.append(min(runs))  # the least disturbed run: the machine is shared
    assert statistics.median(best) < 0.010
    assert max(best) < 0.050


def test_typos_resolve_among_sixty_thousand_titles(big: tuple[Catalog, RuleExtractor]) -> None:
    catalog, extractor = big
    planted = {title: item_id for item_id, title, _, _ in PLANTED}
    for text, title in [
        ("Incepton was great", "Inception"),
        ("the godfahter", "The Godfather"),
        ("i loved pulp fictoin", "Pulp Fiction"),
        ("Schindlers List", "Schindler's List"),
    ]:
        items = [m.item_id for m in extractor.extract(text).items]
        assert items == [planted[title]], (text, [catalog[i].display for i in items if i is not None])


def test_common_sentences_stay_clean_in_a_large_catalog(big: tuple[Catalog, RuleExtractor]) -> None:
    _, extractor = big
    clean = ["it was good", "up to you", "I love comedies", "I want something dark for tonight",
             "thanks, that's all", "what should I watch tonight?", "love the last one you said"]  # fmt: skip
    for text in clean:
        assert extractor.extract(text).items == (), text


def test_redial_ids_resolve_through_the_catalog(big: tuple[Catalog, RuleExtractor]) -> None:
    _, extractor = big
    u = extractor.extract("I liked @200001 and @200002")
    assert [m.item_id for m in u.items] == [1, 2]
