"""ReDial recommendation samples and the held-out split of a dialogue file.

Protocol (as in KBRD / KGSF / UniCRS): every movie mentioned (`@id`) in a recommender (respondent)
message is one sample. The system sees only the messages *before* that message (texts and mentions);
the target message itself and everything after it are hidden. The questionnaires (initiatorQuestions /
respondentQuestions) are never used. A movie written several times in one message is one sample.

A sample is a *repeat* when its movie was mentioned (by either side) in an earlier message of the same
dialogue; `full` evaluates every sample, `dedup` only the non-repeats. Movies are compared as catalog
items (two ReDial ids of one film are the same movie); a ReDial id the catalog does not know is compared
by its ReDial id. A target the catalog does not know keeps `item = None`: it is a miss, never dropped.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from recsys.catalog.types import Catalog
from recsys.data.redial import load_redial_dialogues
from recsys.data.types import Dialogue, Message
from recsys.errors import ValidationError


@dataclass(frozen=True)
class RedialSample:
    """One target movie of one recommender message, and the dialogue prefix the system may see."""

    dialogue: Dialogue
    position: int  # index of the target message in dialogue.messages; context = messages[:position]
    redial_id: int
    item: int | None  # catalog id of the target, None when the catalog does not know the ReDial id
    repeat: bool  # the movie was mentioned in an earlier message

    @property
    def conversation_id(self) -> int:
        return self.dialogue.conversation_id

    @property
    def context(self) -> tuple[Message, ...]:
        """The messages the system sees: every message before the target message."""
        return self.dialogue.messages[: self.position]


def movie_key(catalog: Catalog, redial_id: int) -> tuple[str, int]:
    """Identity of a mentioned movie: its catalog item, else its (unknown) ReDial id."""
    item = catalog.from_redial(redial_id)
    return ("item", item) if item is not None else ("redial", redial_id)


def dialogue_samples(dialogue: Dialogue, catalog: Catalog) -> list[RedialSample]:
    """The samples of one dialogue, in message order (and mention order within a message)."""
    out: list[RedialSample] = []
    earlier: set[tuple[str, int]] = set()
    for position, message in enumerate(dialogue.messages):
        ids = list(dict.fromkeys(span.movie_id for span in message.mentions))
        if not message.is_seeker:
            for redial_id in ids:
                out.append(
                    RedialSample(
                        dialogue=dialogue,
                        position=position,
                        redial_id=redial_id,
                        item=catalog.from_redial(redial_id),
                        repeat=movie_key(catalog, redial_id) in earlier,
                    )
                )
        earlier.update(movie_key(catalog, rid) for rid in ids)
    return out


def extract_samples(dialogues: Iterable[Dialogue], catalog: Catalog) -> list[RedialSample]:
    """Every sample of every dialogue, in file order."""
    return [s for d in dialogues for s in dialogue_samples(d, catalog)]


def split_dialogues(
    dialogues: Sequence[Dialogue], fraction: float, seed: int
) -> tuple[list[Dialogue], list[Dialogue]]:
    """A seeded split by conversation: (kept, held out) with `fraction` of the conversations held out.

    Conversations are shuffled by id (not by file position), so the split of a conversation does not
    depend on the order of the file; both parts keep the file order.
    """
    if not 0.0 < fraction < 1.0:
        raise ValidationError(f"the held-out fraction must be in (0, 1), got {fraction}")
    ids = sorted({d.conversation_id for d in dialogues})
    if len(ids) < 2:
        raise ValidationError(f"cannot split {len(ids)} conversation(s) into two non-empty parts")
    random.Random(seed).shuffle(ids)
    n_held = min(max(1, round(fraction * len(ids))), len(ids) - 1)
    held = set(ids[:n_held])
    kept = [d for d in dialogues if d.conversation_id not in held]
    return kept, [d for d in dialogues if d.conversation_id in held]


def write_holdout_split(
    path: Path | str, out_dir: Path | str, *, fraction: float = 0.2, seed: int = 0
) -> tuple[Path, Path]:
    """Split a ReDial jsonl file by conversation (as `split_dialogues`) into `out_dir`/train.jsonl and
    `out_dir`/test.jsonl, each line copied unchanged. Returns the two paths."""
    path, out_dir = Path(path), Path(out_dir)
    lines = [(number, line) for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)]
    lines = [(n, line) for n, line in lines if line.strip()]
    dialogues = load_redial_dialogues(path)  # validates every line (DataError with file and line)
    _, held = split_dialogues(dialogues, fraction, seed)
    held_ids = {d.conversation_id for d in held}
    out_dir.mkdir(parents=True, exist_ok=True)
    train, test = out_dir / "train.jsonl", out_dir / "test.jsonl"
    with train.open("w", encoding="utf-8") as tr, test.open("w", encoding="utf-8") as te:
        for (_, line), dialogue in zip(lines, dialogues, strict=True):
            (te if dialogue.conversation_id in held_ids else tr).write(line + "\n")
    return train, test
