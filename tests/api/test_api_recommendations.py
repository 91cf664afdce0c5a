"""Stateless recommendations over HTTP: seeds, profiles, k bounds."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.synthetic import BLADE_RUNNER, CLUSTERS, MATRIX, SHINING


def recommend(client: TestClient, **body: object):
    return client.post("/v1/recommendations", json=body)


def test_liked_seed_gives_its_cluster(client: TestClient) -> None:
    r = recommend(client, liked=[MATRIX], k=4)
    assert r.status_code == 200
    recs = r.json()["recommendations"]
    assert {x["item_id"] for x in recs} == set(CLUSTERS["sci-fi"]) - {MATRIX}
    assert [x["score"] for x in recs] == sorted((x["score"] for x in recs), reverse=True)
    for x in recs:
        assert x["provenance"]["itemknn"]["rank"] >= 1 and "The Matrix" in x["explanation"]


def test_disliked_seed_is_never_returned(client: TestClient) -> None:
    recs = recommend(client, liked=[MATRIX], disliked=[BLADE_RUNNER], k=10).json()["recommendations"]
    ids = [x["item_id"] for x in recs]
    assert len(ids) == 10 and BLADE_RUNNER not in ids and MATRIX not in ids


def test_user_profile_is_used(client: TestClient) -> None:
    client.put("/v1/users/hana/profile", json={"liked_items": [SHINING]})
    recs = recommend(client, user_id="hana", k=2).json()["recommendations"]
    assert {x["item_id"] for x in recs} == set(CLUSTERS["horror"]) - {SHINING}


def test_counts_in_metrics(client: TestClient) -> None:
    def served() -> float:
        for line in client.get("/metrics").text.splitlines():
            if line.startswith('crs_recommendations_served_total{endpoint="recommendations"}'):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    before = served()
    recommend(client, liked=[MATRIX], k=3)
    assert served() == before + 3


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"liked": [MATRIX], "k": 0}, 422, "greater than or equal to 1"),
        ({"liked": [MATRIX], "k": 51}, 422, "between 1 and 50"),
        ({"liked": [MATRIX], "k": "ten"}, 422, "valid integer"),
        ({"liked": [99]}, 404, "99"),
        ({"liked": [-1]}, 422, "greater than or equal to 0"),
        ({"liked": [1], "disliked": [1]}, 422, "both liked and disliked"),
        ({"user_id": "bad id"}, 422, "pattern"),
        ({"liked": list(range(501))}, 422, "at most 500"),
    ],
)
def test_bad_requests(client: TestClient, body: dict, status: int, words: str) -> None:
    r = recommend(client, **body)
    assert r.status_code == status, r.text
    assert words in r.json()["error"]["message"]


def test_k_limit_is_configurable(make_client) -> None:
    client = make_client(recommend_max_k=5)
    assert recommend(client, liked=[MATRIX], k=5).status_code == 200
    assert recommend(client, liked=[MATRIX], k=6).status_code == 422
