"""Reply templates and template explanations, built from catalog facts only (never invented).

`TemplateExplainer.explain(item, prefs, provenance)` is the template explanation; the LLM layer replaces it
with any object following the `Explainer` protocol (`explain`, and `explain_many` for one turn's items at
once; dialogue.llm.turn.LLMTurnExplainer). It says, in one or two sentences, what
links the item to the user: a director / star / writer shared with a liked movie, the liked attributes it
has, genres shared with a liked movie, or else the generator that proposed it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from dialogue.catalog_index import CatalogIndex
from dialogue.policy import QuestionPlan
from dialogue.preferences import Preferences
from dialogue.state.events import (
    AttributePreferred,
    CritiqueGiven,
    Event,
    ItemMentioned,
    QuestionAnswered,
)
from recsys.catalog.types import CatalogItem
from recsys.models.types import Trace

_ROLES = (("directors", "Directed by"), ("stars", "Stars"), ("writers", "Written by"))
_GENERATOR_PHRASES = {
    "itemknn": "People who liked {seed} also liked it.",
    "als": "People who liked {seed} also liked it.",
    "bpr": "People who liked {seed} also liked it.",
    "ease": "People who liked {seed} also liked it.",
    "ppr": "It is closely linked to {seed} through shared cast, crew, genres and conversations.",
    "kg_gnn": "Viewers with tastes like yours rate it highly.",
    "lightgcn": "Viewers with tastes like yours rate it highly.",
    "popularity": "It is one of the most popular movies in the catalog.",
}
_NO_SEED_PHRASE = "It is a favourite of viewers with the tastes you described."
_CRITIQUE_WORDS = {
    ("recency", "more"): "more recent",
    ("recency", "less"): "older",
    ("violence", "less"): "less violent",
    ("violence", "more"): "more action-packed",
    ("humor", "more"): "funnier",
    ("humor", "less"): "more serious",
    ("scariness", "more"): "scarier",
    ("scariness", "less"): "less scary",
    ("darkness", "more"): "darker",
    ("darkness", "less"): "lighter",
    ("popularity", "more"): "better known",
    ("popularity", "less"): "less known",
    ("length", "less"): "shorter",
    ("length", "more"): "longer",
}
_QUESTION_TEMPLATES = {
    "genre": "What kind of movie are you in the mood for? For example {options}.",
    "decade": "Any particular era? For example {options}.",
    "director": "Is there a director whose films you enjoy? For example {options}.",
    "star": "Any actors you'd like to see? For example {options}.",
    "writer": "Any writers you like? For example {options}.",
    "tag": "What should the movie be like? For example {options}.",
}
_DIMENSION_NOUNS = {"length": "running times"}
PLOT_CHARS = 300


@dataclass(frozen=True)
class ItemExplanation:
    """An explanation as shown, and where it came from ("template", "llm", or another explainer's name)."""

    text: str
    source: str = "template"


@runtime_checkable
class Explainer(Protocol):
    """Explains why an item is recommended to a user with these preferences.

    `explain_many` explains the items of one turn together (an LLM explainer batches them in one call);
    its default asks `explain` once per item. `profile_text` is the user's language profile, which an
    explainer may phrase its text for. Use `explain_all` to call any explainer, even one without
    `explain_many`."""

    def explain(self, item: CatalogItem, prefs: Preferences, provenance: Mapping[str, Trace]) -> str: ...

    def explain_many(
        self,
        items: Sequence[CatalogItem],
        prefs: Preferences,
        provenances: Sequence[Mapping[str, Trace]],
        *,
        profile_text: str = "",
    ) -> list[ItemExplanation]:
        """One explanation per item (default: `explain` in a loop)."""
        return [
            ItemExplanation(self.explain(item, prefs, prov), "template")
            for item, prov in zip(items, provenances, strict=True)
        ]


def explain_all(
    explainer: Explainer,
    items: Sequence[CatalogItem],
    prefs: Preferences,
    provenances: Sequence[Mapping[str, Trace]],
    *,
    profile_text: str = "",
) -> list[ItemExplanation]:
    """The explanations of one turn's items through `explainer.explain_many`, or through `explain` one
    by one when the explainer does not have it (an object that only follows the one-item protocol)."""
    if len(items) != len(provenances):
        raise ValueError(f"{len(items)} items but {len(provenances)} provenances")
    if not items:
        return []
    many = getattr(explainer, "explain_many", None)
    if many is None:
        return [
            ItemExplanation(explainer.explain(item, prefs, prov), type(explainer).__name__)
            for item, prov in zip(items, provenances, strict=True)
        ]
    out = list(many(items, prefs, provenances, profile_text=profile_text))
    if len(out) != len(items):
        name = type(explainer).__name__
        raise ValueError(f"{name}.explain_many gave {len(out)} texts for {len(items)} items")
    return out


def join_words(words: Sequence[str], conjunction: str = "and") -> str:
    """ "a", "a and b", "a, b and c"."""
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


@dataclass(frozen=True, slots=True)
class _SeedPeople:
    """The seeds of one explanation and, per role of _ROLES, (seed, its names lower-cased) per seed, and
    every seed's names of that role together (an item sharing none of them needs no look at the seeds)."""

    seeds: list[CatalogItem]
    people: tuple[tuple[tuple[CatalogItem, tuple[str, ...]], ...], ...]
    names: tuple[frozenset[str], ...]


class TemplateExplainer(Explainer):
    """Explanations from catalog facts (see the module docstring)."""

    def __init__(self, index: CatalogIndex) -> None:
        self.index = index

    def explain(self, item: CatalogItem, prefs: Preferences, provenance: Mapping[str, Trace]) -> str:
        return self._explain(item, prefs, provenance, self._seed_people(prefs))

    def explain_many(
        self,
        items: Sequence[CatalogItem],
        prefs: Preferences,
        provenances: Sequence[Mapping[str, Trace]],
        *,
        profile_text: str = "",
    ) -> list[ItemExplanation]:
        """`explain` for each item, the seeds' facts gathered once for all of them."""
        if type(self).explain is not TemplateExplainer.explain:  # a subclass's own explain is the truth
            return super().explain_many(items, prefs, provenances, profile_text=profile_text)
        facts = self._seed_people(prefs)
        return [
            ItemExplanation(self._explain(item, prefs, prov, facts), "template")
            for item, prov in zip(items, provenances, strict=True)
        ]

    def _seed_people(self, prefs: Preferences) -> _SeedPeople:
        """The (up to 20) seeds and, per role, each seed's names lower-cased."""
        seeds = [self.index.item(i) for i in prefs.seed_items[:20]]
        people = tuple(
            tuple((seed, tuple(p.lower() for p in getattr(seed, field))) for seed in seeds)
            for field, _ in _ROLES
        )
        names = tuple(frozenset(p for _, lowered in per_seed for p in lowered) for per_seed in people)
        return _SeedPeople(seeds, people, names)

    def _explain(
        self, item: CatalogItem, prefs: Preferences, provenance: Mapping[str, Trace], facts: _SeedPeople
    ) -> str:
        seeds = facts.seeds
        reasons = [r for r in (self._shared_person(item, facts), self._liked_attributes(item, prefs)) if r]
        if not reasons:
            shared = self._shared_genres(item, seeds)
            if shared:
                reasons.append(shared)
        if len(reasons) < 2:
            reasons.append(self._generator(provenance, seeds))
        return " ".join(reasons[:2])

    @staticmethod
    def _shared_person(item: CatalogItem, facts: _SeedPeople) -> str | None:
        for (field, verb), per_seed, anyone in zip(_ROLES, facts.people, facts.names, strict=True):
            names = getattr(item, field)
            if not names:
                continue
            mine = {p.lower(): p for p in names}
            if anyone.isdisjoint(mine):  # no seed shares a name of this role
                continue
            for seed, lowered in per_seed:
                common = [mine[p] for p in lowered if p in mine]
                if common:
                    return f"{verb} {join_words(common[:2])}, like {seed.title}."
        return None

    def _liked_attributes(self, item: CatalogItem, prefs: Preferences) -> str | None:
        have = self.index.item_attributes[item.item_id]
        matched = [a for a in prefs.all_liked_attributes if a in have]
        if not matched:
            return None
        shown = [self.index.display(a) for a in matched[:3]]
        return f"It matches what you asked for: {join_words(shown)}."

    @staticmethod
    def _shared_genres(item: CatalogItem, seeds: Sequence[CatalogItem]) -> str | None:
        best: tuple[int, list[str], CatalogItem] | None = None
        for seed in seeds:
            common = [g for g in item.genres if g in seed.genres]
            if common and (best is None or len(common) > best[0]):
                best = (len(common), common, seed)
        if best is None:
            return None
        genres = join_words(best[1][:3])
        return f"{'An' if genres[:1] in 'aeiou' else 'A'} {genres} movie, like {best[2].title}."

    @staticmethod
    def _generator(provenance: Mapping[str, Trace], seeds: Sequence[CatalogItem]) -> str:
        if not provenance:
            return _NO_SEED_PHRASE
        best = min(provenance.items(), key=lambda kv: kv[1].rank)[0].replace("-", "_")
        phrase = _GENERATOR_PHRASES.get(best, _NO_SEED_PHRASE)
        if "{seed}" in phrase:
            if not seeds:
                return _NO_SEED_PHRASE
            phrase = phrase.format(seed=seeds[0].title)
        return phrase


# ---------------------------------------------------------------------- replies
def greeting(profile_titles: Sequence[str] = ()) -> str:
    if profile_titles:
        return (
            f"Welcome back! Last time you liked {join_words(list(profile_titles)[:3])}. "
            "What are you in the mood for today?"
        )
    return (
        "Hi! I can help you find a movie. Tell me about a film you loved, or what you're in the mood for "
        "(a genre, an actor, a director...)."
    )


def acknowledgement(events: Sequence[Event], index: CatalogIndex) -> str:
    """One sentence restating what this turn added to the state ("" when nothing)."""
    liked, disliked, seen, wants, avoid, critiques = [], [], [], [], [], []
    for e in events:
        if isinstance(e, ItemMentioned):
            {"liked": liked, "disliked": disliked, "seen": seen}[e.polarity].append(
                index.item(e.item_id).title
            )
        elif isinstance(e, AttributePreferred):
            (wants if e.polarity == "liked" else avoid).append(index.display(e.attribute))
        elif isinstance(e, QuestionAnswered):
            wants += [index.display(a) for a in e.liked]
            avoid += [index.display(a) for a in e.disliked]
        elif isinstance(e, CritiqueGiven):
            critiques.append(_CRITIQUE_WORDS.get((e.dimension, e.direction), f"{e.direction} {e.dimension}"))
    parts = []
    if liked:
        parts.append(f"you liked {join_words(liked)}")
    if disliked:
        parts.append(f"you didn't like {join_words(disliked)}")
    if wants:
        parts.append(f"you're into {join_words(wants)}")
    if avoid:
        parts.append(f"no {join_words(avoid, 'or')}")
    if critiques:
        parts.append(f"something {join_words(critiques)}")
    if seen and not parts:
        parts.append(f"you've already seen {join_words(seen)}")
    return f"Got it: {'; '.join(parts)}." if parts else ""


def question_text(plan: QuestionPlan, index: CatalogIndex) -> str:
    options = join_words([index.display(o) for o in plan.options], "or")
    return _QUESTION_TEMPLATES.get(plan.attribute_kind, "Any preference? For example {options}.").format(
        options=options
    )


def recommendation_text(titles: Sequence[str], prefs: Preferences, ack: str, *, more: bool) -> str:
    if not titles:
        avoid = [a.partition(":")[2] for a in prefs.disliked_attributes[:3]]
        hint = f" (you ruled out {join_words(avoid, 'and')})" if avoid else ""
        return " ".join(
            p
            for p in (ack, f"I couldn't find a movie that fits everything{hint}. Could you relax something?")
            if p
        )
    if prefs.seed_items or prefs.all_liked_attributes:
        lead = "Here are some more ideas" if more else "Based on what you told me, you might enjoy"
    else:
        lead = "Here are some popular picks to start with"
    return " ".join(p for p in (ack, f"{lead}: {join_words(titles)}.") if p)


def explanation_text(lines: Sequence[str]) -> str:
    if not lines:
        return "I haven't recommended anything yet. Tell me about a movie you like and I'll suggest some!"
    return "\n".join(lines)


def answer_text(item: CatalogItem) -> str:
    """Facts about one movie: year, genres, director, stars and the plot."""
    first = item.display
    if item.genres:
        genres = join_words(list(item.genres[:3]))
        first += f" is {'an' if genres[:1] in 'aeiou' else 'a'} {genres} movie"
    else:
        first += " is a movie"
    if item.directors:
        first += f" directed by {join_words(list(item.directors[:2]))}"
    sentences = [first + "."]
    if item.stars:
        sentences.append(f"It stars {join_words(list(item.stars[:3]))}.")
    if item.plot:
        plot = (
            item.plot if len(item.plot) <= PLOT_CHARS else item.plot[: PLOT_CHARS - 1].rsplit(" ", 1)[0] + "…"
        )
        sentences.append(plot)
    return " ".join(sentences)


def chitchat_text(accepted: Sequence[str], *, has_recommendations: bool) -> str:
    if accepted:
        return f"Great choice, enjoy {join_words(list(accepted))}! Tell me if you'd like more ideas."
    if has_recommendations:
        return "You're welcome! Want more suggestions, or something different?"
    return (
        "I'm here to help you find a movie. "
        "Tell me about a film you loved, or a genre you're in the mood for."
    )


def goodbye_text(accepted: Sequence[str]) -> str:
    if accepted:
        return f"Enjoy {join_words(list(accepted)[-2:])}! Goodbye."
    return "Goodbye! Come back whenever you need a movie idea."


def notes_text(unknown_attributes: Sequence[str], unsupported: Sequence[str], index: CatalogIndex) -> str:
    """What the system could not act on, said plainly."""
    parts = []
    if unknown_attributes:
        shown = join_words([f"'{index.display(a)}'" for a in unknown_attributes], "or")
        parts.append(f"I don't know any movie with {shown}, so I can't use that.")
    if unsupported:
        words = join_words([_DIMENSION_NOUNS.get(d, d.replace("_", " ")) for d in unsupported], "or")
        parts.append(f"I have no data on {words}, so I can't take that into account.")
    return " ".join(parts)
