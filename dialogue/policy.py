"""The dialogue policy: what the system does with a turn (recommend, ask, explain, answer, chit-chat, bye).

Presets are typed (`PolicyConfig`) and loadable by name or from a JSON / TOML file (`load_policy`), so the
simulation harness can compare them:

default     asks the most informative question while the state has too little signal (no liked item and
            fewer than `ask_threshold` liked attributes), at most `max_questions` per session; then
            recommends with the fused, state-conditioned ranking.
eager       never asks: recommends from the first message (personalised as far as the state allows).
curious     asks up to 3 questions and wants 3 liked attributes before recommending without a liked item.
popularity  the baseline: always recommends the most popular allowed items, never asks.

Rules of `Policy.decide`, in order: goodbye -> goodbye; "why?" -> explain (the referenced or last shown
items); a question about a known movie -> answer; an accepted recommendation -> acknowledge (chitchat);
chit-chat -> ask if the policy would ask, else chit-chat (the popularity preset recommends); anything else
(a preference, a critique, a request, a rejection) -> ask when the signal is low, questions remain and the
user has not insisted (asked again for recommendations after a question, or answered "no preference"),
else recommend.

The question (`choose_question`) is the attribute kind whose values best split the current top candidates:
with the kind's `question_options` most frequent values as the answers (plus "something else"), the
entropy of the answer distribution over the candidates, each candidate's mass shared among its values.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from dialogue.preferences import Preferences
from dialogue.ranking import RankingMode, RankingWeights
from dialogue.state.events import ATTRIBUTE_KINDS
from dialogue.state.slots import Slots
from dialogue.state.state import DialogueState
from dialogue.understanding.types import Intent, Understanding
from recsys.errors import ConfigError


class Action(StrEnum):
    RECOMMEND = "recommend"
    ASK = "ask"
    EXPLAIN = "explain"
    ANSWER = "answer"
    CHITCHAT = "chitchat"
    GOODBYE = "goodbye"


class PolicyConfig(BaseModel):
    """A policy preset: when to ask, what to ask, how many items to show and how to rank them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "default"
    description: str = ""
    ranking_mode: RankingMode = "personalized"
    k: int = Field(5, ge=1, le=50, description="Items per recommendation (the n_recommendations slot wins).")
    max_questions: int = Field(2, ge=0, description="Questions per session at most (0: never ask).")
    ask_threshold: int = Field(2, ge=0, description="Liked attributes that suffice without a liked item.")
    question_kinds: tuple[str, ...] = ("genre", "decade", "director", "star")
    question_options: int = Field(4, ge=2, le=10)
    question_pool: int = Field(50, ge=5, description="Top candidates whose attributes the question splits.")
    min_question_entropy: float = Field(
        0.5, ge=0, description="Bits; a question splitting less is not asked."
    )
    recommend_on_chitchat: bool = False
    fusion_weights: dict[str, float] | None = Field(None, description="Generator weights for this policy.")
    ranking: RankingWeights = RankingWeights()

    @pydantic.field_validator("question_kinds")
    @classmethod
    def _kinds(cls, kinds: tuple[str, ...]) -> tuple[str, ...]:
        bad = [k for k in kinds if k not in ATTRIBUTE_KINDS]
        if bad:
            raise ValueError(f"unknown attribute kinds {bad}; valid: {', '.join(ATTRIBUTE_KINDS)}")
        return kinds


PRESETS: dict[str, PolicyConfig] = {
    "default": PolicyConfig(
        name="default",
        description="Asks the most informative question while the state is thin, then recommends.",
    ),
    "eager": PolicyConfig(
        name="eager", description="Never asks; recommends from the first message.", max_questions=0
    ),
    "curious": PolicyConfig(
        name="curious",
        description="Asks up to 3 questions before recommending.",
        max_questions=3,
        ask_threshold=3,
    ),
    "popularity": PolicyConfig(
        name="popularity",
        description="Baseline: the most popular allowed items, never asks.",
        ranking_mode="popularity",
        max_questions=0,
        recommend_on_chitchat=True,
    ),
}  # fmt: skip


