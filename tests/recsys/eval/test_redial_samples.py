"""ReDial samples on a hand-written 3-dialogue file with known samples, contexts and repeats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recsys.catalog.types import Catalog, CatalogItem
from recsys.data.redial import load_redial_dialogues
from recsys.errors import ValidationError
from recsys.eval.redial_samples import (
    dialogue_samples,
    extract_samples,
    split_dialogues,
    write_holdout_split,
)

SEEKER, RECOMMENDER = 10, 20


def _msg(i: int, sender: int, text: str) -> dict:
    return {"messageId": 1000 + i, "senderWorkerId": sender, "text": text, "timeOffset": i}


def _dialogue(conv: int, texts: list[tuple[int, str]], questions: dict | None = None) -> dict:
    return {
        "conversationId": conv,
        "movieMentions": {"101": "Alpha (2001)"},
        "initiatorQuestions": questions or [],
        "respondentQuestions": [],
        "initiatorWorkerId": SEEKER,
        "respondentWorkerId": RECOMMENDER,
        "messages": [_msg(i, s, t) for i, (s, t) in enumerate(texts)],
    }


DIALOGUES = [
    _dialogue(
        1,
        [
            (SEEKER, "hi, I liked @101"),
            (RECOMMENDER, "have you seen @102 or @101?"),  # 102 new, 101 repeat
            (SEEKER, "yes @102 was great"),
            (RECOMMENDER, "then try @103 and @103 again"),  # one sample: 103 new
        ],
        questions={"102": {"suggested": 1, "seen": 1, "liked": 1}},
    ),
    _dialogue(
        2,
        [
            (RECOMMENDER, "@104 is good"),  # 104 new, empty context
            (SEEKER, "seen @203"),  # 203 is another ReDial id of Gamma (103)
            (RECOMMENDER, "@103 then? or @999"),  # 103 repeat (alias), 999 unknown and new
        ],
    ),
    _dialogue(3, [(SEEKER, "@101"), (RECOMMENDER, "hello")]),  # no recommender mention: no sample
]


@pytest.fixture
def catalog() -> Catalog:
    names = ["Alpha", "Beta", "Gamma", "Delta", "Only In MovieLens"]
    redial = [101, 102, 103, 104, None]
    items = [CatalogItem(i, n, redial_id=r) for i, (n, r) in enumerate(zip(names, redial, strict=True))]
    return Catalog(items, redial_aliases={203: 2})


@pytest.fixture
def dialogue_file(tmp_path: Path) -> Path:
    path = tmp_path / "dialogues.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in DIALOGUES), encoding="utf-8")
    return path


def test_known_samples_full_and_dedup(dialogue_file: Path, catalog: Catalog) -> None:
    samples = extract_samples(load_redial_dialogues(dialogue_file), catalog)
    got = [(s.conversation_id, s.position, s.redial_id, s.item, s.repeat) for s in samples]
    assert got == [
        (1, 1, 102, 1, False),
        (1, 1, 101, 0, True),
        (1, 3, 103, 2, False),
        (2, 0, 104, 3, False),
        (2, 2, 103, 2, True),  # the seeker said @203, the same film
        (2, 2, 999, None, False),  # unknown to the catalog: kept, item None
    ]
    assert len(samples) == 6
    assert sum(not s.repeat for s in samples) == 4


def test_context_is_only_the_earlier_messages(dialogue_file: Path, catalog: Catalog) -> None:
    dialogues = load_redial_dialogues(dialogue_file)
    samples = dialogue_samples(dialogues[0], catalog)
    first, last = samples[0], samples[2]
    assert [m.text for m in first.context] == ["hi, I liked @101"]
    assert [m.text for m in last.context] == [
        "hi, I liked @101",
        "have you seen @102 or @101?",
        "yes @102 was great",
    ]
    for s in samples:  # neither the target message nor a later one is visible
        visible = {m.message_id for m in s.context}
        later = {m.message_id for m in s.dialogue.messages[s.position :]}
        assert not visible & later
    assert dialogue_samples(dialogues[1], catalog)[0].context == ()


def test_split_is_seeded_and_by_conversation(dialogue_file: Path, catalog: Catalog) -> None:
    dialogues = load_redial_dialogues(dialogue_file)
    kept, held = split_dialogues(dialogues, 0.34, seed=3)
    again = split_dialogues(list(reversed(dialogues)), 0.34, seed=3)
    assert {d.conversation_id for d in held} == {d.conversation_id for d in again[1]}
    assert len(held) == 1 and len(kept) == 2
    assert {d.conversation_id for d in kept} | {d.conversation_id for d in held} == {1, 2, 3}
    with pytest.raises(ValidationError):
        split_dialogues(dialogues, 1.0, seed=0)


def test_write_holdout_split_copies_lines(dialogue_file: Path, tmp_path: Path) -> None:
    train, test = write_holdout_split(dialogue_file, tmp_path / "split", fraction=0.34, seed=3)
    lines = dialogue_file.read_text().splitlines()
    out = train.read_text().splitlines() + test.read_text().splitlines()
    assert sorted(out) == sorted(lines)
    held = {d.conversation_id for d in split_dialogues(load_redial_dialogues(dialogue_file), 0.34, 3)[1]}
    assert {d.conversation_id for d in load_redial_dialogues(test)} == held
