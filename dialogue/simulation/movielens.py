"""Simulated users from held-out MovieLens users, and the training copy of MovieLens without their
held-out ratings.

Split (`split_movielens`). A user's ratings are ordered by (timestamp, movie id); the last `holdout`
of them are held out. The user is eligible when at least one held-out rating is a like (rating >=
`threshold`) and at least `min_train_liked` likes remain in training. `users` eligible users are drawn
with a seeded sample (in user-id order); the others keep all their ratings.

Training copy (`write_training_copy`). The release directory again, in its own layout, with every
held-out rating (liked or not) removed from the ratings file (`u.data`, `ratings.dat` or `ratings.csv`,
lines otherwise byte-identical) and every other file symlinked; `heldout.json` beside it lists what was
removed. Models trained on it (`CRS_MOVIELENS_DIR` / `Settings.movielens_dir`) have never seen a
simulated user's targets. `training_copy` puts it under `<artifacts>/simulation/` keyed by a hash of the
split, and reuses a complete copy.

Users (`users_from_movielens`). Targets: the held-out likes, mapped to catalog ids (`from_movielens`;
unmapped ones dropped). Opening, seeded per user: two of the user's best-rated training likes by title
("I loved X and Y. ...") with probability 2/3, else the two genres most frequent among the training likes
("I'm in the mood for a comedy or drama movie."). A training like whose title the leak guard flags
(e.g. a sequel of a target) is never used, and the opening passes the guard like every utterance.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dialogue.simulation.leak import LeakGuard
from dialogue.simulation.users import GENERIC_OPENING, BuildReport, SimulatedUser, make_user
from recsys.catalog.types import Catalog
from recsys.data.movielens import LAYOUT_FILES, detect_layout
from recsys.data.types import MovieLensData
from recsys.errors import DataError

RATINGS_FILES = {"ml-100k": ("u.data", "\t"), "ml-1m": ("ratings.dat", "::"), "csv": ("ratings.csv", ",")}
HELDOUT_FILE = "heldout.json"
_TITLE_OPENINGS = (
    "I loved {a} and {b}. Can you recommend something?",
    "I really enjoyed {a} and {b}, what should I watch next?",
    "Something for someone who liked {a} and {b}?",
)
_ONE_TITLE_OPENINGS = ("I loved {a}. Can you recommend something?", "I really enjoyed {a}, any ideas?")
_GENRE_OPENINGS = (
    "I'm in the mood for a {a} or {b} movie.",
    "Can you recommend a {a} or {b} movie?",
)


@dataclass(frozen=True)
class HeldOutUser:
    """One MovieLens user's split: MovieLens movie ids."""

    user: int
    train_liked: tuple[int, ...]  # best-rated first, then most recent
    heldout: tuple[int, ...]  # every held-out rating's movie (removed from training)
    targets: tuple[int, ...]  # the held-out likes


@dataclass(frozen=True)
class MovieLensSplit:
    """Held-out users of one release, and the rule that chose them."""

    users: tuple[HeldOutUser, ...]
    threshold: float
    holdout: int
    min_train_liked: int
    seed: int
    eligible: int  # users that met the rule (the sample was drawn from them)

    def removed(self) -> set[tuple[int, int]]:
        """(user, movie) of every held-out rating."""
        return {(u.user, m) for u in self.users for m in u.heldout}

    def to_dict(self) -> dict[str, object]:
        return {
            "threshold": self.threshold,
            "holdout": self.holdout,
            "min_train_liked": self.min_train_liked,
            "seed": self.seed,
            "eligible": self.eligible,
            "users": [
                {"user": u.user, "heldout": list(u.heldout), "targets": list(u.targets)} for u in self.users
            ],
        }

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:16]


def split_movielens(
    data: MovieLensData,
    *,
    users: int,
    seed: int,
    threshold: float = 4.0,
    holdout: int = 10,
    min_train_liked: int = 2,
) -> MovieLensSplit:
    """Hold out the last `holdout` ratings of `users` seeded eligible users (module docstring)."""
    if users < 1 or holdout < 1 or min_train_liked < 0:
        raise ValueError("users and holdout must be >= 1, min_train_liked >= 0")
    frame = data.interactions.frame.sort_values(["user_id", "timestamp", "item_id"], kind="stable")
    candidates: list[HeldOutUser] = []
    for user, rows in frame.groupby("user_id", sort=True):
        if len(rows) <= holdout:
            continue
        train, held = rows.iloc[:-holdout], rows.iloc[-holdout:]
        targets = tuple(int(m) for m in held.loc[held["rating"] >= threshold, "item_id"])
        liked = train[train["rating"] >= threshold].iloc[::-1]  # most recent first ...
        liked = liked.sort_values("rating", ascending=False, kind="stable")  # ... within best-rated first
        if not targets or len(liked) < min_train_liked:
            continue
        candidates.append(
            HeldOutUser(
                user=int(user),  # type: ignore[call-overload]
                train_liked=tuple(int(m) for m in liked["item_id"]),
                heldout=tuple(int(m) for m in held["item_id"]),
                targets=targets,
            )
        )
    chosen = sorted(random.Random(seed).sample(range(len(candidates)), min(users, len(candidates))))
    return MovieLensSplit(
        users=tuple(candidates[i] for i in chosen),
        threshold=threshold,
        holdout=holdout,
        min_train_liked=min_train_liked,
        seed=seed,
        eligible=len(candidates),
    )


