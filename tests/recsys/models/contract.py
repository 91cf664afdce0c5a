"""The Recommender contract as a reusable test mixin, plus the synthetic data it runs on.

Every candidate generator's test class inherits `RecommenderContract` and implements `make_model()`:

    class TestItemKNN(RecommenderContract):
        def make_model(self) -> Recommender:
            return ItemKNN(k_neighbors=10)

The data (`make_contract_data`) has blocks of items and users: a user likes only items of its own block,
one item of the block is held out per user, and two "cold" items nobody interacted with exist only
through their attributes. So the right answers are known: a user's unseen block items must come before
every other item, a profile of block items recommends the rest of that block, an item's neighbours are
in its block, and an attribute-only profile recommends exactly the items that carry the attribute.

The model is fitted once per test class (class-scoped fixture). Knobs for models that learn slowly or
approximately (GNNs): `data_kwargs`, `min_hit_rate` (share of users / items / profiles that must meet a
block assertion), `rank_slack` (extra ranks allowed for the held-out item), `personalised` (False for
Popularity: block assertions are skipped; its own tests assert the popularity order), and
`deterministic_fit` (two fits give identical scores), `handles_dislikes` (a disliked item lowers the
scores of its block).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.errors import NotFittedError, UnknownItemError, UnknownUserError
from recsys.models.base import Recommender
from recsys.models.types import Profile, Recommendations, TrainData


@dataclass(frozen=True)
class ContractData:
    """Block-structured training data with known answers."""

    data: TrainData
    item_block: np.ndarray  # block of each item; -1 for cold items
    user_block: np.ndarray  # block of each user
    held_out: np.ndarray  # per user: the in-block item withheld from training
    attribute: dict[str, int]  # attribute name -> index
    items_with: dict[str, frozenset[int]]  # attribute name -> items carrying it

    def block_items(self, block: int) -> np.ndarray:
        return np.flatnonzero(self.item_block == block)

    def seen(self, user: int) -> np.ndarray:
        return self.data.user_items[user].indices

    def unseen_in_block(self, user: int) -> np.ndarray:
        return np.setdiff1d(self.block_items(int(self.user_block[user])), self.seen(user))


def make_contract_data(
    n_blocks: int = 2, items_per_block: int = 12, users_per_block: int = 24, n_cold: int = 2, seed: int = 0
) -> ContractData:
    """Users of block b like items of block b only: item j of a block with probability 0.9 .. 0.5
    (decreasing with j, so popularity varies), never their held-out item, at least 3 items each.
    Attributes: genre:<block letter> per block, tag:rare on one item of each block and the first cold
    item, decade:1990s on the last cold item only."""
    assert items_per_block >= 6 and n_cold >= 2 and n_blocks >= 2
    rng = np.random.default_rng(seed)
    n_items = n_blocks * items_per_block + n_cold
    item_block = np.concatenate([np.repeat(np.arange(n_blocks), items_per_block), -np.ones(n_cold, int)])
    like_p = np.linspace(0.9, 0.5, items_per_block)
    rows: list[np.ndarray] = []
    user_block, held_out = [], []
    for b in range(n_blocks):
        for u in range(users_per_block):
            hold = u % items_per_block
            liked = np.array([])
            while len(liked) < 3:
                mask = rng.random(items_per_block) < like_p
                mask[hold] = False
                liked = np.flatnonzero(mask)
            rows.append(b * items_per_block + liked)
            user_block.append(b)
            held_out.append(b * items_per_block + hold)
    indptr = np.cumsum([0] + [len(r) for r in rows])
    user_items = sp.csr_matrix(
        (np.ones(indptr[-1], np.float32), np.concatenate(rows), indptr), shape=(len(rows), n_items)
    )
    cold = list(range(n_blocks * items_per_block, n_items))
    items_with = {
        f"genre:{chr(ord('a') + b)}": frozenset(np.flatnonzero(item_block == b).tolist())
        for b in range(n_blocks)
    }
    items_with["tag:rare"] = frozenset([2, items_per_block + 5, cold[0]])
    items_with["decade:1990s"] = frozenset([cold[-1]])
    names = tuple(items_with)
    ia = sp.lil_matrix((n_items, len(names)), dtype=np.float32)
    for a, name in enumerate(names):
        for i in items_with[name]:
            ia[i, a] = 1.0
    data = TrainData(
        user_items=user_items,
        item_ids=np.arange(100, 100 + n_items),
        user_ids=np.arange(len(rows)),
        item_attributes=ia.tocsr(),
        attribute_names=names,
    )
    return ContractData(
        data=data,
        item_block=item_block,
        user_block=np.asarray(user_block),
        held_out=np.asarray(held_out),
        attribute={name: a for a, name in enumerate(names)},
        items_with=items_with,
    )


def assert_same(a: Recommendations, b: Recommendations) -> None:
    """Identical items and bit-identical scores."""
    np.testing.assert_array_equal(a.items, b.items)
    np.testing.assert_array_equal(a.scores, b.scores)


def assert_well_formed(recs: Recommendations, name: str) -> None:
    """Unique int64 items, finite non-increasing float32 scores, provenance under `name` with ranks 1..k."""
    assert recs.items.dtype == np.int64 and recs.scores.dtype == np.float32
    assert len(set(recs.items.tolist())) == len(recs.items)
    assert np.all(np.isfinite(recs.scores))
    assert np.all(np.diff(recs.scores) <= 0), recs.scores
    assert len(recs.provenance) == len(recs.items)
    for rank, (trace_map, score) in enumerate(zip(recs.provenance, recs.scores, strict=True), start=1):
        trace = trace_map[name]
        assert trace.rank == rank
        assert trace.score == float(score)


class RecommenderContract:
    """Inherit in a `Test...` class and implement `make_model()`; the fitted model is shared per class."""

    personalised: ClassVar[bool] = True
    min_hit_rate: ClassVar[float] = 1.0
    rank_slack: ClassVar[int] = 0
    deterministic_fit: ClassVar[bool] = True
    handles_dislikes: ClassVar[bool] = True
    data_kwargs: ClassVar[dict[str, Any]] = {}

    def make_model(self) -> Recommender:
        """A fresh, unfitted model of the class under test."""
        raise NotImplementedError

    # ---- fixtures ----------------------------------------------------------------------------------
    @pytest.fixture(scope="class")
    def cdata(self) -> ContractData:
        return make_contract_data(**self.data_kwargs)

    @pytest.fixture(scope="class")
    def model(self, cdata: ContractData) -> Recommender:
        return self.make_model().fit(cdata.data)

    def _need_blocks(self) -> None:
        if not self.personalised:
            pytest.skip("not a personalised model: block structure does not apply")

    def _assert_rate(self, hits: list[bool], what: str) -> None:
        rate = float(np.mean(hits))
        assert rate >= self.min_hit_rate, f"{what}: {rate:.2f} < {self.min_hit_rate}"

    # ---- known users -------------------------------------------------------------------------------
    def test_held_out_item_ranks_with_the_users_block(self, model: Recommender, cdata: ContractData) -> None:
        self._need_blocks()
        users = np.arange(cdata.data.n_users)
        recs = model.recommend(users, k=cdata.data.n_items)
        hits = []
        for u, rec in zip(users, recs, strict=True):
            n_unseen = len(cdata.unseen_in_block(u))
            top = rec.items[:n_unseen]
            in_block = bool(np.all(cdata.item_block[top] == cdata.user_block[u]))
            hits.append(in_block and cdata.held_out[u] in rec.items[: n_unseen + self.rank_slack])
        self._assert_rate(hits, "users whose unseen block items (with the held-out one) rank first")

    def test_filter_seen(self, model: Recommender, cdata: ContractData) -> None:
        n = cdata.data.n_items
        for u in range(0, cdata.data.n_users, 7):
            seen = set(cdata.seen(u).tolist())
            filtered = model.recommend([u], k=n)[0]
            assert not seen & set(filtered.items.tolist())
            assert sorted(filtered.items.tolist()) == sorted(set(range(n)) - seen)
            everything = model.recommend([u], k=n, filter_seen=False)[0]
            assert sorted(everything.items.tolist()) == list(range(n))

    def test_batch_equals_single(self, model: Recommender, cdata: ContractData) -> None:
        users = list(range(cdata.data.n_users))
        for batch, u in zip(model.recommend(users, k=7), users, strict=True):
            assert_same(batch, model.recommend([u], k=7)[0])
        profiles = [*self._block_profiles(cdata), Profile(liked_attributes=(0,)), Profile()]
        for batch, p in zip(model.recommend(profiles=profiles, k=7), profiles, strict=True):
            assert_same(batch, model.recommend(profiles=[p], k=7)[0])

    # ---- profiles and similar items ----------------------------------------------------------------
    @staticmethod
    def _block_profiles(cdata: ContractData) -> list[Profile]:
        profiles = []
        for b in range(int(cdata.item_block.max()) + 1):
            items = cdata.block_items(b)
            profiles.append(Profile(liked_items=tuple(int(i) for i in items[:4])))
            profiles.append(
                Profile(liked_items=tuple(int(i) for i in items[-3:]), item_weights=(2.0, 1.0, 0.5))
            )
        return profiles

    def test_profile_recommends_rest_of_its_block(self, model: Recommender, cdata: ContractData) -> None:
        self._need_blocks()
        hits = []
        for p in self._block_profiles(cdata):
            block = cdata.item_block[p.liked_items[0]]
            rest = len(cdata.block_items(block)) - len(p.liked_items)
            rec = model.recommend(profiles=[p], k=rest)[0]
            assert not set(p.liked_items) & set(rec.items.tolist())
            hits.append(len(rec) == rest and bool(np.all(cdata.item_block[rec.items] == block)))
        self._assert_rate(hits, "profiles whose recommendations are the rest of their block")

    def test_similar_items_are_in_the_same_block(self, model: Recommender, cdata: ContractData) -> None:
        warm = np.flatnonzero(cdata.item_block >= 0)
        recs = model.similar_items(warm, k=3)
        hits = []
        for item, rec in zip(warm, recs, strict=True):
            assert item not in rec.items
            assert len(rec) == 3
            assert_well_formed(rec, model.name)
            hits.append(bool(np.all(cdata.item_block[rec.items] == cdata.item_block[item])))
        if self.personalised:
            self._assert_rate(hits, "items whose 3 most similar items are in their block")

    def test_attribute_only_profile_ranks_items_with_the_attribute_first(
        self, model: Recommender, cdata: ContractData
    ) -> None:
        for name in ("tag:rare", "decade:1990s"):
            expected = cdata.items_with[name]
            rec = model.recommend(
                profiles=[Profile(liked_attributes=(cdata.attribute[name],))], k=len(expected)
            )[0]
            assert set(rec.items.tolist()) == expected, name
        # liking a genre while disliking the rare tag: the genre's items without the tag come first
        liked, disliked = cdata.attribute["genre:a"], cdata.attribute["tag:rare"]
        want = cdata.items_with["genre:a"] - cdata.items_with["tag:rare"]
        p = Profile(liked_attributes=(liked,), disliked_attributes=(disliked,))
        rec = model.recommend(profiles=[p], k=len(want))[0]
        assert set(rec.items.tolist()) == want

    def test_disliked_item_pushes_its_block_down(self, model: Recommender, cdata: ContractData) -> None:
        self._need_blocks()
        if not self.handles_dislikes:
            pytest.skip("model declares that it ignores disliked items")
        liked = tuple(int(i) for i in cdata.block_items(0)[:4])
        other = cdata.block_items(1)
        base, with_dislike = model.score_profiles(
            [Profile(liked_items=liked), Profile(liked_items=liked, disliked_items=(int(other[0]),))]
        )
        assert with_dislike[other[1:]].mean() < base[other[1:]].mean()

    def test_empty_profile_gets_the_most_popular_items(self, model: Recommender, cdata: ContractData) -> None:
        pop = cdata.data.item_popularity()
        by_popularity = np.lexsort((np.arange(len(pop)), -pop)).tolist()  # ties: lower index first
        assert model.recommend(profiles=[Profile()], k=5)[0].items.tolist() == by_popularity[:5]
        # a profile with only dislikes is still empty: popularity without the disliked item
        p = Profile(disliked_items=(by_popularity[0],))
        assert model.recommend(profiles=[p], k=5)[0].items.tolist() == by_popularity[1:6]

    # ---- edges -------------------------------------------------------------------------------------
    def test_unknown_ids_raise(self, model: Recommender, cdata: ContractData) -> None:
        d = cdata.data
        for bad_user in (-1, d.n_users):
            with pytest.raises(UnknownUserError):
                model.recommend([0, bad_user], k=3)
        with pytest.raises(UnknownItemError):
            model.recommend(profiles=[Profile(liked_items=(0, d.n_items))], k=3)
        with pytest.raises(UnknownItemError):
            model.recommend(profiles=[Profile(disliked_items=(-1,))], k=3)
        with pytest.raises(UnknownItemError):
            model.recommend(profiles=[Profile(liked_attributes=(d.n_attributes,))], k=3)
        with pytest.raises(UnknownItemError):
            model.similar_items([0, d.n_items], k=3)
        with pytest.raises(UnknownItemError):
            model.recommend([0], k=3, exclude=[[d.n_items]])
        with pytest.raises(UnknownItemError):
            model.recommend([0], k=3, candidates=[0, d.n_items + 3])

    def test_k_larger_than_catalogue_returns_every_allowed_item(
        self, model: Recommender, cdata: ContractData
    ) -> None:
        n = cdata.data.n_items
        rec = model.recommend([0], k=n + 10, exclude=[{0, n - 1}])[0]
        allowed = set(range(n)) - set(cdata.seen(0).tolist()) - {0, n - 1}
        assert len(rec) == len(allowed) and set(rec.items.tolist()) == allowed
        assert_well_formed(rec, model.name)
        p = Profile(liked_items=(1, 2))
        rec = model.recommend(profiles=[p], k=n + 10)[0]
        assert set(rec.items.tolist()) == set(range(n)) - {1, 2}
        assert len(model.similar_items([3], k=n + 10)[0]) == n - 1

    def test_exclude_and_candidates(self, model: Recommender, cdata: ContractData) -> None:
        users = [1, cdata.data.n_users - 1]
        full = model.recommend(users, k=8)
        dropped = [int(full[0].items[0]), int(full[1].items[2])]
        excl = model.recommend(users, k=7, exclude=[{dropped[0]}, [dropped[1]]])
        for f, e, d in zip(full, excl, dropped, strict=True):
            assert d not in e.items
            assert e.items.tolist() == [i for i in f.items.tolist() if i != d][:7]
        everything = model.recommend([1], k=cdata.data.n_items)[0]
        pool = [int(i) for i in everything.items[::3]] + cdata.seen(1).tolist()[:2]
        rec = model.recommend([1], k=len(pool), candidates=pool)[0]
        assert rec.items.tolist() == [i for i in everything.items.tolist() if i in set(pool)]
        pool = {5, int(cdata.block_items(1)[1]), cdata.data.n_items - 1}
        prof = model.recommend(profiles=[Profile(liked_items=(0,))], k=5, candidates=pool)[0]
        assert set(prof.items.tolist()) == pool

    def test_outputs_are_well_formed(self, model: Recommender, cdata: ContractData) -> None:
        for rec in model.recommend(list(range(cdata.data.n_users)), k=10):
            assert len(rec) == 10
            assert_well_formed(rec, model.name)
        for rec in model.recommend(profiles=[*self._block_profiles(cdata), Profile()], k=10):
            assert_well_formed(rec, model.name)

    # ---- persistence and reproducibility -----------------------------------------------------------
    def test_save_load_round_trip(self, model: Recommender, cdata: ContractData, tmp_path: Path) -> None:
        path = model.save(tmp_path / "model.pkl")
        loaded = type(model).load(path)
        users = list(range(cdata.data.n_users))
        np.testing.assert_array_equal(
            loaded.score_users(np.asarray(users)), model.score_users(np.asarray(users))
        )
        profiles = [*self._block_profiles(cdata), Profile(liked_attributes=(0,))]
        for a, b in zip(
            loaded.recommend(profiles=profiles, k=6), model.recommend(profiles=profiles, k=6), strict=True
        ):
            assert_same(a, b)
        for a, b in zip(loaded.similar_items([0, 13], k=4), model.similar_items([0, 13], k=4), strict=True):
            assert_same(a, b)

    def test_refit_gives_identical_scores(self, model: Recommender, cdata: ContractData) -> None:
        if not self.deterministic_fit:
            pytest.skip("model declares a non-deterministic fit")
        again = self.make_model().fit(cdata.data)
        users = np.arange(cdata.data.n_users)
        np.testing.assert_array_equal(again.score_users(users), model.score_users(users))

    def test_unfitted_model_refuses_to_recommend(self) -> None:
        with pytest.raises(NotFittedError):
            self.make_model().recommend([0], k=3)
