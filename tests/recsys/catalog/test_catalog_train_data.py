"""The dialogue's TrainData built from the tiny catalog: shapes and known values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recsys.catalog.build import build_catalog
from recsys.catalog.io import load_train_data, save_train_data
from recsys.catalog.train_data import (
    REDIAL_USER_OFFSET,
    TrainDataConfig,
    build_train_data,
    describe_train_data,
    seeker_positives,
)
from tests.recsys.catalog.catalog_fixtures import dialogues, metadata, movielens_data, redial_movies


@pytest.fixture(scope="module")
def catalog():
    return build_catalog(movielens_data(), redial_movies(), metadata(), dialogues())[0]


@pytest.fixture(scope="module")
def data(catalog):
    return build_train_data(catalog, movielens_data().interactions, dialogues())


def _row(data, user_id: int) -> set[int]:
    row = int(np.flatnonzero(data.user_ids == user_id)[0])
    return set(data.user_items[row].indices.tolist())


def test_seeker_positives_rules() -> None:
    d1, d2, d3 = dialogues()
    assert seeker_positives(d1) == {101, 104, 109}  # liked, plus mentioned-and-not-disliked; 103 disliked
    assert seeker_positives(d2) == {102, 110}  # recommender's answers stand in for the seeker's
    assert seeker_positives(d3) == set()


def test_users_and_positives(catalog, data) -> None:
    c = catalog.from_movielens
    assert data.n_items == len(catalog) == 14
    assert data.user_ids.tolist() == [
        1,
        2,
        REDIAL_USER_OFFSET + 1,
        REDIAL_USER_OFFSET + 2,
    ]  # user 3: no positive
    assert _row(data, 1) == {c(1), c(3)}  # 5.0 and 4.0; the 2.0 is not a positive
    assert _row(data, 2) == {c(1), c(11)}  # 3.5 counts, 3.0 does not
    assert _row(data, REDIAL_USER_OFFSET + 1) == {c(1), c(6), catalog.from_redial(109)}
    assert _row(data, REDIAL_USER_OFFSET + 2) == {c(1), c(3)}  # 110 -> The Matrix, 102 -> Toy Story 2
    assert set(data.user_items.data.tolist()) == {1.0}
    assert data.item_ids.tolist() == list(range(14))


def test_attribute_matrix(catalog, data) -> None:
    names = list(data.attribute_names)
    matrix, obscure = catalog.from_movielens(1), catalog.from_redial(109)
    star = names.index("star:keanu reeves")  # in two movies: kept
    assert data.item_attributes[matrix, star] == 1 and data.item_attributes[obscure, star] == 1
    assert data.item_attributes[:, star].sum() == 2
    assert data.item_attributes[matrix, names.index("tag:cyberpunk")] == 1
    assert data.item_attributes[matrix, names.index("decade:1990s")] == 1
    assert data.item_attributes[matrix, names.index("genre:sci-fi")] == 1
    assert "director:lana wachowski" not in names  # one movie only: dropped
    assert "tag:philosophy" not in names
    kinds = [n.split(":", 1)[0] for n in names]
    assert kinds == sorted(kinds, key=["genre", "director", "writer", "star", "tag", "decade"].index)
    assert (np.asarray(data.item_attributes.sum(axis=0)).ravel() >= 2).all()


def test_co_mentions(catalog, data) -> None:
    matrix, obscure = catalog.from_movielens(1), catalog.from_redial(109)
    assert data.item_item[matrix, obscure] == data.item_item[obscure, matrix] == 2  # d1 and d2
    assert data.item_item[matrix, catalog.from_movielens(6)] == 1  # Se7en, d1 only
    assert data.item_item[catalog.from_movielens(6), catalog.from_movielens(3)] == 0  # never together
    assert data.item_item.diagonal().sum() == 0


def test_config_switches(catalog) -> None:
    interactions, talks = movielens_data().interactions, dialogues()
    only_ml = build_train_data(catalog, interactions, talks, TrainDataConfig(use_redial=False))
    assert only_ml.n_users == 2
    strict = build_train_data(catalog, interactions, talks, TrainDataConfig(min_rating=4.5, use_redial=False))
    assert strict.user_ids.tolist() == [1, 2] and strict.user_items.nnz == 2  # the 5.0 and the 4.5
    loose = build_train_data(catalog, interactions, None, TrainDataConfig(min_attribute_items=1))
    assert "director:lana wachowski" in loose.attribute_names and loose.item_item is None


def test_describe_and_npz_round_trip(data, tmp_path: Path) -> None:
    summary = describe_train_data(data)
    assert (summary["movielens_users"], summary["redial_users"], summary["interactions"]) == (
        2,
        2,
        2 + 2 + 3 + 2,
    )
    assert summary["attributes_by_kind"]["star"] == 1
    save_train_data(data, tmp_path)
    loaded = load_train_data(tmp_path)
    assert (loaded.user_items != data.user_items).nnz == 0
    assert (loaded.item_item != data.item_item).nnz == 0
    assert loaded.attribute_names == data.attribute_names
    assert loaded.user_ids.tolist() == data.user_ids.tolist()
