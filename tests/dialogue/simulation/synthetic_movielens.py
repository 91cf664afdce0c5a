"""A synthetic MovieLens release of the dialogue tests' movie world (tests.dialogue.world), with known
held-out answers.

Movie ids are the world's `movielens_id`s (1000 + catalog id). Each cluster has `USERS_PER_CLUSTER`
users; user j of a cluster rates, in time order: one movie of the next cluster 1.5 (a dislike), then
every member of its own cluster, starting at member j (rotated), 5.0 / 4.5 alternately - except that
for odd j the very last rating is 3.0 (not a like). So with `holdout=2` the held-out ratings are the
last two members of the rotation and the targets are both of them (even j) or the first of them
(odd j): `expected_split` computes exactly that.
"""

from __future__ import annotations

from pathlib import Path

from tests.dialogue.world import CLUSTERS, MOVIES

USERS_PER_CLUSTER = 5
ML_OFFSET = 1000


def ratings() -> list[tuple[int, int, float, int]]:
    """(user, movie, rating, timestamp) of every synthetic user."""
    rows: list[tuple[int, int, float, int]] = []
    clusters = list(CLUSTERS.values())
    user = 1
    for c, members in enumerate(clusters):
        other = clusters[(c + 1) % len(clusters)]
        for j in range(USERS_PER_CLUSTER):
            t = 1_000_000 + 1000 * user
            rows.append((user, ML_OFFSET + other[j % len(other)], 1.5, t))
            order = members[j % len(members) :] + members[: j % len(members)]
            for k, item in enumerate(order):
                rating = 5.0 if k % 2 == 0 else 4.5
                if j % 2 == 1 and k == len(order) - 1:
                    rating = 3.0
                rows.append((user, ML_OFFSET + item, rating, t + 10 * (k + 1)))
            user += 1
    return rows


def expected_split(holdout: int = 2) -> dict[int, tuple[tuple[int, ...], tuple[int, ...]]]:
    """user -> (held-out movie ids, target movie ids), from the rule of the module docstring."""
    out: dict[int, tuple[tuple[int, ...], tuple[int, ...]]] = {}
    by_user: dict[int, list[tuple[int, float, int]]] = {}
    for user, movie, rating, t in ratings():
        by_user.setdefault(user, []).append((movie, rating, t))
    for user, rows in by_user.items():
        rows.sort(key=lambda r: (r[2], r[0]))
        held = rows[-holdout:]
        out[user] = (tuple(m for m, _, _ in held), tuple(m for m, r, _ in held if r >= 4.0))
    return out


def _genres(genres: tuple[str, ...]) -> str:
    return "|".join(g.title() for g in genres)


def write_movielens(directory: Path, layout: str = "csv") -> Path:
    """The release in `layout` "csv" (ml-latest-small style) or "ml-10m" (`::` files, half stars)."""
    directory.mkdir(parents=True, exist_ok=True)
    if layout == "csv":
        movies = ["movieId,title,genres"] + [
            f'{ML_OFFSET + i},"{title} ({year})",{_genres(genres)}'
            for i, (title, year, genres, *_rest) in enumerate(MOVIES)
        ]
        (directory / "movies.csv").write_text("\n".join(movies) + "\n")
        lines = ["userId,movieId,rating,timestamp"] + [f"{u},{m},{r},{t}" for u, m, r, t in ratings()]
        (directory / "ratings.csv").write_text("\n".join(lines) + "\n")
        links = ["movieId,imdbId,tmdbId"] + [
            f"{ML_OFFSET + i},{100000 + i},{i + 1}" for i in range(len(MOVIES))
        ]
        (directory / "links.csv").write_text("\n".join(links) + "\n")
    elif layout == "ml-10m":
        movies = [
            f"{ML_OFFSET + i}::{title} ({year})::{_genres(genres)}"
            for i, (title, year, genres, *_rest) in enumerate(MOVIES)
        ]
        (directory / "movies.dat").write_text("\n".join(movies) + "\n")
        lines = [f"{u}::{m}::{r:g}::{t}" for u, m, r, t in ratings()]
        (directory / "ratings.dat").write_text("\n".join(lines) + "\n")
    else:
        raise ValueError(layout)
    return directory
