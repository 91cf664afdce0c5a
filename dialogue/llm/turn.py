"""The LLM layer inside a dialogue turn: explanations of the recommended items and the language profile.

- `LLMTurnExplainer` follows the dialogue's `Explainer` protocol (dialogue.nlg): the items of one turn are
  explained in one batched LLM call, each answer checked by the guard, a failing or missing one replaced
  by the template built from the same facts (dialogue.llm.explain). With no runtime it is the template.
- `LanguageProfiler` writes the user's profile sentence from the typed preferences and their own recent
  words (dialogue.llm.profile_text), and says when it must be rewritten: only when the typed preferences
  changed (`basis`), never over a text the user wrote themselves.

`build_turn_llm(catalog, index, settings)` assembles both from the settings (`llm_model = none`: the
templates; otherwise the process-wide runtime, which loads the model on first use).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from dialogue.catalog_index import CatalogIndex
from dialogue.llm.explain import Explainer as LLMExplainer
from dialogue.llm.facts import ExplanationFacts, main_generator
from dialogue.llm.grounding import GuardVocabulary
from dialogue.llm.guard import OutputGuard
from dialogue.llm.profile_match import NO_PREFERENCES
from dialogue.llm.profile_text import (
    MAX_PROFILE_CHARS,
    ProfileText,
    ProfileWriter,
    TypedPreferences,
    template_profile,
)
from dialogue.llm.runtime import LLMRuntime
from dialogue.nlg import Explainer, ItemExplanation
from dialogue.preferences import Preferences
from dialogue.results import ProfileView
from dialogue.state.events import Event, ProfileEdited
from dialogue.state.profile import UserProfile
from dialogue.state.state import DialogueState
from recsys.catalog.types import Catalog, CatalogItem
from recsys.models.types import Trace
from recsys.settings import Settings

log = logging.getLogger(__name__)

_TEMPLATES_KEPT = 4096  # template texts remembered by a profiler (`ranking_text`)
MAX_LIKED = 10  # liked items given to an explanation's facts
MAX_UTTERANCES = 3  # the user's latest messages given to the profile writer
EXPLAIN_MAX_NEW_TOKENS = 40  # explanations are one sentence of ~25-35 tokens
EXPLAIN_STOP_SENTENCES = 1  # a row stops at its first finished sentence
EXPLAIN_LLM_ITEMS = 3  # items of a turn explained by the LLM (the rest by the template)


# The template paths never run the guard's checks (only its limits): an empty vocabulary is enough.
_EMPTY = GuardVocabulary({}, frozenset(), {})
_TEMPLATE_GUARD = OutputGuard(_EMPTY, max_chars=MAX_PROFILE_CHARS)
_TEMPLATE_EXPLAIN_GUARD = OutputGuard(_EMPTY)


def usable(runtime: LLMRuntime | None) -> LLMRuntime | None:
    """`runtime` when its model is loaded; else None (use the template now) after starting the load in
    the background, so that no turn waits for a first load (`warm_up()` at start-up avoids the gap)."""
    if runtime is None or not runtime.enabled:
        return None
    return runtime if runtime.start_loading() else None


class _LazyGuard:
    """One OutputGuard over the whole catalog's vocabulary, built on first use (a second or two)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._guards: dict[int, OutputGuard] = {}
        self._lock = threading.Lock()

    def get(self, max_chars: int = 320) -> OutputGuard:
        with self._lock:
            if max_chars not in self._guards:
                base = next(iter(self._guards.values()), None)
                vocabulary = base.vocabulary if base else GuardVocabulary.from_items(self.catalog)
                self._guards[max_chars] = OutputGuard(vocabulary, max_chars=max_chars)
            return self._guards[max_chars]


