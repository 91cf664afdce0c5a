"""Print the understanding figures for the README (and, with --mistakes, every utterance missed).

python -m tests.dialogue.understanding.report [--mistakes] [--embeddings]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from dialogue.understanding import RuleExtractor
from dialogue.understanding.evaluation import (
    EvaluationReport,
    LabelledExample,
    evaluate,
    format_mistakes,
    format_table,
    load_labelled,
)

from .catalog_fixture import build_test_catalog, id_by_display

LABELLED = Path(__file__).with_name("labelled_utterances.jsonl")


def labelled_examples() -> list[LabelledExample]:
    """The hand-labelled set, resolved against the fixed test catalog."""
    return load_labelled(LABELLED, id_by_display(build_test_catalog()))


def run(use_embeddings: bool = False) -> dict[str, EvaluationReport]:
    """Reports for the whole set and for each split ("dev", "heldout")."""
    extractor = RuleExtractor(build_test_catalog(), use_embeddings=use_embeddings)
    examples = labelled_examples()
    reports = {"all": evaluate(extractor, examples)}
    for split in sorted({ex.split for ex in examples}):
        reports[split] = evaluate(extractor, [ex for ex in examples if ex.split == split])
    return reports


def bench(n_items: int = 60_000, repeats: int = 5) -> str:
    """Index build time and per-message extraction time on a synthetic catalog of `n_items` titles."""
    from .synthetic import synthetic_catalog
    from .test_titles_large import MESSAGES

    catalog = synthetic_catalog(n_items)
    extractor = RuleExtractor(catalog, use_embeddings=False)
    best = []
    for text in MESSAGES:
        runs = []
        for _ in range(repeats):
            started = time.perf_counter()
            extractor.extract(text)
            runs.append(time.perf_counter() - started)
        best.append(min(runs))
    best_ms = sorted(1000 * b for b in best)
    return (
        f"{n_items} titles: index build {extractor.build_seconds:.2f} s; per message (best of {repeats}) "
        f"median {statistics.median(best_ms):.2f} ms, max {best_ms[-1]:.2f} ms over {len(MESSAGES)} messages"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mistakes", action="store_true", help="list the utterances with errors")
    parser.add_argument("--embeddings", action="store_true", help="also map moods with MiniLM")
    parser.add_argument("--bench", action="store_true", help="time a 60k-title synthetic catalog")
    args = parser.parse_args()
    reports = run(use_embeddings=args.embeddings)
    for name, report in reports.items():
        print(f"### {name}\n")
        print(format_table(report))
        print()
    if args.mistakes:
        print(format_mistakes(reports["all"]))
    if args.bench:
        print(bench())


if __name__ == "__main__":
    main()
