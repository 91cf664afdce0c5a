"""Catalog items over HTTP: title search with the dialogue's matcher, popular listing, item details."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.search import ItemSearch
from tests.api.synthetic import tiny_catalog


def search(client: TestClient, q: str, **params: object) -> dict:
    r = client.get("/v1/items", params={"q": q, **params})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize(
    ("query", "item_id", "match"),
    [
        ("the matrix", 0, "exact"),
        ("Matrix, The (1999)", 0, "exact"),
        ("MATRIX", 0, "exact"),
        ("interstelar", 4, "mention"),  # a typo, corrected by the dialogue's title matcher
        ("ghostbu", 8, "fuzzy"),  # partial input
        ("al", 2, "fuzzy"),  # short input: titles with a word starting with it
    ],
)
def test_search_finds_the_title(client: TestClient, query: str, item_id: int, match: str) -> None:
    body = search(client, query)
    assert body["query"] == query and body["total"] >= 1
    best = body["items"][0]
    assert (best["item_id"], best["match"]) == (item_id, match)
    assert 0 < best["score"] <= 1


def test_search_without_match_is_empty(client: TestClient) -> None:
    assert search(client, "godfather") == {"query": "godfather", "total": 0, "items": []}
    assert search(client, "it")["items"] == []  # no fuzzy noise on two letters


def test_year_narrows_the_search() -> None:
    search = ItemSearch(tiny_catalog())
    assert [h.item_id for h in search.search("alien 1979")][:1] == [2]
    assert search.search("alien 2015") == []


def test_listing_without_query_is_by_popularity_with_paging(client: TestClient) -> None:
    first = client.get("/v1/items", params={"limit": 3}).json()
    assert first["total"] == 16 and [i["item_id"] for i in first["items"]] == [0, 1, 2]
    assert first["items"][0]["score"] is None and first["items"][0]["match"] is None
    page = client.get("/v1/items", params={"limit": 3, "offset": 14}).json()
    assert [i["item_id"] for i in page["items"]] == [14, 15]


def test_item_details(client: TestClient) -> None:
    item = client.get("/v1/items/3").json()
    assert item["title"] == "Inception" and item["year"] == 2010
    assert item["directors"] == ["Christopher Nolan"] and item["genres"] == ["sci-fi", "action"]
    assert item["movielens_id"] == 1003


@pytest.mark.parametrize(
    ("path", "status"), [("/v1/items/16", 404), ("/v1/items/-1", 404), ("/v1/items/x", 422)]
)
def test_bad_item_ids(client: TestClient, path: str, status: int) -> None:
    assert client.get(path).status_code == status


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"q": "x" * 201}])
def test_bad_paging_is_422(client: TestClient, params: dict) -> None:
    assert client.get("/v1/items", params=params).status_code == 422
