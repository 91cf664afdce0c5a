"""The rule-based Extractor: one message -> Understanding, from a Catalog.

Order of work on a message (each step only sees tokens the earlier steps left):
`@id` mentions -> critique wordings -> people / genres / moods / tags / decades (longest phrase wins) ->
titles (common-word titles inside those phrases need a strong cue) -> references to the last
recommendations -> embedding moods for leftover descriptive phrases (optional) -> polarity of every
mention -> critiques' reference items -> intents.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dialogue.understanding.attributes import AttributeIndex
from dialogue.understanding.critiques import CritiqueMatcher, CritiqueSpan
from dialogue.understanding.embeddings import (
    DEFAULT_THRESHOLD,
    EmbeddingMoodMapper,
    SentenceEncoder,
    load_default_encoder,
    mood_candidates,
)
from dialogue.understanding.intents import IntentEvidence, detect_intents
from dialogue.understanding.moods import MOOD_RULES, MoodMatcher
from dialogue.understanding.phrases import AttributeSpan
from dialogue.understanding.polarity import PolarityResolver
from dialogue.understanding.references import find_references
from dialogue.understanding.text import MessageView
from dialogue.understanding.titles import TitleIndex
from dialogue.understanding.types import (
    AttributeMention,
    Critique,
    CritiqueDirection,
    DialogueContext,
    ItemMention,
    MentionSource,
    Polarity,
    Understanding,
)
from recsys.catalog.types import Catalog
from recsys.errors import ValidationError

_PERSON_QUESTIONS = frozenset({"director", "star", "writer", "person"})
_STRENGTH = {Polarity.NEUTRAL: 0, Polarity.SEEN: 1, Polarity.LIKED: 2, Polarity.DISLIKED: 2}


@dataclass(frozen=True, slots=True)
class _ItemSpan:
    """An item mention before its polarity is known: tokens[lo:hi], characters [start, end)."""

    lo: int
    hi: int
    start: int
    end: int
    item_id: int | None
    source: MentionSource
    score: float
    redial_id: int | None = None


class RuleExtractor:
    """Rules over a catalog's titles, people, genres and tags; see the module docstring.

    use_embeddings: map descriptive phrases the rules do not know to moods with MiniLM (loaded lazily,
    only when such a phrase occurs; without the model package the extractor silently keeps to rules).
    """

    def __init__(
        self,
        catalog: Catalog,
        *,
        use_embeddings: bool = True,
        mood_threshold: float = DEFAULT_THRESHOLD,
        encoder_factory: Callable[[], SentenceEncoder | None] = load_default_encoder,
        min_tag_support: int = 2,
        max_chars: int = 4000,
    ) -> None:
        started = time.perf_counter()
        self.catalog = catalog
        self.max_chars = max_chars
        self.attributes = AttributeIndex(catalog, min_tag_support=min_tag_support)
        self.moods = MoodMatcher(self.attributes.vocabulary)
        self.critiques = CritiqueMatcher(self.attributes.vocabulary)
        reserved = self.attributes.genre_words() | self.moods.words() | self.critiques.words()
        self.titles = TitleIndex(
            catalog, name_words=self.attributes.people.name_words(), reserved_words=reserved
        )
        self.use_embeddings = use_embeddings
        self.mood_mapper = (
            EmbeddingMoodMapper(MOOD_RULES, threshold=mood_threshold, encoder_factory=encoder_factory)
            if use_embeddings
            else None
        )
        self.build_seconds = time.perf_counter() - started

    def extract(self, text: str, context: DialogueContext | None = None) -> Understanding:
        """Understand one user message; `context` helps resolve "the first one", "seen it", short answers."""
        if not isinstance(text, str):
            raise ValidationError(f"message text must be a string, got {type(text).__name__}")
        if not text.strip():
            raise ValidationError("message text is empty")
        if len(text) > self.max_chars:
            raise ValidationError(f"message is {len(text)} characters long; the limit is {self.max_chars}")
        ctx = context or DialogueContext()
        view = MessageView.of(text)
        n = len(view.tokens)
        taken = [False] * n

        def mark(lo: int, hi: int) -> None:
            for j in range(lo, hi):
                taken[j] = True

        items: list[_ItemSpan] = []
        for i, tok in enumerate(view.tokens):
            if tok.redial_id is not None:
                item_id = self.catalog.from_redial(tok.redial_id)
                items.append(_ItemSpan(i, i + 1, tok.start, tok.end, item_id, "at_id", 1.0, tok.redial_id))
                taken[i] = True
        crit_spans = self.critiques.find(view, taken)
        for c in crit_spans:
            mark(c.lo, c.hi)
        phrases = self._phrases(view, taken, ctx)
        protected = [False] * n
        for s in phrases:
            for j in range(s.lo, s.hi):
                protected[j] = True
        titles = self.titles.find(
            view, protected=protected, blocked=taken, preferred=ctx.last_recommended,
            relaxed=ctx.last_question_kind == "item",
        )  # fmt: skip
        for t in titles:
            items.append(_ItemSpan(t.tok_start, t.tok_end, t.start, t.end, t.item_id, "title", t.score))
            mark(t.tok_start, t.tok_end)
        phrases = [s for s in phrases if not any(taken[s.lo : s.hi])]
        for s in phrases:
            mark(s.lo, s.hi)
        explicit_items = bool(items)
        for ref in find_references(view, ctx.last_recommended, taken, allow_pronouns=not explicit_items):
            for item_id in ref.item_ids:
                start, end = view.tokens[ref.lo].start, view.tokens[ref.hi - 1].end
                items.append(_ItemSpan(ref.lo, ref.hi, start, end, item_id, "reference", ref.score))
            mark(ref.lo, ref.hi)
        if self.mood_mapper is not None:
            phrases += self._embedding_moods(view, taken)
        return self._assemble(view, ctx, items, phrases, crit_spans)

    # ------------------------------------------------------------------ steps
    def _phrases(self, view: MessageView, taken: Sequence[bool], ctx: DialogueContext) -> list[AttributeSpan]:
        """People, genres, moods, tags and decades; overlaps go to the longest, then in that order."""
        groups = (
            self.attributes.find_people(view, taken, relaxed=ctx.last_question_kind in _PERSON_QUESTIONS),
            self.attributes.find_genres(view, taken),
            self.moods.find(view, taken),
            self.attributes.find_tags(view, taken),
            self.attributes.find_decades(view, taken, relaxed=ctx.last_question_kind == "decade"),
        )
        ranked = [(s, rank) for rank, group in enumerate(groups) for s in group]
        ranked.sort(key=lambda sr: (-(sr[0].hi - sr[0].lo), sr[1], sr[0].lo))
        used = [False] * len(view.tokens)
        chosen: list[AttributeSpan] = []
        for span, _ in ranked:
            if not any(used[span.lo : span.hi]):
                chosen.append(span)
                for j in range(span.lo, span.hi):
                    used[j] = True
        return sorted(chosen, key=lambda s: s.lo)

    def _embedding_moods(self, view: MessageView, taken: Sequence[bool]) -> list[AttributeSpan]:
        assert self.mood_mapper is not None
        out: list[AttributeSpan] = []
        for lo, hi, phrase in mood_candidates(view, taken):
            found = self.mood_mapper.map(phrase)
            if found is not None:
                rule, similarity = found
                out.append(self.moods.span(rule, lo, hi, score=similarity))
        return out

    def _assemble(
        self,
        view: MessageView,
        ctx: DialogueContext,
        items: list[_ItemSpan],
        phrases: list[AttributeSpan],
        crit_spans: list[CritiqueSpan],
    ) -> Understanding:
        text, tokens = view.text, view.tokens
        resolver = PolarityResolver(view)
        item_spans = [(it.lo, it.hi) for it in items]
        # "X was funny" praises X; it is not a wish for comedies.
        phrases = [
            s
            for s in phrases
            if not (s.mood and resolver.evaluates(s.lo, item_spans, single=s.hi - s.lo == 1))
        ]
        # "Is X too scary for kids?" asks; it does not critique.
        crit_spans = [c for c in crit_spans if not (c.comparative and resolver.is_copula_question(c.lo))]
        all_spans = item_spans + [(s.lo, s.hi) for s in phrases]

        def char_span(lo: int, hi: int) -> tuple[int, int, str]:
            start, end = tokens[lo].start, tokens[hi - 1].end
            return start, end, text[start:end]

        phrase_polarity: dict[int, Polarity] = {}  # phrase end token -> polarity
        for s in phrases:
            polarity = resolver.resolve(s.lo, s.hi, is_item=False, others=all_spans)
            # "I've seen a lot of horror": no preference either way
            phrase_polarity[s.hi] = Polarity.NEUTRAL if polarity is Polarity.SEEN else polarity

        item_mentions: list[ItemMention] = []
        for it in sorted(items, key=lambda x: x.lo):
            polarity = _example_of(view.norms, it.lo, phrase_polarity)
            if polarity is None:
                polarity = resolver.resolve(it.lo, it.hi, is_item=True, others=all_spans)
            surface = text[it.start : it.end]
            item_mentions.append(
                ItemMention(
                    it.item_id, polarity, it.start, it.end, surface, it.score, it.source, it.redial_id
                )
            )
        item_mentions = _merge_items(item_mentions)

        attributes: list[AttributeMention] = []
        critiques: list[Critique] = []
        for s in phrases:
            polarity = phrase_polarity[s.hi]
            start, end, surface = char_span(s.lo, s.hi)
            for attr, known in s.attributes:
                attributes.append(
                    AttributeMention(attr, polarity, start, end, surface, s.score, known, s.mood)
                )
            if s.critique and polarity in (Polarity.LIKED, Polarity.DISLIKED):
                dim, wanted = s.critique  # the direction when the mood is wanted; refused: the other one
                direction: CritiqueDirection = (
                    "more" if (wanted == "more") == (polarity is Polarity.LIKED) else "less"
                )
                critiques.append(Critique(dim, direction, None, None, start, end, surface, comparative=False))
        for c in crit_spans:
            start, end, surface = char_span(c.lo, c.hi)
            ref = self._reference_item(resolver, c, items) if c.comparative else None
            critiques.append(
                Critique(c.dimension, c.direction, ref, c.attribute, start, end, surface, c.comparative)
            )
        attributes = _dedupe_attributes(attributes)
        critiques = _dedupe_critiques(critiques)

        recommended = set(ctx.last_recommended)
        evidence = IntentEvidence(
            polarities=[m.polarity for m in item_mentions] + [a.polarity for a in attributes],
            n_items=len(item_mentions),
            n_attributes=len(attributes),
            has_comparative_critique=any(c.comparative for c in critiques),
            has_critique=bool(critiques),
            rejected_recommendation=any(
                m.item_id in recommended and m.polarity in (Polarity.DISLIKED, Polarity.SEEN)
                for m in item_mentions
            ),
            has_recommendations=bool(recommended),
            item_question=any(resolver.is_question(it.lo) for it in items),
        )
        intents = detect_intents(view, evidence)
        return Understanding(
            intent=intents[0],
            items=tuple(item_mentions),
            attributes=tuple(attributes),
            critiques=tuple(critiques),
            text=text,
            intents=intents,
        )

    @staticmethod
    def _reference_item(
        resolver: PolarityResolver,
        crit: CritiqueSpan,
        items: Sequence[_ItemSpan],
    ) -> int | None:
        """The movie a comparative critique is relative to: the nearest one named in its sentence,
        preferring one before it ("like X but funnier") to one after ("funnier than X")."""
        best: tuple[int, int] | None = None
        for it in items:
            if it.item_id is None or not resolver.same_sentence(it.lo, crit.lo):
                continue
            distance = crit.lo - it.hi if it.hi <= crit.lo else it.lo - crit.hi + 100
            if best is None or distance < best[0]:
                best = (distance, it.item_id)
        return best[1] if best else None


def _merge_items(mentions: list[ItemMention]) -> list[ItemMention]:
    """One mention per movie: the strongest polarity (liked/disliked > seen > neutral), later wins ties."""
    chosen: dict[tuple[int | None, int | None], int] = {}
    out: list[ItemMention] = []
    for m in mentions:
        key = (m.item_id, m.redial_id if m.item_id is None else None)
        k = chosen.get(key)
        if k is None:
            chosen[key] = len(out)
            out.append(m)
        elif _STRENGTH[m.polarity] >= _STRENGTH[out[k].polarity] and m.polarity is not Polarity.NEUTRAL:
            out[k] = m
    return out


def _dedupe_attributes(attributes: list[AttributeMention]) -> list[AttributeMention]:
    seen: set[tuple[str, Polarity]] = set()
    out = []
    for a in attributes:
        if (a.attribute, a.polarity) not in seen:
            seen.add((a.attribute, a.polarity))
            out.append(a)
    return out


def _dedupe_critiques(critiques: list[Critique]) -> list[Critique]:
    """One critique per (dimension, direction); a comparative wording beats a mood's implication."""
    best: dict[tuple[str, str], Critique] = {}
    for c in critiques:
        key = (c.dimension, c.direction)
        if key not in best or (c.comparative and not best[key].comparative):
            best[key] = c
    return sorted(best.values(), key=lambda c: c.start)


_EXAMPLE_WORDS = frozenset(
    {"like", "such", "as", "especially", "including", "movies", "films", "ones", "stuff"}
)


def _example_of(norms: Sequence[str], lo: int, phrase_polarity: dict[int, Polarity]) -> Polarity | None:
    """ "I'm not into romance movies like X": X is an example of a phrase and shares its polarity."""
    j, linked = lo, False
    while j > 0 and norms[j - 1] in _EXAMPLE_WORDS:
        linked = linked or norms[j - 1] in {"like", "as", "especially", "including"}
        j -= 1
        found = phrase_polarity.get(j) if linked else None
        if found in (Polarity.LIKED, Polarity.DISLIKED):
            return found
    return None