def load_policy(preset_or_path: str | Path | PolicyConfig | None = None) -> PolicyConfig:
    """A preset by name, or a JSON / TOML file of PolicyConfig fields (`preset = "name"` inherits one).

    Unknown names and invalid files raise ConfigError naming the valid presets or the bad fields.
    """
    if isinstance(preset_or_path, PolicyConfig):
        return preset_or_path
    if preset_or_path is None:
        return PRESETS["default"]
    key = str(preset_or_path)
    if key in PRESETS:
        return PRESETS[key]
    path = Path(key)
    if path.suffix.lower() not in (".json", ".toml") or not path.is_file():
        raise ConfigError(
            f"unknown policy {key!r}: use a preset ({', '.join(PRESETS)}) or a .json / .toml file"
        )
    try:
        text = path.read_text(encoding="utf-8")
        raw = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (OSError, ValueError) as exc:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        raise ConfigError(f"{path}: cannot read policy file: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a policy file holds one object of PolicyConfig fields")
    base_name = raw.pop("preset", "default")
    if base_name not in PRESETS:
        raise ConfigError(f"{path}: unknown base preset {base_name!r}; valid: {', '.join(PRESETS)}")
    values: dict[str, Any] = {**PRESETS[base_name].model_dump(), "name": path.stem, **raw}
    try:
        return PolicyConfig.model_validate(values)
    except pydantic.ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{path}: invalid policy: {problems}") from None


@dataclass(frozen=True)
class QuestionPlan:
    """A question to ask: the attribute kind, the values offered, and how well they split the candidates."""

    attribute_kind: str
    options: tuple[str, ...]
    entropy: float


@dataclass(frozen=True)
class Decision:
    """What to do this turn and why; `targets` are the items to explain or answer about."""

    action: Action
    reason: str
    question: QuestionPlan | None = None
    targets: tuple[int, ...] = ()


@dataclass
class PolicyInput:
    """Everything the policy looks at. `candidates()` is called only when a question is considered."""

    state: DialogueState
    prefs: Preferences
    understanding: Understanding
    candidates: Callable[[], Sequence[int]]
    attributes_of: Callable[[int], Iterable[str]]
    answered_without_preference: bool = False  # this turn answered the pending question with "anything"
    # the same attributes grouped by kind (`CatalogIndex.attributes_by_kind`): a faster question choice
    attributes_by_kind: Callable[[int], Mapping[str, Sequence[str]]] | None = None


_WANTS_ITEMS = frozenset({Intent.REQUEST_RECOMMENDATION, Intent.CRITIQUE, Intent.REJECT})


class Policy:
    """Decides the system's action for a turn from a PolicyConfig (rules in the module docstring)."""

    def __init__(self, config: PolicyConfig | str | Path | None = None) -> None:
        self.config = load_policy(config)

    @property
    def name(self) -> str:
        return self.config.name

    def k_for(self, state: DialogueState) -> int:
        """Items to show: the session's `n_recommendations` slot when the user set it, else the preset's k."""
        slot = state.slots.n_recommendations
        return slot if slot != Slots().n_recommendations else self.config.k  # the default: not set

    def low_signal(self, prefs: Preferences) -> bool:
        """No liked item and fewer than `ask_threshold` liked attributes."""
        return prefs.n_liked_items == 0 and len(prefs.all_liked_attributes) < self.config.ask_threshold

    def decide(self, inp: PolicyInput) -> Decision:
        u, state = inp.understanding, inp.state
        intent = u.intent
        if intent is Intent.GOODBYE:
            return Decision(Action.GOODBYE, "the user said goodbye")
        if intent is Intent.ASK_WHY:
            return Decision(Action.EXPLAIN, "the user asked why", targets=self._why_targets(u, state))
        if intent is Intent.ASK_ABOUT_ITEM:
            known = tuple(dict.fromkeys(m.item_id for m in u.items if m.item_id is not None))
            if known:
                return Decision(Action.ANSWER, "the user asked about a movie", targets=known[:3])
        if intent is Intent.ACCEPT:  # "I'll watch the first one" / "thanks!": acknowledged, no new list
            accepted = tuple(dict.fromkeys(m.item_id for m in u.items if m.item_id is not None))
            reason = "the user accepted a recommendation" if accepted else "the user is pleased"
            return Decision(Action.CHITCHAT, reason, targets=accepted)
        informative = bool(u.items or u.attributes or u.critiques)
        if intent is Intent.CHIT_CHAT and not informative and not inp.answered_without_preference:
            if self.config.recommend_on_chitchat:
                return Decision(Action.RECOMMEND, "this policy always recommends")
            question = self._question(inp) if self.low_signal(inp.prefs) else None
            if question is not None:
                return Decision(Action.ASK, "chit-chat while the state is thin", question=question)
            return Decision(Action.CHITCHAT, "chit-chat")
        insisted = inp.answered_without_preference or (intent in _WANTS_ITEMS and bool(state.asked_kinds))
        if self.low_signal(inp.prefs) and not insisted:
            question = self._question(inp)
            if question is not None:
                return Decision(Action.ASK, "too little signal to recommend", question=question)
        reason = "enough signal" if not self.low_signal(inp.prefs) else "the user wants recommendations now"
        return Decision(Action.RECOMMEND, reason)

    # ------------------------------------------------------------------ helpers
    def _question(self, inp: PolicyInput) -> QuestionPlan | None:
        asked = inp.state.asked_kinds
        if len(asked) >= self.config.max_questions:
            return None
        liked_kinds = {a.split(":", 1)[0] for a in inp.prefs.all_liked_attributes}
        kinds = [k for k in self.config.question_kinds if k not in asked and k not in liked_kinds]
        if not kinds:
            return None
        plan = choose_question(
            inp.candidates(),
            inp.attributes_of,
            kinds,
            n_options=self.config.question_options,
            exclude=set(inp.prefs.disliked_attributes),
            attributes_by_kind=inp.attributes_by_kind,
        )
        if plan is None or plan.entropy < self.config.min_question_entropy:
            return None
        return plan

    @staticmethod
    def _why_targets(u: Understanding, state: DialogueState) -> tuple[int, ...]:
        shown = state.last_recommendation.item_ids if state.last_recommendation else ()
        named = [m.item_id for m in u.items if m.item_id is not None]
        in_shown = tuple(dict.fromkeys(i for i in named if i in shown))
        return in_shown or tuple(dict.fromkeys(named)) or tuple(shown)