def write_training_copy(source: Path, split: MovieLensSplit, out: Path) -> Path:
    """`source` without the split's held-out ratings, in the same layout, into `out` (module docstring).

    DataError when a held-out rating is not found in the ratings file (the split is of another release).
    """
    source, out = Path(source).resolve(), Path(out)
    layout = detect_layout(source)
    name, sep = RATINGS_FILES[layout]
    removed = split.removed()
    out.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        target = out / path.name
        if path.is_file() and path.name != name and not target.exists():
            target.symlink_to(path)
    found: set[tuple[int, int]] = set()
    tmp = out / f"{name}.tmp"
    with (source / name).open("rb") as src, tmp.open("wb") as dst:
        user_col, item_col = 0, 1
        if layout == "csv":
            header = src.readline()
            columns = header.decode("utf-8-sig").strip().split(",")
            try:
                user_col, item_col = columns.index("userId"), columns.index("movieId")
            except ValueError:
                raise DataError("header lacks userId / movieId", path=source / name, line=1) from None
            dst.write(header)
        for line in src:
            fields = line.decode("utf-8", "replace").split(sep)
            try:
                key = (int(fields[user_col]), int(fields[item_col]))
            except (ValueError, IndexError):
                dst.write(line)  # not a rating line; the loader will judge it
                continue
            if key in removed:
                found.add(key)
            else:
                dst.write(line)
    missing = removed - found
    if missing:
        tmp.unlink()
        raise DataError(
            f"{len(missing)} held-out ratings are not in the ratings file, e.g. (user, movie) "
            f"{sorted(missing)[0]}: the split was made from another release",
            path=source / name,
        )
    tmp.replace(out / name)
    (out / HELDOUT_FILE).write_text(json.dumps({"source": str(source), **split.to_dict()}, indent=1))
    return out


def training_copy(source: Path, split: MovieLensSplit, artifacts_dir: Path) -> Path:
    """The training copy for `split` under `<artifacts_dir>/simulation/`, written unless complete."""
    source = Path(source).resolve()
    stat = (source / RATINGS_FILES[detect_layout(source)][0]).stat()
    key = hashlib.sha256(f"{source}:{stat.st_size}:{stat.st_mtime_ns}:{split.digest()}".encode())
    out = Path(artifacts_dir) / "simulation" / f"movielens-{key.hexdigest()[:16]}"
    if (out / HELDOUT_FILE).is_file() and all(
        (out / f).exists() for f in LAYOUT_FILES[detect_layout(source)]
    ):
        return out
    return write_training_copy(source, split, out)


def _opening(user: HeldOutUser, catalog: Catalog, guard: LeakGuard, rng: random.Random) -> str:
    items = [catalog.from_movielens(m) for m in user.train_liked]
    liked = [i for i in items if i is not None]
    cues = [catalog[i].title for i in liked[:8] if guard.leaks(catalog[i].title) is None]
    genres = [g for g, _ in Counter(g for i in liked for g in catalog[i].genres).most_common(2)]
    if cues and (rng.random() < 2 / 3 or len(genres) < 2):
        if len(cues) >= 2:
            a, b = rng.sample(cues[:4], 2)
            return rng.choice(_TITLE_OPENINGS).format(a=a, b=b)
        return rng.choice(_ONE_TITLE_OPENINGS).format(a=cues[0])
    if len(genres) == 2:
        return rng.choice(_GENRE_OPENINGS).format(a=genres[0], b=genres[1])
    return GENERIC_OPENING


def users_from_movielens(
    split: MovieLensSplit | Sequence[HeldOutUser], catalog: Catalog, seed: int
) -> BuildReport:
    """One simulated user per held-out user with a target in the catalog (module docstring)."""
    held = split.users if isinstance(split, MovieLensSplit) else tuple(split)
    users: list[SimulatedUser] = []
    skipped: dict[str, int] = {}
    for user in held:
        targets = [i for i in (catalog.from_movielens(m) for m in user.targets) if i is not None]
        if not targets:
            skipped["no target in the catalog"] = skipped.get("no target in the catalog", 0) + 1
            continue
        guard = LeakGuard([catalog[i].title for i in targets])
        opening = _opening(user, catalog, guard, random.Random(f"{seed}:movielens-{user.user}"))
        users.append(make_user(f"movielens-{user.user}", catalog, targets, opening, source="movielens"))
    return BuildReport(users, skipped)
