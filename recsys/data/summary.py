"""Dataset summaries: the figures `crs data summary` prints, as plain JSON-ready dicts.

Counts are taken on what the loaders return, before any filtering. For MovieLens, `items` is the number
of distinct items in the ratings (ml-100k: 943 users, 1682 items, 100000 ratings); the movie list's size
is `n_movies_in_catalog_file`. For ReDial, a mention is one `@id` occurrence in a message text.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import numpy as np

from recsys.data.types import Dialogue, MovieLensData

#: messageId at and above which a ReDial message id was synthesized by the re-distribution.
SYNTHESIZED_MESSAGE_ID = 10_000_000


def _date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).date().isoformat()


def summarize_movielens(data: MovieLensData) -> dict[str, Any]:
    """users, items, ratings, layout, catalog size, tags, rating scale, years, dates, ids, skipped rows."""
    ratings = data.interactions.frame
    items = data.items.frame
    n_users, n_items, n_ratings = data.interactions.n_users, data.interactions.n_items, len(ratings)
    values = np.unique(ratings["rating"].to_numpy()) if n_ratings else np.array([])
    years = items["year"].dropna()
    item_tags = [t for tags in items["tags"] for t in tags]
    return {
        "layout": data.layout,
        "users": n_users,
        "items": n_items,
        "ratings": n_ratings,
        "density": round(n_ratings / (n_users * n_items), 6) if n_users and n_items else 0.0,
        "n_movies_in_catalog_file": len(items),
        "n_movies_without_ratings": int((~items["item_id"].isin(ratings["item_id"])).sum()),
        "n_tags": len(set(item_tags)),
        "n_item_tag_pairs": len(item_tags),
        "n_movies_with_tags": int(sum(1 for tags in items["tags"] if tags)),
        "n_genres": len({g for genres in items["genres"] for g in genres}),
        "n_movies_with_imdb_id": int(items["imdb_id"].notna().sum()),
        "rating_scale": {
            "min": float(values.min()) if len(values) else None,
            "max": float(values.max()) if len(values) else None,
            "values": [float(v) for v in values],
            "mean": round(float(ratings["rating"].mean()), 4) if n_ratings else None,
        },
        "year_range": {
            "min": int(years.min()) if len(years) else None,
            "max": int(years.max()) if len(years) else None,
            "n_movies_without_year": int(items["year"].isna().sum()),
        },
        "rating_dates": {
            "first": _date(int(ratings["timestamp"].min())) if n_ratings else None,
            "last": _date(int(ratings["timestamp"].max())) if n_ratings else None,
        },
        "skipped": dict(data.skipped),
    }


def summarize_redial(dialogues: Iterable[Dialogue]) -> dict[str, Any]:
    """dialogues, messages, mentions (`@id` occurrences), distinct movies, seeker/recommender messages."""
    n_dialogues = n_messages = n_mentions = n_seeker = n_synthesized = 0
    mentioned: set[int] = set()
    listed: set[int] = set()
    seekers: set[int] = set()
    recommenders: set[int] = set()
    for dialogue in dialogues:
        n_dialogues += 1
        seekers.add(dialogue.seeker_id)
        recommenders.add(dialogue.recommender_id)
        listed.update(dialogue.movie_mentions)
        if any(m.message_id >= SYNTHESIZED_MESSAGE_ID for m in dialogue.messages):
            n_synthesized += 1
        for message in dialogue.messages:
            n_messages += 1
            n_seeker += message.is_seeker
            n_mentions += len(message.mentions)
            mentioned.update(span.movie_id for span in message.mentions)
    return {
        "dialogues": n_dialogues,
        "messages": n_messages,
        "mentions": n_mentions,
        "distinct_movies_mentioned": len(mentioned),
        "distinct_movies_in_movie_mentions": len(listed),
        "seeker_messages": n_seeker,
        "recommender_messages": n_messages - n_seeker,
        "seekers": len(seekers),
        "recommenders": len(recommenders),
        "messages_per_dialogue": round(n_messages / n_dialogues, 2) if n_dialogues else 0.0,
        "dialogues_with_synthesized_message_ids": n_synthesized,
    }
