"""From what was said before a recommender message to the system's query: a Profile and a repeat boost.

Each message of a dialogue is understood once, in order, by an `Extractor`
(dialogue.understanding): a seeker message is read with `DialogueContext(last_recommended=...)` (the movies
of the latest recommender message), so "seen it" / "I didn't like that one" attach to the recommender's
suggestions; a recommender message is read without context. Every movie mention becomes a
`MentionEvent` (catalog id, message index, speaker, polarity, how it was found). Without an extractor
only the `@id` mentions are used (polarity neutral).

`build_profile` turns the events before a message into a `Profile` (only the events `ProfileConfig` keeps:
`@` mentions always, titles and references found in the free text only with `use_titles` / `use_references`,
both off by default):
- an item's stance is the seeker's latest non-neutral polarity about it (liked / disliked / seen); a
  seeker's plain mention counts as liked, a recommender's suggestion that the seeker did not reject too;
- disliked items go to `disliked_items`; the others are liked with weight
  `role weight * decay ** (age - 1)` (age of a mention: 1 in the message right before the target message,
  2 in the one before, ...; the seeker or recommender weight; `seen_weight` times that when seen; an item
  mentioned several times keeps its largest weight);
- attribute mentions ("genre:comedy", ...) from the seeker's messages (and the recommender's when
  `recommender_attributes`) become liked / disliked attribute indices of the TrainData vocabulary.

`repeat_boost` is the per-item score added to the fused ranking in `full`: recommenders often repeat a
movie of the context, the more likely the more recent the mention.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from tqdm.auto import tqdm

from dialogue.understanding.types import DialogueContext, Extractor, Polarity, Understanding
from recsys.catalog.types import Catalog
from recsys.data.types import Dialogue
from recsys.errors import ValidationError
from recsys.eval.redial_samples import RedialSample
from recsys.models.types import Profile


@dataclass(frozen=True)
class MentionEvent:
    """One movie mention in one message."""

    item: int  # catalog id
    position: int  # message index
    by_seeker: bool
    polarity: Polarity
    source: str  # "at_id", "title" or "reference"


@dataclass(frozen=True)
class AttributeEvent:
    attribute: str  # "genre:comedy"
    position: int
    by_seeker: bool
    polarity: Polarity


@dataclass(frozen=True)
class ContextQuery:
    """What the system knows before the target message: mention and attribute events, in order."""

    position: int  # index of the target message (= number of context messages)
    events: tuple[MentionEvent, ...] = ()
    attributes: tuple[AttributeEvent, ...] = ()

    def items_by_recency(self) -> list[int]:
        """Distinct context movies, most recently mentioned first (ties: later in the message first)."""
        return list(dict.fromkeys(e.item for e in reversed(self.events)))


@dataclass(frozen=True)
class ProfileConfig:
    """How context events weigh in the profile (see the module docstring).

    The defaults were chosen on validation dialogues of the ReDial training file (a split of the training
    dialogues, never a test file): every mentioned movie counts alike (no recency decay, the recommender's
    suggestions as much as the seeker's), titles and references found in the text are left out (in ReDial
    movies are `@` mentions; the free-text matches were mostly noise and lowered the validation score),
    attributes count from both speakers (leaving attributes out cost the most).
    """

    seeker_weight: float = 1.0
    recommender_weight: float = 1.0
    decay: float = 1.0
    seen_weight: float = 1.0
    use_titles: bool = False
    use_references: bool = False
    reference_rejections: bool = False  # "not that one" (a disliked reference) counts even without references
    use_attributes: bool = True
    recommender_attributes: bool = True


@dataclass(frozen=True)
class BoostConfig:
    """Repeat boost of a context movie: max over its mentions of `role weight * decay ** (age - 1)`.

    Movies the seeker disliked get no boost. All weights 0 = no boost.
    """

    seeker: float = 0.0
    recommender: float = 0.0
    decay: float = 0.7

    @property
    def active(self) -> bool:
        return self.seeker > 0 or self.recommender > 0


@dataclass
class EncodingStats:
    """What the understanding step did, for the report (nothing is dropped silently)."""

    messages: int = 0
    not_understood: int = 0  # messages the extractor refused (too long, ...): @ids used, text not
    extractor_failures: int = 0  # messages on which the extractor crashed (a bug): @ids used, text not
    unknown_mentions: int = 0  # @ids the catalog does not know (left out of the profiles)
    errors: list[str] = field(default_factory=list)  # the first few refusals and failures


class ContextEncoder:
    """Turns samples into ContextQueries, understanding each message of a dialogue once."""

    def __init__(self, catalog: Catalog, extractor: Extractor | None = None) -> None:
        self.catalog = catalog
        self.extractor = extractor
        self.stats = EncodingStats()

    def encode(self, samples: Sequence[RedialSample], *, show_progress: bool = False) -> list[ContextQuery]:
        """One ContextQuery per sample (samples of one dialogue share the understanding of its messages)."""
        per_dialogue: dict[int, tuple[list[list[MentionEvent]], list[list[AttributeEvent]]]] = {}
        out: list[ContextQuery] = []
        for sample in tqdm(samples, desc="understanding context", unit="sample", disable=not show_progress):
            key = id(sample.dialogue)
            if key not in per_dialogue:
                per_dialogue[key] = self._understand(sample.dialogue)
            items, attrs = per_dialogue[key]
            pos = sample.position
            out.append(
                ContextQuery(
                    position=pos,
                    events=tuple(e for msg in items[:pos] for e in msg),
                    attributes=tuple(a for msg in attrs[:pos] for a in msg),
                )
            )
        return out

    def _understand(self, dialogue: Dialogue) -> tuple[list[list[MentionEvent]], list[list[AttributeEvent]]]:
        items: list[list[MentionEvent]] = []
        attrs: list[list[AttributeEvent]] = []
        last_recommended: tuple[int, ...] = ()
        for pos, message in enumerate(dialogue.messages):
            self.stats.messages += 1
            at_ids = [self.catalog.from_redial(span.movie_id) for span in message.mentions]
            self.stats.unknown_mentions += sum(1 for i in at_ids if i is None)
            understanding = self._extract(message.text, last_recommended if message.is_seeker else ())
            if understanding is None:
                msg_items = [
                    MentionEvent(i, pos, message.is_seeker, Polarity.NEUTRAL, "at_id")
                    for i in dict.fromkeys(at_ids)
                    if i is not None
                ]
                msg_attrs: list[AttributeEvent] = []
            else:
                msg_items = [
                    MentionEvent(m.item_id, pos, message.is_seeker, m.polarity, m.source)
                    for m in understanding.items
                    if m.item_id is not None
                ]
                msg_attrs = [
                    AttributeEvent(a.attribute, pos, message.is_seeker, a.polarity)
                    for a in understanding.attributes
                    if a.known
                ]
            items.append(msg_items)
            attrs.append(msg_attrs)
            if not message.is_seeker:
                suggested = tuple(dict.fromkeys(i for i in at_ids if i is not None))
                last_recommended = suggested or last_recommended
        return items, attrs

    def _extract(self, text: str, last_recommended: tuple[int, ...]) -> Understanding | None:
        if self.extractor is None:
            return None
        if not text.strip():
            return None  # nothing to understand (and no @id either)
        try:
            return self.extractor.extract(text, DialogueContext(last_recommended=last_recommended))
        except ValidationError as exc:
            self.stats.not_understood += 1
            self._note(f"refused: {exc}")
        except Exception as exc:  # a crash on one message must not end the benchmark
            self.stats.extractor_failures += 1
            self._note(f"failed ({type(exc).__name__}: {exc}) on {text[:80]!r}")
        return None

    def _note(self, error: str) -> None:
        if len(self.stats.errors) < 10:
            self.stats.errors.append(error)


def _stance(events: Sequence[MentionEvent]) -> dict[int, Polarity]:
    """Per item, the seeker's latest non-neutral polarity (NEUTRAL when the seeker never gave one)."""
    stance: dict[int, Polarity] = {}
    for e in events:
        if e.by_seeker and e.polarity is not Polarity.NEUTRAL:
            stance[e.item] = e.polarity
        else:
            stance.setdefault(e.item, Polarity.NEUTRAL)
    return stance


