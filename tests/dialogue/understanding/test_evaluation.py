"""The evaluation helpers, and the hand-labelled set's figures held above floors.

The labelled set (labelled_utterances.jsonl) has two splits: "dev" (152 utterances, written first and
used while writing the rules) and "heldout" (65, written before the extractor was run on them). Labels
follow the annotation guide in report.py's docstring. Floors are the figures measured when the set was
written, minus a few points, so a change that loses precision or recall fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dialogue.understanding import Intent, Polarity, RuleExtractor
from dialogue.understanding.evaluation import PRF, LabelledExample, evaluate, format_table, load_labelled
from recsys.errors import DataError

from .report import LABELLED, labelled_examples

FLOORS = {
    "intent_accuracy": 0.93,  # measured 0.977
    "items.precision": 0.95,  # measured 1.000
    "items.f1": 0.94,  # measured 0.988
    "attributes.precision": 0.92,  # measured 0.962
    "attributes.f1": 0.93,  # measured 0.980
    "critiques.f1": 0.93,  # measured 1.000
}


def test_prf_arithmetic() -> None:
    prf = PRF(tp=6, fp=2, fn=4)
    assert prf.precision == pytest.approx(0.75)
    assert prf.recall == pytest.approx(0.6)
    assert prf.f1 == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    assert PRF(0, 0, 0).f1 == 1.0  # nothing expected, nothing found


def test_evaluate_counts_per_mention_with_polarity(extractor: RuleExtractor, ids) -> None:
    heat = str(ids["Heat (1995)"])
    examples = [
        LabelledExample("I loved Heat", Intent.STATE_PREFERENCE, frozenset({(heat, Polarity.LIKED)})),
        # the label says liked: the extraction (disliked) is a false positive and a false negative
        LabelledExample("I hated Heat", Intent.STATE_PREFERENCE, frozenset({(heat, Polarity.LIKED)})),
        LabelledExample("hello", Intent.GOODBYE),  # wrong intent
    ]
    report = evaluate(extractor, examples)
    assert (report.items.tp, report.items.fp, report.items.fn) == (1, 1, 1)
    assert (report.item_ids.tp, report.item_ids.fp, report.item_ids.fn) == (2, 0, 0)
    assert report.intent_accuracy == pytest.approx(2 / 3)
    assert [m.example.text for m in report.mistakes] == ["I hated Heat", "hello"]
    assert "| Items (id + polarity) | 0.500 | 0.500 | 0.500 | 1 | 1 | 1 |" in format_table(report)


def test_load_labelled_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    good = {"text": "hi", "intent": "chit_chat"}
    bad = {"text": "x", "intent": "chit_chat", "items": [["No Such Movie (1900)", "liked"]]}
    path.write_text(json.dumps(good) + "\n\n" + json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"set\.jsonl:3: .*No Such Movie") as err:
        load_labelled(path, {})
    assert err.value.line == 3
    path.write_text('{"text": "x", "intent": "dancing"}\n', encoding="utf-8")
    with pytest.raises(DataError, match="dancing"):
        load_labelled(path, {})


def test_labelled_set_is_large_and_well_formed() -> None:
    examples = labelled_examples()
    assert len(examples) >= 200
    assert sum(ex.split == "heldout" for ex in examples) >= 60
    assert len({ex.text for ex in examples}) == len(examples)  # no duplicates
    assert {ex.intent for ex in examples} == set(Intent)  # every intent is represented
    assert any(k.startswith("@") for ex in examples for k, _ in ex.items)  # an unknown @id
    lines = [line for line in LABELLED.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(lines) == len(examples)


def test_labelled_set_figures_stay_above_their_floors(extractor: RuleExtractor) -> None:
    report = evaluate(extractor, labelled_examples())
    figures = {
        "intent_accuracy": report.intent_accuracy,
        "items.precision": report.items.precision,
        "items.f1": report.items.f1,
        "attributes.precision": report.attributes.precision,
        "attributes.f1": report.attributes.f1,
        "critiques.f1": report.critiques.f1,
    }
    low = {k: round(v, 3) for k, v in figures.items() if v < FLOORS[k]}
    assert not low, f"below the floor: {low}\n{format_table(report)}"
