"""Evaluating an Extractor on hand-labelled utterances: precision / recall / F1 of item mentions and
attribute mentions (each with its polarity, and without), of critiques, and intent accuracy.

Labelled sets are JSONL, one utterance per line:

    {"text": "I liked @111 but not horror", "split": "dev", "intent": "state_preference",
     "items": [["Heat (1995)", "liked"]], "attributes": [["genre:horror", "disliked"]],
     "critiques": [["violence", "less"]],
     "context": {"last_recommended": ["Heat (1995)"], "last_question_kind": "director"}}

Items are named by whatever the caller's `item_ids` mapping knows (display names in the tests), or
"@<redial id>" for an `@id` the catalog does not know.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dialogue.understanding.types import (
    DialogueContext,
    Extractor,
    Intent,
    ItemMention,
    Polarity,
    Understanding,
)
from recsys.errors import DataError


@dataclass(frozen=True)
class LabelledExample:
    """One utterance with its expected extraction. Items are keyed by `item_key` strings."""

    text: str
    intent: Intent
    items: frozenset[tuple[str, Polarity]] = frozenset()
    attributes: frozenset[tuple[str, Polarity]] = frozenset()
    critiques: frozenset[tuple[str, str]] = frozenset()
    context: DialogueContext | None = None
    line: int = 0
    split: str = "dev"  # "dev": used while writing the rules; "heldout": written before any run on it


@dataclass(frozen=True)
class PRF:
    """Micro-averaged precision / recall / F1 over (true positive, false positive, false negative) counts."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class Mistake:
    """One utterance where the extraction differs from the label (for error analysis)."""

    example: LabelledExample
    understanding: Understanding
    what: tuple[str, ...]


@dataclass(frozen=True)
class EvaluationReport:
    n: int
    intent_accuracy: float
    items: PRF  # (item, polarity) pairs
    item_ids: PRF  # items regardless of polarity
    attributes: PRF  # (attribute, polarity) pairs
    attribute_names: PRF  # attributes regardless of polarity
    critiques: PRF  # (dimension, direction) pairs
    mean_ms: float
    max_ms: float
    mistakes: tuple[Mistake, ...] = field(default=(), repr=False)


def item_key(mention: ItemMention) -> str:
    """How an item mention is compared with a label: its catalog id, or "@<redial id>" when unknown."""
    return str(mention.item_id) if mention.item_id is not None else f"@{mention.redial_id}"


def load_labelled(path: Path | str, item_ids: Mapping[str, int]) -> list[LabelledExample]:
    """Read a JSONL labelled set; item names are resolved through `item_ids` (or "@123" for unknown ids).

    Raises DataError naming the file and line for malformed JSON, unknown intents / polarities or item
    names the mapping does not know.
    """
    path = Path(path)
    examples = []
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            examples.append(_parse_example(json.loads(raw), item_ids, lineno))
        except (ValueError, KeyError, TypeError) as exc:
            raise DataError(f"bad labelled utterance: {exc}", path=path, line=lineno) from exc
    return examples


def _parse_example(obj: dict, item_ids: Mapping[str, int], line: int) -> LabelledExample:
    def item(name: str) -> str:
        if name.startswith("@"):
            return f"@{int(name[1:])}"
        if name not in item_ids:
            raise KeyError(f"unknown item {name!r}")
        return str(item_ids[name])

    ctx = obj.get("context")
    context = None
    if ctx is not None:
        recommended = tuple(int(item(n)) for n in ctx.get("last_recommended", []))
        context = DialogueContext(
            last_recommended=recommended, last_question_kind=ctx.get("last_question_kind")
        )
    return LabelledExample(
        text=obj["text"],
        intent=Intent(obj["intent"]),
        items=frozenset((item(n), Polarity(p)) for n, p in obj.get("items", [])),
        attributes=frozenset((a, Polarity(p)) for a, p in obj.get("attributes", [])),
        critiques=frozenset((d, direction) for d, direction in obj.get("critiques", [])),
        context=context,
        line=line,
        split=str(obj.get("split", "dev")),
    )


def _count(expected: Iterable, found: Iterable) -> tuple[int, int, int]:
    e, f = set(expected), set(found)
    return len(e & f), len(f - e), len(e - f)


def evaluate(extractor: Extractor, examples: Sequence[LabelledExample]) -> EvaluationReport:
    """Run the extractor on every example and score it (micro-averaged over all mentions)."""
    totals = {k: [0, 0, 0] for k in ("items", "item_ids", "attributes", "attribute_names", "critiques")}
    correct_intents = 0
    times: list[float] = []
    mistakes: list[Mistake] = []
    for ex in examples:
        started = time.perf_counter()
        u = extractor.extract(ex.text, ex.context)
        times.append(time.perf_counter() - started)
        found = {
            "items": {(item_key(m), m.polarity) for m in u.items},
            "item_ids": {item_key(m) for m in u.items},
            "attributes": {(a.attribute, a.polarity) for a in u.attributes},
            "attribute_names": {a.attribute for a in u.attributes},
            "critiques": {(c.dimension, c.direction) for c in u.critiques},
        }
        expected = {
            "items": ex.items,
            "item_ids": {k for k, _ in ex.items},
            "attributes": ex.attributes,
            "attribute_names": {a for a, _ in ex.attributes},
            "critiques": ex.critiques,
        }
        what = []
        for key, total in totals.items():
            tp, fp, fn = _count(expected[key], found[key])
            total[0] += tp
            total[1] += fp
            total[2] += fn
            if (fp or fn) and key in ("items", "attributes", "critiques"):
                what.append(
                    f"{key}: expected {sorted(map(str, expected[key]))}, got {sorted(map(str, found[key]))}"
                )
        if u.intent is ex.intent:
            correct_intents += 1
        else:
            what.append(f"intent: expected {ex.intent.value}, got {u.intent.value}")
        if what:
            mistakes.append(Mistake(ex, u, tuple(what)))
    n = len(examples)
    return EvaluationReport(
        n=n,
        intent_accuracy=correct_intents / n if n else 0.0,
        **{k: PRF(*v) for k, v in totals.items()},
        mean_ms=1000 * sum(times) / n if n else 0.0,
        max_ms=1000 * max(times) if times else 0.0,
        mistakes=tuple(mistakes),
    )


def format_table(report: EvaluationReport) -> str:
    """The report as a Markdown table (for the README)."""
    rows = [
        ("Items (id + polarity)", report.items),
        ("Items (id only)", report.item_ids),
        ("Attributes (name + polarity)", report.attributes),
        ("Attributes (name only)", report.attribute_names),
        ("Critiques (dimension + direction)", report.critiques),
    ]
    lines = [
        f"Labelled utterances: {report.n}; intent accuracy: {report.intent_accuracy:.3f}; "
        f"extraction time: mean {report.mean_ms:.2f} ms, max {report.max_ms:.2f} ms per message",
        "",
        "| Extraction | Precision | Recall | F1 | TP | FP | FN |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, prf in rows:
        scores = f"{prf.precision:.3f} | {prf.recall:.3f} | {prf.f1:.3f}"
        lines.append(f"| {name} | {scores} | {prf.tp} | {prf.fp} | {prf.fn} |")
    return "\n".join(lines)


def format_mistakes(report: EvaluationReport, limit: int | None = None) -> str:
    """One block per utterance the extractor got (partly) wrong."""
    out = []
    for m in report.mistakes[:limit]:
        out.append(f"line {m.example.line}: {m.example.text!r}")
        out.extend(f"    {w}" for w in m.what)
    return "\n".join(out)