def _kept(event: MentionEvent, config: ProfileConfig) -> bool:
    if event.source == "title":
        return config.use_titles
    if event.source == "reference":
        return config.use_references or (config.reference_rejections and event.polarity is Polarity.DISLIKED)
    return True


def kept_events(query: ContextQuery, config: ProfileConfig) -> ContextQuery:
    """The query with only the mention events the config uses (titles / references may be left out);
    the profile, the repeat boost and the dedup exclusions all see this same set of context movies."""
    return replace(query, events=tuple(e for e in query.events if _kept(e, config)))


def build_profile(query: ContextQuery, attribute_index: Mapping[str, int], config: ProfileConfig) -> Profile:
    """The Profile of a context (see the module docstring)."""
    events = kept_events(query, config).events
    stance = _stance(events)
    weights: dict[int, float] = {}
    for e in events:
        role = config.seeker_weight if e.by_seeker else config.recommender_weight
        w = role * config.decay ** (query.position - e.position - 1)
        if stance[e.item] is Polarity.SEEN:
            w *= config.seen_weight
        weights[e.item] = max(weights.get(e.item, 0.0), w)
    disliked = tuple(i for i, s in stance.items() if s is Polarity.DISLIKED)
    liked = [(i, w) for i, w in weights.items() if stance[i] is not Polarity.DISLIKED and w > 0]
    liked_attrs: dict[int, None] = {}
    disliked_attrs: dict[int, None] = {}
    if config.use_attributes:
        for a in query.attributes:
            index = attribute_index.get(a.attribute)
            if index is None or not (a.by_seeker or config.recommender_attributes):
                continue
            if a.polarity is Polarity.DISLIKED:
                disliked_attrs[index] = None
                liked_attrs.pop(index, None)
            else:
                liked_attrs[index] = None
                disliked_attrs.pop(index, None)
    return Profile(
        liked_items=tuple(i for i, _ in liked),
        disliked_items=disliked,
        liked_attributes=tuple(liked_attrs),
        disliked_attributes=tuple(disliked_attrs),
        item_weights=tuple(float(w) for _, w in liked) if liked else None,
    )


