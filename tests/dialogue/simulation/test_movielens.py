"""Held-out MovieLens users: the split (known answers), the training copy without the held-out ratings,
the users' targets and openings, and `crs simulate --movielens` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dialogue.simulation.movielens import (
    HELDOUT_FILE,
    HeldOutUser,
    MovieLensSplit,
    split_movielens,
    training_copy,
    users_from_movielens,
    write_training_copy,
)
from recsys.catalog.types import Catalog, CatalogItem
from recsys.cli import app
from recsys.data.movielens import load_movielens
from recsys.errors import DataError
from tests.dialogue.simulation.synthetic_movielens import expected_split, ratings, write_movielens
from tests.dialogue.world import MOVIES


def _pairs(directory: Path) -> set[tuple[int, int]]:
    frame = load_movielens(directory).interactions.frame
    return set(zip(frame["user_id"].astype(int), frame["item_id"].astype(int), strict=True))


def test_split_matches_the_known_answers(tmp_path: Path) -> None:
    data = load_movielens(write_movielens(tmp_path / "ml"))
    split = split_movielens(data, users=100, seed=0, holdout=2, min_train_liked=2)
    assert split.eligible == 30 and len(split.users) == 30
    expected = expected_split(2)
    for user in split.users:
        assert (user.heldout, user.targets) == expected[user.user]
    first, second = split.users[0], split.users[1]
    # user 1 (sci-fi, rotation 0): 5.0 likes most recent first, then the 4.5 likes
    assert first.train_liked == (1004, 1002, 1000, 1005, 1003, 1001)
    assert first.targets == (1006, 1007)
    assert second.heldout == (1007, 1000) and second.targets == (1007,)  # the 3.0 is not a like
    # only the sci-fi (8) and comedy (5) users keep 3+ likes in training
    assert split_movielens(data, users=100, seed=0, holdout=2, min_train_liked=3).eligible == 10
    five = split_movielens(data, users=5, seed=4, holdout=2)
    assert len(five.users) == 5 and [u.user for u in five.users] == sorted(u.user for u in five.users)
    assert five == split_movielens(data, users=5, seed=4, holdout=2)
    assert five.users != split_movielens(data, users=5, seed=5, holdout=2).users


@pytest.mark.parametrize("layout", ["csv", "ml-10m"])
def test_training_copy_lacks_exactly_the_heldout_ratings(tmp_path: Path, layout: str) -> None:
    source = write_movielens(tmp_path / "ml", layout)
    split = split_movielens(load_movielens(source), users=7, seed=1, holdout=2)
    copy = write_training_copy(source, split, tmp_path / "copy")
    removed = split.removed()
    assert len(removed) == 14
    everything = {(u, m) for u, m, _, _ in ratings()}
    assert _pairs(copy) == everything - removed
    assert json.loads((copy / HELDOUT_FILE).read_text())["users"][0]["user"] == split.users[0].user
    movies = "movies.csv" if layout == "csv" else "movies.dat"
    assert (copy / movies).is_symlink() and not (
        copy / f"ratings.{'csv' if layout == 'csv' else 'dat'}"
    ).is_symlink()


def test_training_copy_is_keyed_by_the_split_and_reused(tmp_path: Path) -> None:
    source = write_movielens(tmp_path / "ml")
    data = load_movielens(source)
    split = split_movielens(data, users=3, seed=0, holdout=2)
    first = training_copy(source, split, tmp_path / "artifacts")
    stamp = (first / "ratings.csv").stat().st_mtime_ns
    assert training_copy(source, split, tmp_path / "artifacts") == first
    assert (first / "ratings.csv").stat().st_mtime_ns == stamp  # reused, not rewritten
    other = training_copy(source, split_movielens(data, users=3, seed=9, holdout=2), tmp_path / "artifacts")
    assert other != first and first.parent == tmp_path / "artifacts" / "simulation"


def test_split_of_another_release_is_refused(tmp_path: Path) -> None:
    source = write_movielens(tmp_path / "ml")
    foreign = MovieLensSplit((HeldOutUser(999, (1000,), (1001,), (1001,)),), 4.0, 1, 1, 0, 1)
    with pytest.raises(DataError, match="another release") as info:
        write_training_copy(source, foreign, tmp_path / "copy")
    assert "ratings.csv" in str(info.value)
    assert not (tmp_path / "copy" / "ratings.csv").exists()


def test_users_have_the_heldout_likes_as_targets_and_open_with_training_likes(world, tmp_path: Path) -> None:
    split = split_movielens(load_movielens(write_movielens(tmp_path / "ml")), users=30, seed=0, holdout=2)
    built = users_from_movielens(split, world, seed=0)
    assert built.skipped == {} and len(built.users) == 30
    kinds = set()
    for held, user in zip(split.users, built.users, strict=True):
        assert user.user_id == f"movielens-{held.user}" and user.source == "movielens"
        assert user.targets == tuple(m - 1000 for m in held.targets)
        cues = [MOVIES[m - 1000][0] for m in held.train_liked[:4]]
        named = [c for c in cues if c in user.opening]
        if named:
            kinds.add("titles")
        else:
            genres = {g for m in held.train_liked for g in MOVIES[m - 1000][2]}
            assert sum(g in user.opening for g in genres) == 2, user.opening
            kinds.add("genres")
        assert user.guard.leaks(user.opening) is None
        assert not any(MOVIES[t][0] in user.opening for t in user.targets)
    assert kinds == {"titles", "genres"}
    again = users_from_movielens(split, world, seed=0)
    assert [u.opening for u in again.users] == [u.opening for u in built.users]


def test_a_training_like_that_names_a_target_is_never_a_cue() -> None:
    catalog = Catalog(
        [
            CatalogItem(item_id=0, title="Alien", year=1979, genres=("horror", "sci-fi"), movielens_id=1),
            CatalogItem(item_id=1, title="Alien Resurrection", year=1997, genres=("sci-fi",), movielens_id=2),
            CatalogItem(item_id=2, title="Heat", year=1995, genres=("crime",), movielens_id=3),
            CatalogItem(item_id=3, title="Fargo", year=1996, genres=("crime",), movielens_id=4),
        ]
    )
    held = [HeldOutUser(u, (2, 3, 4), (1, 9), (1, 9)) for u in range(40)]  # 9: not in the catalog
    built = users_from_movielens(held, catalog, seed=0)
    for user in built.users:
        assert user.targets == (0,)
        assert "alien" not in user.opening.lower(), user.opening
        assert ("Heat" in user.opening and "Fargo" in user.opening) or "crime" in user.opening
    unknown = users_from_movielens([HeldOutUser(1, (3,), (9,), (9,))], catalog, seed=0)
    assert unknown.users == [] and unknown.skipped == {"no target in the catalog": 1}


def test_cli_simulates_movielens_users_on_models_without_their_heldout_items(
    managers, world, tmp_path: Path, monkeypatch
) -> None:
    from dialogue.simulation import runner

    seen: list = []

    def fake_build(settings, policies):
        seen.append(settings)
        return [managers[p] for p in policies], world

    monkeypatch.setattr(runner, "build_system", fake_build)
    source = write_movielens(tmp_path / "ml")
    out = tmp_path / "out"
    args = ["simulate", "--arm-a", "default", "--arm-b", "popularity", "--movielens", str(source)]
    args += ["--users", "30", "--turns", "4", "--seed", "0", "--holdout", "2", "--output-dir", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    report = json.loads((out / "report.json").read_text())
    copy = Path(report["run"]["movielens_train_dir"])
    assert seen[0].movielens_dir == copy  # the arms' models are trained on the copy ...
    heldout = {(u, m) for u, (held, _) in expected_split(2).items() for m in held}
    assert not heldout & _pairs(copy)  # ... which has none of the simulated users' held-out ratings
    assert report["run"]["users"] == 30 and report["run"]["data"]["movielens_sha256"]
    assert report["run"]["movielens_split"]["holdout"] == 2
    a, b = report["arms"]["a"], report["arms"]["b"]
    assert a["success_rate"] > b["success_rate"]  # cluster-mates of the opening's titles vs popularity


def test_cli_needs_exactly_one_source_of_users(tmp_path: Path) -> None:
    base = ["simulate", "--arm-a", "default", "--arm-b", "popularity", "--output-dir", str(tmp_path)]
    res = CliRunner().invoke(app, base)
    assert res.exit_code != 0 and "--movielens" in str(res.exception)
    res = CliRunner().invoke(app, [*base, "--dialogues", "d.jsonl", "--movielens", str(tmp_path)])
    assert res.exit_code != 0 and "one source of users" in str(res.exception)
