"""Simulated users from ReDial dialogues: the target rule, the opening, skipped dialogues."""

from __future__ import annotations

from dialogue.simulation.users import GENERIC_OPENING, target_redial_ids, users_from_dialogues
from recsys.catalog.types import Catalog, CatalogItem
from recsys.data.redial import mention_spans
from recsys.data.types import Dialogue, Message, MovieAnswers

CATALOG = Catalog(
    [
        CatalogItem(item_id=0, title="The Matrix", year=1999, genres=("sci-fi",), redial_id=100),
        CatalogItem(item_id=1, title="Inception", year=2010, genres=("sci-fi", "action"), redial_id=101),
        CatalogItem(item_id=2, title="Superbad", year=2007, genres=("comedy",), redial_id=102),
    ],
    redial_aliases={200: 0},
)


def msg(i: int, text: str, seeker: bool = True) -> Message:
    return Message(i, 1 if seeker else 2, text, i, mention_spans(text), is_seeker=seeker)


def dialogue(cid: int, messages: list[Message], seeker=None, recommender=None) -> Dialogue:
    return Dialogue(cid, 1, 2, tuple(messages), {}, seeker or {}, recommender or {})


def A(suggested: int, liked: int) -> MovieAnswers:
    return MovieAnswers(suggested=suggested, seen=0, liked=liked)


def test_target_rule_prefers_accepted_then_liked_then_respondent_answers() -> None:
    d = dialogue(1, [], seeker={100: A(0, 1), 101: A(1, 1), 102: A(1, 0)})
    assert target_redial_ids(d) == (101,)  # accepted recommendations only
    d = dialogue(2, [], seeker={100: A(0, 1), 102: A(1, 0)})
    assert target_redial_ids(d) == (100,)  # no accepted one: every liked movie
    d = dialogue(3, [], recommender={102: A(1, 1)})
    assert target_redial_ids(d) == (102,)  # seeker's answers missing


def test_opening_drops_targets_and_renders_other_mentions() -> None:
    d = dialogue(
        7,
        [
            msg(0, "hi"),
            msg(1, "hello! what do you like?", seeker=False),
            msg(2, "I liked @102 and @200 and The Matrix"),
            msg(3, "more text never used"),
        ],
        seeker={200: A(1, 1), 102: A(0, 1)},
    )
    report = users_from_dialogues([d], CATALOG)
    (user,) = report.users
    assert user.user_id == "redial-7" and user.targets == (0,)  # alias 200 -> The Matrix
    assert user.opening == "hi I liked Superbad"
    assert "genre:sci-fi" in user.attributes and "decade:1990s" in user.attributes
    assert user.years == (1999,)


def test_skipped_dialogues_are_counted() -> None:
    no_answers = dialogue(1, [msg(0, "hi")])
    unknown = dialogue(2, [msg(0, "hi")], seeker={999: A(1, 1)})
    only_title = dialogue(3, [msg(0, "@101")], seeker={101: A(1, 1)})
    report = users_from_dialogues([no_answers, unknown, only_title], CATALOG)
    assert report.skipped == {"no liked movie in the questionnaire": 1, "no target in the catalog": 1}
    assert [u.opening for u in report.users] == [GENERIC_OPENING]
