"""A tiny movie world for the API tests: 16 movies in four taste clusters, 48 users, a fitted ItemKNN.

Clusters (catalog ids): sci-fi 0-4, comedy 5-8, horror 9-11, romance 12-15. Every user likes three
movies of one cluster, so the recommender's neighbours of a movie are the other movies of its cluster:
after "I loved The Matrix", the recommendations are the other sci-fi movies.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from dialogue.manager import DialogueManager
from dialogue.store import StateStore
from dialogue.understanding import RuleExtractor
from recsys.catalog.train_data import item_attributes
from recsys.catalog.types import Catalog, CatalogItem
from recsys.models.itemknn import ItemKNN
from recsys.models.types import TrainData

MOVIES: list[tuple[str, int, tuple[str, ...], str, str]] = [
    ("The Matrix", 1999, ("sci-fi", "action"), "Lana Wachowski", "Keanu Reeves"),
    ("Blade Runner", 1982, ("sci-fi", "thriller"), "Ridley Scott", "Harrison Ford"),
    ("Alien", 1979, ("sci-fi", "horror"), "Ridley Scott", "Sigourney Weaver"),
    ("Inception", 2010, ("sci-fi", "action"), "Christopher Nolan", "Leonardo DiCaprio"),
    ("Interstellar", 2014, ("sci-fi", "drama"), "Christopher Nolan", "Matthew McConaughey"),
    ("Groundhog Day", 1993, ("comedy", "romance"), "Harold Ramis", "Bill Murray"),
    ("Superbad", 2007, ("comedy",), "Greg Mottola", "Jonah Hill"),
    ("Anchorman", 2004, ("comedy",), "Adam McKay", "Will Ferrell"),
    ("Ghostbusters", 1984, ("comedy", "fantasy"), "Ivan Reitman", "Bill Murray"),
    ("The Shining", 1980, ("horror",), "Stanley Kubrick", "Jack Nicholson"),
    ("Hereditary", 2018, ("horror", "drama"), "Ari Aster", "Toni Collette"),
    ("The Exorcist", 1973, ("horror",), "William Friedkin", "Ellen Burstyn"),
    ("Notting Hill", 1999, ("comedy", "romance"), "Roger Michell", "Hugh Grant"),
    ("Casablanca", 1942, ("drama", "romance"), "Michael Curtiz", "Humphrey Bogart"),
    ("Titanic", 1997, ("drama", "romance"), "James Cameron", "Leonardo DiCaprio"),
    ("Before Sunrise", 1995, ("drama", "romance"), "Richard Linklater", "Ethan Hawke"),
]
CLUSTERS = {
    "sci-fi": [0, 1, 2, 3, 4],
    "comedy": [5, 6, 7, 8],
    "horror": [9, 10, 11],
    "romance": [12, 13, 14, 15],
}
MATRIX, BLADE_RUNNER, SUPERBAD, ANCHORMAN, SHINING = 0, 1, 6, 7, 9


def tiny_catalog() -> Catalog:
    items = [
        CatalogItem(
            item_id=i,
            title=title,
            year=year,
            genres=genres,
            directors=(director,),
            stars=(star,),
            popularity=float(100 - 5 * i),
            movielens_id=1000 + i,
        )
        for i, (title, year, genres, director, star) in enumerate(MOVIES)
    ]
    return Catalog(items)


def tiny_train_data(catalog: Catalog, n_users: int = 48, seed: int = 0) -> TrainData:
    rng = np.random.default_rng(seed)
    clusters = list(CLUSTERS.values())
    rows, cols = [], []
    for user in range(n_users):
        cluster = clusters[user % len(clusters)]
        for item in rng.choice(cluster, size=3, replace=False):
            rows.append(user)
            cols.append(int(item))
    user_items = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_users, len(catalog)))
    attributes, names = item_attributes(catalog)
    return TrainData(
        user_items,
        item_ids=np.arange(len(catalog)),
        user_ids=np.arange(n_users),
        item_attributes=attributes,
        attribute_names=names,
    )


def tiny_manager(store: StateStore) -> DialogueManager:
    """A dialogue manager over the tiny catalog (rules only, no embeddings, no LLM) on `store`."""
    catalog = tiny_catalog()
    recommender = ItemKNN().fit(tiny_train_data(catalog))
    extractor = RuleExtractor(catalog, use_embeddings=False)
    return DialogueManager(recommender, extractor, store, catalog)