class LLMTurnExplainer(Explainer):
    """Explanations of a turn's recommendations: one batched LLM call, guard, template fallback.

    Only the first `max_llm_items` items are explained by the LLM (the rest by the template), and each
    answer ends at its first finished sentence (`stop_after_sentences`), to keep a turn within ~3 s."""

    def __init__(
        self,
        index: CatalogIndex,
        runtime: LLMRuntime | None,
        *,
        guard: OutputGuard | None = None,
        max_new_tokens: int = EXPLAIN_MAX_NEW_TOKENS,
        timeout: float | None = None,
        max_llm_items: int = EXPLAIN_LLM_ITEMS,
        stop_after_sentences: int | None = EXPLAIN_STOP_SENTENCES,
    ) -> None:
        self.index = index
        self.runtime = runtime
        self._guard = guard
        self._lazy = _LazyGuard(index.catalog)
        self.max_new_tokens = max_new_tokens
        self.timeout = timeout
        self.max_llm_items = max_llm_items
        self.stop_after_sentences = stop_after_sentences

    @property
    def guard(self) -> OutputGuard:
        if self._guard is not None:
            return self._guard
        return self._lazy.get() if self.runtime is not None else _TEMPLATE_EXPLAIN_GUARD

    def facts(
        self, item: CatalogItem, prefs: Preferences, provenance: Mapping[str, Trace]
    ) -> ExplanationFacts:
        """What links `item` to the user: attributes shared with their liked items or liked attributes,
        and the generator that ranked it best."""
        liked = [self.index.item(i) for i in prefs.seed_items[:MAX_LIKED]]
        generator = main_generator(provenance)
        return ExplanationFacts.build(
            item,
            liked_items=liked,
            liked_attributes=prefs.all_liked_attributes,
            path={"generator": generator} if generator else None,
        )

    def explain(self, item: CatalogItem, prefs: Preferences, provenance: Mapping[str, Trace]) -> str:
        return self.explain_many([item], prefs, [provenance])[0].text

    def explain_many(
        self,
        items: Sequence[CatalogItem],
        prefs: Preferences,
        provenances: Sequence[Mapping[str, Trace]],
        *,
        profile_text: str = "",
    ) -> list[ItemExplanation]:
        if not items:
            return []
        facts = [self.facts(it, prefs, prov) for it, prov in zip(items, provenances, strict=True)]
        mentioned = [self.index.item(i).title for i in (*prefs.seed_items, *prefs.disliked_items)]
        runtime = usable(self.runtime)
        guard = self.guard if runtime is not None else _TEMPLATE_EXPLAIN_GUARD
        explainer = LLMExplainer(
            runtime,
            guard,
            max_new_tokens=self.max_new_tokens,
            timeout=self.timeout,
            stop_after_sentences=self.stop_after_sentences,
        )
        head, tail = facts[: self.max_llm_items], facts[self.max_llm_items :]
        results = explainer.explain_many(
            head, profile_text=profile_text, candidates=tuple(items), mentioned_titles=mentioned
        )
        for r in results:
            if r.fallback not in (None, "disabled"):
                log.info("explanation of item %d: template (%s) %s", r.item_id, r.fallback, r.problems)
        if tail:  # beyond the first few, the template (an LLM batch costs ~1.5 s more per item)
            template = LLMExplainer(None, _TEMPLATE_EXPLAIN_GUARD)
            results += template.explain_many(tail, candidates=tuple(items))
        return [ItemExplanation(r.text, r.source) for r in results]


