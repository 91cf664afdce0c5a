"""The movie world of `tests.dialogue.world` written as real dataset files (an ml-latest-small style
MovieLens directory and a ReDial directory), so that `crs train` / `crs chat` run the whole pipeline:
loaders -> alignment (by IMDb id) -> catalog -> TrainData -> models -> dialogue."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.dialogue.world import MOVIES, world_catalog, world_train_data

_ML_GENRES = {
    "sci-fi": "Sci-Fi", "action": "Action", "thriller": "Thriller", "drama": "Drama", "comedy": "Comedy",
    "romance": "Romance", "fantasy": "Fantasy", "horror": "Horror", "war": "War", "animation": "Animation",
    "family": "Children",
}  # fmt: skip


def _ml_title(title: str, year: int) -> str:
    """MovieLens style: "Matrix, The (1999)"."""
    if title.startswith("The "):
        title = f"{title[4:]}, The"
    return f"{title} ({year})"


def write_world_dataset(root: Path) -> Path:
    """Write the world under `root` (use it as CRS_DATA_DIR) and return `root`."""
    ml = root / "movielens" / "ml-latest-small"
    redial = root / "redial"
    ml.mkdir(parents=True)
    redial.mkdir(parents=True)
    data = world_train_data(world_catalog())
    ui = data.user_items.tocoo()
    with open(ml / "movies.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["movieId", "title", "genres"])
        for i, (title, year, genres, *_rest) in enumerate(MOVIES):
            w.writerow([1000 + i, _ml_title(title, year), "|".join(_ML_GENRES[g] for g in genres)])
    with open(ml / "ratings.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["userId", "movieId", "rating", "timestamp"])
        for n, (user, item) in enumerate(zip(ui.row, ui.col, strict=True)):
            w.writerow([int(user) + 1, 1000 + int(item), 4.5, 1_500_000_000 + n])
    with open(ml / "tags.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["userId", "movieId", "tag", "timestamp"])
        for i, (*_rest, tags) in enumerate(MOVIES):
            w.writerows([1, 1000 + i, tag, 1_500_000_000] for tag in tags)
    with open(ml / "links.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["movieId", "imdbId", "tmdbId"])
        w.writerows([1000 + i, f"{9000000 + i:07d}", 500 + i] for i in range(len(MOVIES)))
    with open(redial / "movies_with_mentions.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["movieId", "movieName", "nbMentions"])
        w.writerows([70000 + i, f"{title}  ({year})", 3] for i, (title, year, *_rest) in enumerate(MOVIES))
    metadata = {
        str(70000 + i): {
            "name": f"{title} ({year})",
            "genre": list(genres),
            "plot": f"The story of {title}.",
            "director": [director],
            "writer": [director],
            "star": [star],
            "imdb_id": f"tt{9000000 + i:07d}",
        }
        for i, (title, year, genres, director, star, _tags) in enumerate(MOVIES)
    }
    (redial / "movie_metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    dialogue = {
        "conversationId": 1,
        "initiatorWorkerId": 1,
        "respondentWorkerId": 2,
        "movieMentions": {"70000": "The Matrix", "70001": "Blade Runner"},
        "initiatorQuestions": {"70000": {"suggested": 0, "seen": 1, "liked": 1}},
        "respondentQuestions": {"70001": {"suggested": 1, "seen": 0, "liked": 2}},
        "messages": [
            {"messageId": 1, "senderWorkerId": 1, "text": "I love @70000", "timeOffset": 0},
            {"messageId": 2, "senderWorkerId": 2, "text": "Then try @70001", "timeOffset": 1},
        ],
    }
    (redial / "train_data.jsonl").write_text(json.dumps(dialogue) + "\n", encoding="utf-8")
    return root
