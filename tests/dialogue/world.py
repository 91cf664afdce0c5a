"""A small movie world with known answers for the dialogue manager's tests.

Seven taste clusters of movies; every synthetic user likes three or four movies of one cluster, so a
movie's collaborative neighbours are exactly the other movies of its cluster. The sci-fi cluster holds
two sci-fi comedies (Men in Black, Galaxy Quest: "like The Matrix but funnier") and action movies
(The Matrix, Inception: "less violent" pushes them down); the war cluster is all violent, horror all
scary; years spread so that "more recent" has something to sort.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recsys.catalog.train_data import item_attributes
from recsys.catalog.types import Catalog, CatalogItem
from recsys.models.types import TrainData

# title, year, genres, director, star, tags
MOVIES: list[tuple[str, int, tuple[str, ...], str, str, tuple[str, ...]]] = [
    ("The Matrix", 1999, ("sci-fi", "action"), "Lana Wachowski", "Keanu Reeves", ("cyberpunk",)),
    ("Blade Runner", 1982, ("sci-fi", "thriller"), "Ridley Scott", "Harrison Ford", ("cyberpunk",)),
    ("Inception", 2010, ("sci-fi", "action"), "Christopher Nolan", "Leonardo DiCaprio", ()),
    ("Interstellar", 2014, ("sci-fi", "drama"), "Christopher Nolan", "Matthew McConaughey", ()),
    ("Arrival", 2016, ("sci-fi", "drama"), "Denis Villeneuve", "Amy Adams", ()),
    ("Gattaca", 1997, ("sci-fi", "drama"), "Andrew Niccol", "Ethan Hawke", ()),
    ("Men in Black", 1997, ("sci-fi", "comedy"), "Barry Sonnenfeld", "Will Smith", ()),
    ("Galaxy Quest", 1999, ("sci-fi", "comedy"), "Dean Parisot", "Tim Allen", ()),
    ("Groundhog Day", 1993, ("comedy", "romance"), "Harold Ramis", "Bill Murray", ("funny",)),
    ("Superbad", 2007, ("comedy",), "Greg Mottola", "Jonah Hill", ("funny",)),
    ("Anchorman", 2004, ("comedy",), "Adam McKay", "Will Ferrell", ()),
    ("Ghostbusters", 1984, ("comedy", "fantasy"), "Ivan Reitman", "Bill Murray", ()),
    ("Bridesmaids", 2011, ("comedy",), "Paul Feig", "Kristen Wiig", ()),
    ("The Shining", 1980, ("horror",), "Stanley Kubrick", "Jack Nicholson", ("scary",)),
    ("Hereditary", 2018, ("horror", "drama"), "Ari Aster", "Toni Collette", ("scary",)),
    ("The Exorcist", 1973, ("horror",), "William Friedkin", "Ellen Burstyn", ()),
    ("Get Out", 2017, ("horror", "thriller"), "Jordan Peele", "Daniel Kaluuya", ()),
    ("Saving Private Ryan", 1998, ("war", "drama"), "Steven Spielberg", "Tom Hanks", ("violence",)),
    ("Full Metal Jacket", 1987, ("war", "drama"), "Stanley Kubrick", "Matthew Modine", ()),
    ("Dunkirk", 2017, ("war", "action"), "Christopher Nolan", "Fionn Whitehead", ()),
    ("Platoon", 1986, ("war", "drama"), "Oliver Stone", "Charlie Sheen", ("violence",)),
    ("Notting Hill", 1999, ("comedy", "romance"), "Roger Michell", "Hugh Grant", ()),
    ("Casablanca", 1942, ("drama", "romance"), "Michael Curtiz", "Humphrey Bogart", ()),
    ("Titanic", 1997, ("drama", "romance"), "James Cameron", "Leonardo DiCaprio", ()),
    ("Before Sunrise", 1995, ("drama", "romance"), "Richard Linklater", "Ethan Hawke", ()),
    ("Toy Story", 1995, ("animation", "comedy", "family"), "John Lasseter", "Tom Hanks", ()),
    ("Finding Nemo", 2003, ("animation", "family"), "Andrew Stanton", "Albert Brooks", ()),
    ("Ratatouille", 2007, ("animation", "family"), "Brad Bird", "Patton Oswalt", ()),
    ("Shrek", 2001, ("animation", "comedy", "family"), "Andrew Adamson", "Mike Myers", ()),
]
CLUSTERS: dict[str, list[int]] = {
    "sci-fi": [0, 1, 2, 3, 4, 5, 6, 7],
    "comedy": [8, 9, 10, 11, 12],
    "horror": [13, 14, 15, 16],
    "war": [17, 18, 19, 20],
    "romance": [21, 22, 23, 24],
    "family": [25, 26, 27, 28],
}
ID = {title: i for i, (title, *_rest) in enumerate(MOVIES)}
SCI_FI, HORROR, WAR = set(CLUSTERS["sci-fi"]), set(CLUSTERS["horror"]), set(CLUSTERS["war"])


def world_catalog() -> Catalog:
    items = [
        CatalogItem(
            item_id=i,
            title=title,
            year=year,
            genres=genres,
            directors=(director,),
            stars=(star,),
            tags=tags,
            plot=f"The story of {title}.",
            popularity=float(len(MOVIES) - i),
            movielens_id=1000 + i,
        )
        for i, (title, year, genres, director, star, tags) in enumerate(MOVIES)
    ]
    return Catalog(items)


def world_train_data(catalog: Catalog, users_per_cluster: int = 40, seed: int = 0) -> TrainData:
    """Users who each like 3-4 movies of one cluster (more popular ones more often)."""
    rng = np.random.default_rng(seed)
    rows, cols = [], []
    user = 0
    for members in CLUSTERS.values():
        weights = np.linspace(2.0, 1.0, len(members))
        for _ in range(users_per_cluster):
            size = min(len(members), int(rng.integers(3, 5)))
            for item in rng.choice(members, size=size, replace=False, p=weights / weights.sum()):
                rows.append(user)
                cols.append(int(item))
            user += 1
    user_items = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(user, len(catalog)))
    attributes, names = item_attributes(catalog)
    return TrainData(
        user_items,
        item_ids=np.arange(len(catalog)),
        user_ids=np.arange(user),
        item_attributes=attributes,
        attribute_names=names,
    )
