"""Simulated users built from ReDial dialogues.

Targets (what the user is looking for). The seeker's questionnaire (`initiatorQuestions`; the
recommender's answers about the seeker, `respondentQuestions`, when the seeker's are missing) is read as:

1. accepted recommendations: `suggested == 1 and liked == 1` (the recommender suggested it and the
   seeker liked it) - the movies the seeker ends up accepting;
2. when there are none, every movie with `liked == 1`.

Targets are mapped to catalog ids with `catalog.from_redial`; unmapped ones are dropped, and a dialogue
without any mapped target yields no user (counted in `BuildReport.skipped`).

Opening (the user's first message): the seeker's first messages (until one mentions a movie or they
hold 8+ words, at most 3), with target `@id`s removed, other `@id`s rendered as their catalog titles,
and any target title left in the text scrubbed by the leak guard. An opening that ends up empty becomes
a generic request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from dialogue.simulation.leak import LeakGuard
from recsys.catalog.train_data import item_attribute_values
from recsys.catalog.types import Catalog
from recsys.data.types import Dialogue, MovieAnswers

GENERIC_OPENING = "Hi! Can you recommend a movie for me?"
_MENTION = re.compile(r"@(\d+)")


@dataclass(frozen=True)
class SimulatedUser:
    """A user with hidden target items, their catalog facts, and an opening message."""

    user_id: str
    targets: tuple[int, ...]  # catalog ids
    target_titles: tuple[str, ...]
    opening: str
    target_redial_ids: tuple[int, ...] = ()
    attributes: tuple[str, ...] = ()  # "kind:value" of every target, most shared first
    years: tuple[int, ...] = ()
    source: str = "redial"
    guard: LeakGuard = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "guard", LeakGuard(self.target_titles, self.target_redial_ids))

    def to_dict(self) -> dict[str, object]:
        return {
            "user_id": self.user_id,
            "targets": list(self.targets),
            "opening": self.opening,
            "source": self.source,
        }


@dataclass
class BuildReport:
    """How many dialogues became users, and why the others did not."""

    users: list[SimulatedUser]
    skipped: dict[str, int] = field(default_factory=dict)


def target_redial_ids(dialogue: Dialogue) -> tuple[int, ...]:
    """The ReDial ids of the seeker's targets (rule in the module docstring), sorted."""
    answers: dict[int, MovieAnswers] = dialogue.seeker_answers or dialogue.recommender_answers
    accepted = sorted(m for m, a in answers.items() if a.suggested == 1 and a.liked == 1)
    return tuple(accepted) if accepted else tuple(sorted(m for m, a in answers.items() if a.liked == 1))


def target_attributes(catalog: Catalog, targets: Sequence[int]) -> tuple[str, ...]:
    """Every attribute of the targets, those shared by more targets first (then by name)."""
    counts: dict[str, int] = {}
    for item in targets:
        for attr in item_attribute_values(catalog[item]):
            counts[attr] = counts.get(attr, 0) + 1
    return tuple(sorted(counts, key=lambda a: (-counts[a], a)))


def opening_text(dialogue: Dialogue, catalog: Catalog, guard: LeakGuard) -> str:
    """The seeker's opening with target mentions and titles removed (module docstring)."""
    parts: list[str] = []
    for message in dialogue.messages:
        if not message.is_seeker:
            continue
        parts.append(message.text)
        if message.mentions or len(" ".join(parts).split()) >= 8 or len(parts) >= 3:
            break

    def render(match: re.Match[str]) -> str:
        redial_id = int(match.group(1))
        if redial_id in guard.redial_ids:
            return ""
        item = catalog.from_redial(redial_id)
        return catalog[item].title if item is not None else "a movie"

    text = _MENTION.sub(render, " ".join(parts))
    return guard.scrub(text, fallback=GENERIC_OPENING) or GENERIC_OPENING


def make_user(
    user_id: str,
    catalog: Catalog,
    targets: Iterable[int],
    opening: str,
    *,
    redial_ids: Iterable[int] = (),
    source: str = "synthetic",
) -> SimulatedUser:
    """A user for known catalog targets; the opening is scrubbed of target titles."""
    items = tuple(dict.fromkeys(int(t) for t in targets))
    titles = tuple(catalog[i].title for i in items)
    guard = LeakGuard(titles, redial_ids)
    return SimulatedUser(
        user_id=user_id,
        targets=items,
        target_titles=titles,
        opening=guard.scrub(opening, fallback=GENERIC_OPENING) or GENERIC_OPENING,
        target_redial_ids=tuple(redial_ids),
        attributes=target_attributes(catalog, items),
        years=tuple(sorted(catalog[i].year for i in items if catalog[i].year)),  # type: ignore[misc]
        source=source,
    )


def users_from_dialogues(dialogues: Iterable[Dialogue], catalog: Catalog) -> BuildReport:
    """One simulated user per dialogue with at least one target in the catalog (in input order)."""
    users: list[SimulatedUser] = []
    skipped: dict[str, int] = {}
    for dialogue in dialogues:
        redial = target_redial_ids(dialogue)
        if not redial:
            skipped["no liked movie in the questionnaire"] = (
                skipped.get("no liked movie in the questionnaire", 0) + 1
            )
            continue
        mapped = [(r, catalog.from_redial(r)) for r in redial]
        items = tuple(dict.fromkeys(i for _, i in mapped if i is not None))
        if not items:
            skipped["no target in the catalog"] = skipped.get("no target in the catalog", 0) + 1
            continue
        titles = tuple(catalog[i].title for i in items)
        # every ReDial id of the targets (aliases too), so that no @id of a target survives
        all_ids = {r for r, i in mapped if i is not None}
        all_ids |= {m for m in dialogue.movie_mentions if catalog.from_redial(m) in items}
        guard = LeakGuard(titles, all_ids)
        users.append(
            SimulatedUser(
                user_id=f"redial-{dialogue.conversation_id}",
                targets=items,
                target_titles=titles,
                opening=opening_text(dialogue, catalog, guard),
                target_redial_ids=tuple(sorted(all_ids)),
                attributes=target_attributes(catalog, items),
                years=tuple(sorted(catalog[i].year for i in items if catalog[i].year)),  # type: ignore[misc]
                source="redial",
            )
        )
    return BuildReport(users, skipped)
