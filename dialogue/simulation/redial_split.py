"""A held-out split of the configured ReDial dialogues: the last N dialogues of `train_data.jsonl` become
the simulated users, and the models are trained on a copy of the ReDial directory without them.

`redial_holdout(redial_dir, n, artifacts_dir)` writes, under `<artifacts_dir>/simulation/redial-<key>/`
(key: the training file's size, mtime and N; a complete copy is reused):
- `redial/train_data.jsonl`: every line of the original except the last N dialogue lines (blank lines
  are not dialogues), byte-identical; `redial/movies_with_mentions.csv` and `movie_metadata.json`
  symlinked;
- `heldout.jsonl`: the N held-out lines.
Point `CRS_REDIAL_DIR` (`Settings.redial_dir`) at `redial/` to train without the held-out dialogues.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from recsys.errors import ConfigError, DataError

TRAIN_FILE = "train_data.jsonl"
SIDE_FILES = ("movies_with_mentions.csv", "movie_metadata.json")


@dataclass(frozen=True)
class RedialHoldout:
    """Where the training copy and the held-out dialogues are, and how many of each."""

    redial_dir: Path  # the training copy (a ReDial directory)
    heldout_file: Path
    train_dialogues: int
    heldout_dialogues: int


def _count(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for line in f if line.strip())


def redial_holdout(redial_dir: Path, n: int, artifacts_dir: Path) -> RedialHoldout:
    """Hold out the last `n` dialogues of `redial_dir/train_data.jsonl` (module docstring)."""
    source = Path(redial_dir).resolve() / TRAIN_FILE
    if not source.is_file():
        raise DataError(
            "ReDial training dialogues not found (set CRS_REDIAL_DIR or CRS_DATA_DIR)", path=source
        )
    if n < 1:
        raise ConfigError(f"the number of held-out dialogues must be >= 1, got {n}")
    stat = source.stat()
    key = hashlib.sha256(f"{source}:{stat.st_size}:{stat.st_mtime_ns}:{n}".encode()).hexdigest()[:16]
    out = Path(artifacts_dir) / "simulation" / f"redial-{key}"
    copy, heldout = out / "redial", out / "heldout.jsonl"
    if heldout.is_file() and (copy / TRAIN_FILE).is_file():
        return RedialHoldout(copy, heldout, _count(copy / TRAIN_FILE), _count(heldout))
    total = _count(source)
    if n >= total:
        raise ConfigError(f"cannot hold out {n} of the {total} dialogues of {source}: none would be left")
    copy.mkdir(parents=True, exist_ok=True)
    for name in SIDE_FILES:
        side, link = source.parent / name, copy / name
        if side.is_file() and not link.exists():
            link.symlink_to(side)
    seen = 0
    tmp_train, tmp_held = copy / f"{TRAIN_FILE}.tmp", out / "heldout.jsonl.tmp"
    with source.open("rb") as src, tmp_train.open("wb") as train, tmp_held.open("wb") as held:
        for line in src:
            if line.strip():
                seen += 1
            (held if seen > total - n and line.strip() else train).write(line)
    tmp_train.replace(copy / TRAIN_FILE)
    tmp_held.replace(heldout)
    return RedialHoldout(copy, heldout, total - n, n)