def choose_question(
    candidates: Sequence[int],
    attributes_of: Callable[[int], Iterable[str]],
    kinds: Sequence[str],
    *,
    n_options: int = 4,
    exclude: set[str] | frozenset[str] = frozenset(),
    attributes_by_kind: Callable[[int], Mapping[str, Sequence[str]]] | None = None,
) -> QuestionPlan | None:
    """The kind (and its most frequent values) whose answers split `candidates` with the highest entropy.

    `attributes_by_kind(item)`: the item's attributes of `attributes_of(item)` grouped by kind (the text
    before the first ":"), each group in the same order; when given, only the asked kinds are looked at
    (the same result, without a pass over every tag of every candidate)."""
    if not candidates:
        return None
    by_kind: Mapping[str, Sequence[Sequence[str]]]
    if attributes_by_kind is not None and not any(":" in kind for kind in kinds):
        by_kind = _pick_kinds([attributes_by_kind(i) for i in candidates], kinds, exclude)
    else:
        by_kind = _group_by_kind([attributes_of(i) for i in candidates], kinds, exclude)
    best: QuestionPlan | None = None
    for kind in kinds:
        values = by_kind[kind]
        counts = Counter(a for vals in values for a in vals)
        options = tuple(a for a, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n_options])
        if len(options) < 2:
            continue
        entropy = answer_entropy(values, options)
        if best is None or entropy > best.entropy + 1e-12:
            best = QuestionPlan(kind, options, entropy)
    return best


def _group_by_kind(
    per_item: Sequence[Iterable[str]], kinds: Sequence[str], exclude: Collection[str]
) -> dict[str, list[list[str]]]:
    """Per kind, per item: the item's "kind:value" attributes of that kind not in `exclude`, in order.

    One pass over every item's attributes (instead of one per kind); kinds containing ":" are matched by
    prefix like any other kind.
    """
    wanted: dict[str, list[list[str]]] = {kind: [[] for _ in per_item] for kind in kinds}
    if any(":" in kind for kind in kinds):  # a prefix spanning the colon: the plain per-kind scan
        attrs = [list(a) for a in per_item]
        for kind in kinds:
            prefix = f"{kind}:"
            wanted[kind] = [[a for a in al if a.startswith(prefix) and a not in exclude] for al in attrs]
        return wanted
    for j, attrs in enumerate(per_item):
        for a in attrs:
            head, sep, _ = a.partition(":")
            rows = wanted.get(head) if sep else None
            if rows is not None and a not in exclude:
                rows[j].append(a)
    return wanted


def _pick_kinds(
    grouped: Sequence[Mapping[str, Sequence[str]]], kinds: Sequence[str], exclude: Collection[str]
) -> dict[str, list[Sequence[str]]]:
    """`_group_by_kind` from attributes already grouped by kind (kinds without ":")."""
    if exclude:
        return {kind: [[a for a in g.get(kind, ()) if a not in exclude] for g in grouped] for kind in kinds}
    return {kind: [g.get(kind, ()) for g in grouped] for kind in kinds}


def answer_entropy(values: Sequence[Sequence[str]], options: Sequence[str]) -> float:
    """Entropy (bits) of the answers to a question offering `options` (plus "other") over the candidates."""
    mass: Counter[str] = Counter()
    offered = set(options)
    for vals in values:
        hits = [v for v in vals if v in offered]
        if hits:
            for v in hits:
                mass[v] += 1.0 / len(hits)
        else:
            mass["\0other"] += 1.0
    total = sum(mass.values())
    return -sum((m / total) * math.log2(m / total) for m in mass.values() if m > 0)


def describe(config: PolicyConfig) -> Mapping[str, Any]:
    """A JSON-friendly view of a preset (for `crs chat --json` and the API)."""
    return config.model_dump(mode="json")