class LanguageProfiler:
    """Writes the profile sentence of a user from their Preferences (see the module docstring)."""

    def __init__(
        self, index: CatalogIndex, runtime: LLMRuntime | None, *, timeout: float | None = None
    ) -> None:
        self.index = index
        self.runtime = runtime
        self.timeout = timeout
        self._lazy = _LazyGuard(index.catalog)
        self._templates: OrderedDict[str, None] = OrderedDict()  # template texts written here, latest last
        self._templates_lock = threading.Lock()

    def typed(self, prefs: Preferences, utterances: Sequence[str] = ()) -> TypedPreferences:
        """The typed preferences a profile is written from: every liked seed (session and profile),
        disliked items, liked and disliked attributes, and the user's latest words."""
        item = self.index.item
        return TypedPreferences(
            liked_items=tuple(item(i) for i in prefs.seed_items),
            disliked_items=tuple(item(i) for i in prefs.disliked_items),
            liked_attributes=prefs.all_liked_attributes,
            disliked_attributes=prefs.disliked_attributes,
            utterances=tuple(u for u in utterances if u and u.strip())[-MAX_UTTERANCES:],
        )

    @staticmethod
    def basis(prefs: Preferences) -> tuple[Any, ...]:
        """What the profile text depends on: it is rewritten only when this changes (order ignored)."""
        return (
            frozenset(prefs.seed_items),
            frozenset(prefs.disliked_items),
            frozenset(prefs.all_liked_attributes),
            frozenset(prefs.disliked_attributes),
        )

    def update(
        self,
        state: DialogueState,
        profile: UserProfile | None,
        prefs: Preferences,
        basis_before: object,
    ) -> tuple[ProfileView, list[Event]]:
        """The language profile after a turn, and the ProfileEdited event recording a rewrite (none when
        the text stays). `prefs` are the turn's preferences, `basis_before` the `basis` before it.

        The user's own text always wins (never rewritten by inference). Otherwise the text is rewritten
        when the typed preferences changed this turn, or when there is none yet but something is known;
        with nothing known, the template's "No preferences yet." is shown and not stored."""
        version = profile.profile_version if profile is not None else None
        if profile is not None and profile.edited_by_user and profile.profile_text:
            return ProfileView(profile.profile_text, "user", False, version, True), []
        if state.profile_edited_by_user and state.profile_text:
            return ProfileView(state.profile_text, "user", False, version, True), []
        current = state.profile_text or (profile.profile_text if profile is not None else None)
        if current and self.basis(prefs) == basis_before:
            return ProfileView(current, "stored", False, version), []
        written = self.write(prefs, [e.user_text for e in state.transcript if e.user_text])
        if written.fallback == "empty" or written.text == current:
            source = "stored" if written.text == current else written.source
            return ProfileView(written.text, source, False, version), []
        new_version = version + 1 if version is not None else None
        view = ProfileView(written.text, written.source, True, new_version)
        return view, [ProfileEdited(text=written.text, source="llm")]

    def ranking_text(self, view: ProfileView, prefs: Preferences) -> str:
        """The profile text worth matching against the item texts (dialogue.llm.profile_match), or "".

        Only a text that says more than the typed preferences is: the user's own words ("user"), an LLM
        text ("llm"), or a stored text of either kind. A template ("template"; or "stored" and equal to
        the template of the current typed preferences or to a template this profiler wrote) restates
        what the ranking already conditions on; matching it measured no gain on held-out ReDial users
        (see profile_match) and cost a MiniLM encoding (~16 ms of CPU) per changed text."""
        text = view.text.strip()
        if not text or view.source == "template" or text == NO_PREFERENCES:
            return ""
        if view.source == "stored" and (self._wrote_template(view.text) or text == self.template(prefs)):
            return ""
        return view.text

    def _wrote_template(self, text: str) -> bool:
        """Whether `text` is a template this profiler wrote (the stored event does not say: a template
        kept with its items in an older order is no longer equal to today's template)."""
        with self._templates_lock:
            return text in self._templates

    def template(self, prefs: Preferences) -> str:
        """The template profile sentence of the typed preferences (what `write` gives without an LLM)."""
        return template_profile(self.typed(prefs), max_chars=MAX_PROFILE_CHARS)

    def write(self, prefs: Preferences, utterances: Sequence[str] = ()) -> ProfileText:
        """The profile sentence (LLM text that passed the guard and the consistency check, or the
        template); "No preferences yet." when nothing is known."""
        runtime = usable(self.runtime)
        guard = self._lazy.get(MAX_PROFILE_CHARS) if runtime is not None else _TEMPLATE_GUARD
        writer = ProfileWriter(runtime, guard)
        written = writer.write(self.typed(prefs, utterances), timeout=self.timeout)
        if written.source == "template":
            with self._templates_lock:
                self._templates[written.text] = None
                self._templates.move_to_end(written.text)
                while len(self._templates) > _TEMPLATES_KEPT:
                    self._templates.popitem(last=False)
        return written


def runtime_from_settings(settings: Settings) -> LLMRuntime | None:
    """The process-wide runtime, or None when `llm_model` is "none" (every feature uses its template)."""
    from dialogue.llm.runtime import LLMConfig, get_runtime

    if LLMConfig.from_settings(settings).disabled:
        return None
    return get_runtime()


def build_turn_llm(
    index: CatalogIndex, runtime: LLMRuntime | None, *, timeout: float | None = None
) -> tuple[LLMTurnExplainer, LanguageProfiler]:
    """The explainer and the profiler of the dialogue manager over `runtime` (None: templates); each LLM
    call of a turn waits at most `timeout` seconds, queue included (default: the runtime's own)."""
    explainer = LLMTurnExplainer(index, runtime, timeout=timeout)
    return explainer, LanguageProfiler(index, runtime, timeout=timeout)
