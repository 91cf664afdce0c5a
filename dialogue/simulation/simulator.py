"""One simulated conversation: a SimulatedUser talks to a system (a ConversationClient) for up to T turns.

The user's behaviour, each turn, from the system's last response:
- a target among the items shown -> accepts: success at this turn (the conversation stops);
- a clarifying question -> answers from the targets' attributes: the first offered option that a target
  has, else a target's own value of that kind, else "I don't mind";
- items shown, none a target -> rejects them with a critique drawn from how the shown items differ from
  the targets: a target genre the list lacks ("something more <genre>"), the era ("something more
  recent" / "something older", when the mean years differ by 8+), or a target's director / star absent
  from the list ("anything with <name>?"); critiques not given before are preferred; a plain rejection
  when none applies;
- anything else (chit-chat, an answer) -> asks for recommendations, naming a target genre.
After T user messages without success the user gives up.

Difficulty (`Difficulty`, `DIFFICULTIES`): the rules above are the "default" user, a generous one (its
critiques name the targets' genres, eras and people as soon as a list misses). The "hard" user
- rejects the first `critique_after` = 2 lists plainly ("Not really what I want.") before critiquing;
- never names people in critiques (genre or era only) and never volunteers a value the question did
  not offer ("I don't mind" instead);
- answers a question uninformatively with probability `answer_noise` = 0.3: half of those times "I
  don't mind", half an offered option that no target has (a wrong answer), when there is one.
Either way at most one attribute is revealed per user turn. Every utterance passes the user's leak guard:
a candidate sentence naming a target is never said (the next candidate is used; when none is clean the
user gives up instead).
Randomness (the choice among applicable critiques and phrasings) comes from `random.Random(f"{seed}:
{user_id}")`, so both arms of a paired run meet the same user with the same dice.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from dialogue.simulation.users import SimulatedUser
from recsys.catalog.types import Catalog

ERA_GAP_YEARS = 8.0


@dataclass(frozen=True)
class Difficulty:
    """How much a simulated user gives away (module docstring)."""

    name: str = "default"
    critique_after: int = 0  # plain rejections before the first critique
    answer_noise: float = 0.0  # probability that an answer to a question is uninformative
    reveal_people: bool = True  # critiques may name a target's director or star
    volunteer: bool = True  # answer a target's own value when no offered option fits

    def __post_init__(self) -> None:
        if self.critique_after < 0 or not 0.0 <= self.answer_noise <= 1.0:
            raise ValueError(f"invalid difficulty {self}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT_DIFFICULTY = Difficulty()
DIFFICULTIES: dict[str, Difficulty] = {
    "default": DEFAULT_DIFFICULTY,
    "hard": Difficulty("hard", critique_after=2, answer_noise=0.3, reveal_people=False, volunteer=False),
}


def get_difficulty(name: str) -> Difficulty:
    """A named difficulty; ValueError naming the valid ones otherwise."""
    try:
        return DIFFICULTIES[name]
    except KeyError:
        raise ValueError(f"unknown difficulty {name!r}; valid: {', '.join(DIFFICULTIES)}") from None


class ConversationClient(Protocol):
    """A system to talk to: the in-process manager or a server over HTTP."""

    def start(self) -> str: ...

    def send(self, session_id: str, text: str) -> Mapping[str, Any]: ...


class ManagerClient:
    """Talks to an in-process DialogueManager."""

    def __init__(self, manager: Any) -> None:
        self.manager = manager

    def start(self) -> str:
        return str(self.manager.start_session())

    def send(self, session_id: str, text: str) -> Mapping[str, Any]:
        result = self.manager.turn(session_id, text)
        return {
            "action": result.action,
            "recommendations": [{"item_id": r.item_id, "score": r.score} for r in result.recommendations],
            "question": result.question.to_dict() if result.question else None,
        }


@dataclass
class Outcome:
    """What happened in one simulated conversation."""

    user_id: str
    success: bool
    success_turn: int | None  # 1-based user turn after which a target was shown
    turns_used: int
    questions: int
    rejections: int
    recall_at_k: float  # targets in the last list shown / targets
    gave_up_early: bool = False  # no clean utterance was available
    utterances: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)

    def turns_or_penalty(self, max_turns: int) -> int:
        """Turns to success; T + 1 for a failure (the convention of the Wilcoxon test)."""
        return self.success_turn if self.success_turn is not None else max_turns + 1


_ANSWERS = {
    "genre": ("{v}", "I'm in the mood for {v}.", "{v}, please."),
    "decade": ("something from the {v}", "the {v}", "I like movies from the {v}."),
    "director": ("{V}", "I like {V}'s movies."),
    "writer": ("{V}", "Something written by {V}."),
    "star": ("{V}", "Something with {V}."),
    "tag": ("{v}", "Something {v}."),
}
_REJECTIONS = ("No, none of those. Something else?", "Not really what I want.", "Hmm, other ones please.")
_REQUESTS = ("Can you recommend something {v}?", "I'd like a {v} movie.")
_GENERIC_REQUESTS = ("Can you recommend a movie?", "What would you suggest?", "Any suggestions?")
_DONT_MIND = ("I don't mind.", "No preference.")


class UserAgent:
    """The behaviour of one SimulatedUser in one conversation (rules in the module docstring)."""

    def __init__(
        self, user: SimulatedUser, catalog: Catalog, seed: int, difficulty: Difficulty = DEFAULT_DIFFICULTY
    ) -> None:
        self.user = user
        self.catalog = catalog
        self.difficulty = difficulty
        self.rng = random.Random(f"{seed}:{user.user_id}")
        self.targets = set(user.targets)
        self.used: set[str] = set()
        self.rejected = 0

    def _values(self, kind: str) -> list[str]:
        prefix = f"{kind}:"
        return [a[len(prefix) :] for a in self.user.attributes if a.startswith(prefix)]

    def say(self, candidates: Sequence[str]) -> str | None:
        """The first candidate that names no target (None when all of them would leak)."""
        for text in candidates:
            if text and self.user.guard.leaks(text) is None:
                return text
        return None

    def _shuffled(self, templates: Sequence[str], value: str = "") -> list[str]:
        order = list(templates)
        self.rng.shuffle(order)
        return [t.format(v=value, V=value.title()) for t in order]

    def answer(self, question: Mapping[str, Any]) -> str | None:
        kind = str(question.get("attribute_kind", ""))
        options = [str(o) for o in question.get("options", ())]
        mine = self._values(kind)
        offered = [o.split(":", 1)[-1] for o in options]
        noise = self.difficulty.answer_noise
        if noise and self.rng.random() < noise:
            wrong = [o for o in offered if o not in mine]
            if wrong and self.rng.random() < 0.5:
                return self.say(self._shuffled(_ANSWERS.get(kind, ("{v}",)), self.rng.choice(wrong)))
            return self.say(self._shuffled(_DONT_MIND))
        fallback = mine[0] if mine and self.difficulty.volunteer else None
        value = next((v for v in mine if v in offered), fallback)
        if value is None:
            return self.say(self._shuffled(_DONT_MIND))
        return self.say(self._shuffled(_ANSWERS.get(kind, ("{v}",)), value) + self._shuffled(_DONT_MIND))

    def critiques(self, shown: Sequence[int]) -> list[tuple[str, list[str]]]:
        """Applicable critiques (key, phrasings) for a list of shown items, in a seeded order."""
        items = [self.catalog[i] for i in shown]
        out: list[tuple[str, list[str]]] = []
        shown_genres = {g for it in items for g in it.genres}
        for genre in self._values("genre"):
            if genre not in shown_genres:
                out.append(
                    (f"genre:{genre}", self._shuffled(("Something more {v}, please.", "More {v}?"), genre))
                )
                break
        years = [it.year for it in items if it.year]
        if years and self.user.years:
            gap = statistics.fmean(self.user.years) - statistics.fmean(years)
            if gap >= ERA_GAP_YEARS:
                out.append(("era:recent", self._shuffled(("Something more recent.", "Anything newer?"))))
            elif gap <= -ERA_GAP_YEARS:
                out.append(("era:older", self._shuffled(("Something older, please.", "Anything older?"))))
        shown_people = {p.lower() for it in items for p in (*it.directors, *it.stars)}
        for kind in ("director", "star") if self.difficulty.reveal_people else ():
            person = next((p for p in self._values(kind) if p not in shown_people), None)
            if person is not None:
                out.append((f"{kind}:{person}", self._shuffled(("Anything with {V}?",), person)))
        self.rng.shuffle(out)
        out.sort(key=lambda kv: kv[0] in self.used)  # stable: fresh critiques first
        return out

    def reject(self, shown: Sequence[int]) -> str | None:
        self.rejected += 1
        if self.rejected <= self.difficulty.critique_after:
            return self.say(self._shuffled(_REJECTIONS))
        for key, phrasings in self.critiques(shown):
            text = self.say(phrasings)
            if text is not None:
                self.used.add(key)
                return text
        return self.say(self._shuffled(_REJECTIONS))

    def request(self) -> str | None:
        genres = self._values("genre")
        specific = self._shuffled(_REQUESTS, genres[0]) if genres else []
        return self.say(specific + self._shuffled(_GENERIC_REQUESTS))


def simulate(
    user: SimulatedUser,
    client: ConversationClient,
    catalog: Catalog,
    *,
    max_turns: int,
    seed: int,
    difficulty: Difficulty = DEFAULT_DIFFICULTY,
) -> Outcome:
    """Run one conversation of at most `max_turns` user messages (module docstring)."""
    agent = UserAgent(user, catalog, seed, difficulty)
    session = client.start()
    outcome = Outcome(user.user_id, False, None, 0, 0, 0, 0.0)
    text: str | None = agent.say([user.opening]) or agent.request()
    for turn in range(1, max_turns + 1):
        if text is None:
            outcome.gave_up_early = True
            break
        outcome.utterances.append(text)
        response = client.send(session, text)
        outcome.turns_used = turn
        outcome.actions.append(str(response.get("action", "")))
        shown = [int(r["item_id"]) for r in response.get("recommendations") or ()]
        question = response.get("question")
        if shown:
            outcome.recall_at_k = len(agent.targets.intersection(shown)) / len(agent.targets)
        if agent.targets.intersection(shown):
            outcome.success, outcome.success_turn = True, turn
            break
        if question:
            outcome.questions += 1
            text = agent.answer(question)
        elif shown:
            outcome.rejections += 1
            text = agent.reject(shown)
        else:
            text = agent.request()
    return outcome