def boost_ages(query: ContextQuery) -> dict[int, tuple[float, float]]:
    """Per boostable context movie (not disliked by the seeker): the age of its latest seeker mention and
    of its latest recommender mention (inf when that side never mentioned it); age 1 = the message right
    before the target message."""
    stance = _stance(query.events)
    ages: dict[int, tuple[float, float]] = {}
    for e in query.events:
        if stance[e.item] is Polarity.DISLIKED:
            continue
        seeker, recommender = ages.get(e.item, (np.inf, np.inf))
        age = float(query.position - e.position)
        ages[e.item] = (min(seeker, age), recommender) if e.by_seeker else (seeker, min(recommender, age))
    return ages


def boost_value(ages: tuple[float, float], config: BoostConfig) -> float:
    """`max(seeker * decay ** (age_s - 1), recommender * decay ** (age_r - 1))` (a missing side gives 0)."""
    seeker_age, recommender_age = ages
    value = 0.0
    if np.isfinite(seeker_age):
        value = config.seeker * config.decay ** (seeker_age - 1.0)
    if np.isfinite(recommender_age):
        value = max(value, config.recommender * config.decay ** (recommender_age - 1.0))
    return value


def repeat_boost(query: ContextQuery, n_items: int, config: BoostConfig) -> np.ndarray | None:
    """Dense boost vector of the context movies (None when the config or the context gives none)."""
    if not config.active or not query.events:
        return None
    vec = np.zeros(n_items, dtype=np.float64)
    for item, ages in boost_ages(query).items():
        vec[item] = boost_value(ages, config)
    return vec if vec.any() else None
