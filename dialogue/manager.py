"""The dialogue manager: one user message in, the system's reply (and its recorded events) out.

A turn: load the state -> understand the message in its context (last recommendations, pending question)
-> the user's side as events under a fresh turn number, folded into the state in memory -> the policy
decides -> recommend / ask / explain / answer / chit-chat / goodbye -> record both sides (the user's
events, then ItemsRecommended, QuestionAsked, BotUttered) in ONE atomic append, so a crash or a shutdown
never leaves a message without its reply in the store -> merge the session
into the user's long-term profile (sessions with a user id, when the turn said something the profile
keeps: a liked / disliked / seen / accepted item or attribute) -> a TurnResult.

The LLM layer plugs in through three members, each with a template behaviour when the LLM is off:
- `explainer` (dialogue.nlg.Explainer): the explanations of one turn's items, asked for together
  (`explain_many`; dialogue.llm.turn.LLMTurnExplainer batches them in one LLM call behind a guard);
- `profiler` (dialogue.llm.turn.LanguageProfiler): the language profile, rewritten only when the typed
  preferences changed this turn, never over a text the user wrote; a rewrite is recorded as a
  ProfileEdited event (source "llm") and so reaches the user's stored profile with the session merge;
- `reranker` (dialogue.llm.rerank.LLMReranker, off by default): re-orders the fused head of the list
  given the profile text and the latest message. With `profile_matcher`, a profile text that says
  more than the typed preferences (the user's own or an LLM's, not the template:
  `LanguageProfiler.ranking_text`) is also matched against the item texts as one more ranking boost
  (dialogue.llm.profile_match).

A turn ranks its preferences once (`dialogue.ranking.RankOnce`): the policy's question pool and the
recommendation share that fusion pass.

The manager only knows interfaces: a fitted Recommender, an Extractor, a StateStore, the Catalog and a
Policy, so tests and the API can inject small ones. Public API (what the HTTP layer calls):
`start_session`, `turn`, `feedback`, `get_session`, `end_session`, `recommend_for`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from dialogue import nlg
from dialogue.catalog_index import CatalogIndex
from dialogue.interpret import Interpretation, interpret
from dialogue.llm.profile_match import NO_PREFERENCES, ProfileAwareRanker, ProfileTextMatcher
from dialogue.llm.rerank import Candidate, LLMReranker
from dialogue.llm.turn import LanguageProfiler
from dialogue.nlg import Explainer, ItemExplanation, TemplateExplainer, explain_all
from dialogue.policy import Action, Decision, Policy, PolicyConfig, PolicyInput
from dialogue.preferences import Preferences
from dialogue.provenance import ProvenanceCache
from dialogue.ranking import RankedItem, RankOnce, StateRanker, reweighted
from dialogue.results import (
    ProfileView,
    QuestionView,
    RecommendedItem,
    SessionView,
    StateSummary,
    TurnResult,
    understanding_dict,
)
from dialogue.state.events import (
    AttributePreferred,
    BotUttered,
    Event,
    FeedbackGiven,
    ItemAccepted,
    ItemMentioned,
    ItemsRecommended,
    ProfileEdited,
    QuestionAnswered,
    QuestionAsked,
    SessionEnded,
)
from dialogue.state.profile import UserProfile
from dialogue.state.state import DialogueState
from dialogue.store.redis_store import StateStore
from dialogue.understanding.types import DialogueContext, Extractor
from recsys.catalog.types import Catalog
from recsys.errors import SessionEndedError, ValidationError
from recsys.models.base import Recommender

log = logging.getLogger(__name__)

MAX_K = 100
# The events a user profile folds in (dialogue.state.profile); a turn without any needs no merge.
_PROFILE_EVENTS = (
    ItemMentioned,
    ItemAccepted,
    AttributePreferred,
    QuestionAnswered,
    FeedbackGiven,
    ProfileEdited,
)


class DialogueManager:
    """Runs conversations over a fitted recommender (see the module docstring)."""

    def __init__(
        self,
        recommender: Recommender,
        extractor: Extractor,
        store: StateStore,
        catalog: Catalog,
        policy: Policy | PolicyConfig | str | Path | None = None,
        *,
        index: CatalogIndex | None = None,
        explainer: Explainer | None = None,
        profiler: LanguageProfiler | None = None,
        reranker: LLMReranker | None = None,
        profile_matcher: ProfileTextMatcher | None = None,
        profile_weight: float | None = None,
        merge_profiles: bool = True,
    ) -> None:
        if recommender.n_items != len(catalog):
            raise ValidationError(
                f"the recommender has {recommender.n_items} items, the catalog {len(catalog)}"
            )
        self.catalog = catalog
        self.extractor = extractor
        self.store = store
        self.policy = policy if isinstance(policy, Policy) else Policy(policy)
        self.index = index or CatalogIndex(catalog, recommender.data)
        config = self.policy.config
        self.recommender = reweighted(recommender, config.fusion_weights)
        self.ranker: StateRanker
        if profile_matcher is not None:
            extra = {} if profile_weight is None else {"weight": profile_weight}
            self.ranker = ProfileAwareRanker(
                self.recommender,
                self.index,
                config.ranking,
                mode=config.ranking_mode,
                matcher=profile_matcher,
                **extra,
            )
        else:
            self.ranker = StateRanker(self.recommender, self.index, config.ranking, mode=config.ranking_mode)
        self.explainer: Explainer = explainer or TemplateExplainer(self.index)
        self.profiler = profiler or LanguageProfiler(self.index, None)
        self.reranker = reranker
        self.merge_profiles = merge_profiles
        self._provenance = ProvenanceCache()  # of shown items, for "why?" later

    # ------------------------------------------------------------------ sessions
    def start_session(self, user_id: str | None = None, *, session_id: str | None = None) -> str:
        """Create a session (greeted with a BotUttered in turn 0) and return its id."""
        sid = self.store.create_session(user_id, session_id=session_id)
        profile = self._profile(user_id)
        titles = [self.catalog[i].title for i in reversed(list(profile.liked_items))] if profile else []
        self.store.append_events(sid, [BotUttered(turn=0, text=nlg.greeting(titles))])
        return sid

    def get_session(self, session_id: str) -> SessionView:
        """The session's state summary and transcript (SessionNotFoundError if missing or expired)."""
        return SessionView.of(self.store.load_state(session_id), self.catalog)

    def end_session(self, session_id: str, reason: str = "user") -> SessionView:
        """End the session (idempotent) and merge it into the user's profile; returns its final view."""
        state = self.store.load_state(session_id)
        if not state.ended:
            event = SessionEnded(reason=reason)
            self.store.append_events(session_id, [event])
            state.apply(event)
            self._merge(state)
        return SessionView.of(state, self.catalog)

    def feedback(self, session_id: str, item_id: int, kind: str) -> StateSummary:
        """Explicit feedback on an item (like / dislike / accept / reject / seen); returns the new state."""
        self.catalog[item_id]  # UnknownItemError for an id outside the catalog
        state = self._live_state(session_id)
        profile = self._profile(state.user_id)
        before = self.profiler.basis(Preferences.from_state(state, profile))
        event = FeedbackGiven(item_id=item_id, kind=kind, turn=state.turn)  # type: ignore[arg-type]
        self.store.append_events(session_id, [event])
        state.apply(event)
        prefs = Preferences.from_state(state, profile)
        _, profile_events = self.profiler.update(state, profile, prefs, before)
        if profile_events:
            self.store.append_events(session_id, profile_events)
            state.apply_all(profile_events)
        self._merge(state)
        return StateSummary.of(state, self.catalog)

    # ------------------------------------------------------------------ turns
    def turn(self, session_id: str, text: str) -> TurnResult:
        """Handle one user message (see the module docstring)."""
        if not isinstance(text, str) or not text.strip():
            raise ValidationError("message text is empty")
        # the turn number comes with the load (None: it is handed out below, where it used to be taken)
        state, turn = self.store.load_state_for_turn(session_id)
        if state.ended:
            raise SessionEndedError(f"session {session_id} has ended; start a new one")
        try:
            profile = self._profile(state.user_id)
            basis_before = self.profiler.basis(Preferences.from_state(state, profile))
            shown_before = state.last_recommendation.item_ids if state.last_recommendation else ()
            context = DialogueContext(
                last_recommended=tuple(shown_before), last_question_kind=state.pending_question
            )
            understanding = self.extractor.extract(text, context)
        except BaseException:
            self._give_back(session_id, turn)  # as if no number had been taken yet
            raise
        if turn is None:
            turn = self.store.next_turn(session_id)
        interp = interpret(understanding, state, turn, self.index)
        state.apply_all(interp.events)  # stored with the system's events below: a turn is one atomic append
        prefs = Preferences.from_state(state, profile)
        profile_view, bot_events = self.profiler.update(state, profile, prefs, basis_before)
        state.apply_all(bot_events)  # the new profile text (stored with the system's events below)
        ranking = self._ranking(prefs, self.profiler.ranking_text(profile_view, prefs))
        pool = self.policy.config.question_pool
        decision = self.policy.decide(
            PolicyInput(
                state=state,
                prefs=prefs,
                understanding=understanding,
                candidates=lambda: [r.item_id for r in ranking(pool)],
                attributes_of=lambda item: self.index.item_attributes[item],
                answered_without_preference=interp.answered_without_preference,
                attributes_by_kind=self.index.attributes_by_kind,
            )
        )
        reply, recs, question, act_events = self._act(
            decision, state, prefs, interp, turn, bool(shown_before), profile_view.text, text, ranking
        )
        act_events.append(BotUttered(turn=turn, text=reply))
        self.store.append_events(session_id, [*interp.events, *bot_events, *act_events])
        state.apply_all(act_events)
        if any(isinstance(e, _PROFILE_EVENTS) for e in (*interp.events, *bot_events)):
            self._merge(state)  # otherwise nothing the profile keeps happened; the next merge catches up
        return TurnResult(
            session_id=session_id,
            turn=turn,
            reply=reply,
            action=decision.action.value,
            intent=understanding.intent.value,
            recommendations=tuple(recs),
            question=question,
            subjects=decision.targets if decision.action in (Action.EXPLAIN, Action.ANSWER) else (),
            state=StateSummary.of(state, self.catalog),
            understanding=understanding_dict(understanding, self.catalog),
            notes=tuple(interp.unknown_attributes) + tuple(interp.unsupported_critiques),
            profile=profile_view,
        )

    def recommend_for(
        self,
        liked: Iterable[int] = (),
        disliked: Iterable[int] = (),
        user_id: str | None = None,
        k: int = 10,
        *,
        liked_attributes: Iterable[str] = (),
        disliked_attributes: Iterable[str] = (),
    ) -> list[RecommendedItem]:
        """Stateless recommendations for liked / disliked items and attributes (plus the user's profile)."""
        if not 1 <= k <= MAX_K:
            raise ValidationError(f"k must be between 1 and {MAX_K}, got {k}")
        liked, disliked = list(liked), list(disliked)
        for item in (*liked, *disliked):
            self.catalog[item]  # UnknownItemError
        profile = self._profile(user_id)
        prefs = Preferences.from_lists(
            liked,
            disliked,
            liked_attributes=liked_attributes,
            disliked_attributes=disliked_attributes,
            profile=profile,
        )
        text = profile.profile_text if profile is not None and profile.profile_text else ""
        source = "user" if profile is not None and profile.edited_by_user else "stored"
        ranking = self._ranking(prefs, self.profiler.ranking_text(ProfileView(text, source), prefs))
        return self._items(self._rank(ranking, k, text), prefs, text)

    # ------------------------------------------------------------------ acting
    def _act(
        self,
        decision: Decision,
        state: DialogueState,
        prefs: Preferences,
        interp: Interpretation,
        turn: int,
        had_recommendations: bool,
        profile_text: str,
        message: str,
        ranking: RankOnce,
    ) -> tuple[str, list[RecommendedItem], QuestionView | None, list[Event]]:
        """The reply, recommendations, question and system events for a decision (`ranking`: of prefs)."""
        ack = nlg.acknowledgement(interp.events, self.index)
        notes = nlg.notes_text(interp.unknown_attributes, interp.unsupported_critiques, self.index)
        lead = " ".join(p for p in (notes, ack) if p)
        events: list[Event] = []
        recs: list[RecommendedItem] = []
        question: QuestionView | None = None
        action = decision.action
        if action is Action.RECOMMEND:
            ranked = self._rank(ranking, self.policy.k_for(state), profile_text, message)
            recs = self._items(ranked, prefs, profile_text)
            if recs:
                events.append(
                    ItemsRecommended(
                        turn=turn,
                        item_ids=tuple(r.item_id for r in recs),
                        scores=tuple(r.score for r in recs),
                    )
                )
                self._provenance.remember(state.session_id, ranked)
            titles = [self.catalog[r.item_id].display for r in recs]
            reply = nlg.recommendation_text(titles, prefs, lead, more=had_recommendations)
        elif action is Action.ASK and decision.question is not None:
            plan = decision.question
            text = nlg.question_text(plan, self.index)
            question = QuestionView(plan.attribute_kind, text, plan.options)
            events.append(QuestionAsked(turn=turn, attribute_kind=plan.attribute_kind, options=plan.options))  # type: ignore[arg-type]
            reply = " ".join(p for p in (lead, text) if p)
        elif action is Action.EXPLAIN:
            items = [self.catalog[i] for i in decision.targets[:5]]
            provenances = [self._provenance.recall(state.session_id, it.item_id) for it in items]
            whys = explain_all(self.explainer, items, prefs, provenances, profile_text=profile_text)
            reply = nlg.explanation_text(
                [f"{it.display}: {w.text}" for it, w in zip(items, whys, strict=True)]
            )
        elif action is Action.ANSWER:
            reply = "\n".join(nlg.answer_text(self.catalog[i]) for i in decision.targets)
            reply = " ".join(p for p in (lead, reply) if p)
        elif action is Action.GOODBYE:
            reply = nlg.goodbye_text([self.catalog[i].title for i in state.accepted_items])
        else:
            accepted = [self.catalog[i].title for i in decision.targets]
            text = nlg.chitchat_text(accepted, has_recommendations=had_recommendations)
            reply = " ".join(p for p in (lead, text) if p)
        return reply, recs, question, events

    def _items(
        self, ranked: Sequence[RankedItem], prefs: Preferences, profile_text: str = ""
    ) -> list[RecommendedItem]:
        """The items as shown, explained together (one batched call for an LLM explainer)."""
        items = [self.catalog[r.item_id] for r in ranked]
        whys: list[ItemExplanation] = explain_all(
            self.explainer, items, prefs, [r.provenance for r in ranked], profile_text=profile_text
        )
        return [
            RecommendedItem.build(self.catalog, r.item_id, r.score, r.provenance, why)
            for r, why in zip(ranked, whys, strict=True)
        ]

    def _ranking(self, prefs: Preferences, match_text: str) -> RankOnce:
        """The rankings of `prefs` for one turn (computed once at the largest depth asked for).
        `match_text`: the profile text matched against item texts (with a matcher); "" for none."""
        if isinstance(self.ranker, ProfileAwareRanker) and match_text:
            ranker = self.ranker
            return RankOnce(lambda d: ranker.rank(prefs, d, profile_text=match_text), ranker.prefix_depth)
        return RankOnce(lambda d: self.ranker.rank(prefs, d), self.ranker.prefix_depth)

    def _rank(
        self, ranking: RankOnce, k: int, profile_text: str = "", message: str | None = None
    ) -> list[RankedItem]:
        """The top-k of `ranking`, re-ranked by the LLM in its fused head (with a reranker; `message` is
        the user's latest request, `profile_text` the language profile it is given)."""
        text = profile_text if profile_text != NO_PREFERENCES else ""
        depth = max(k, self.reranker.max_candidates) if self.reranker is not None and message else k
        ranked = ranking(depth)
        if depth == k or not ranked:
            return ranked
        assert self.reranker is not None
        by_id = {r.item_id: r for r in ranked}
        result = self.reranker.rerank(
            [Candidate(self.catalog[r.item_id], r.score) for r in ranked], text, message
        )
        return [by_id[i] for i in result.item_ids][:k]

    # ------------------------------------------------------------------ helpers
    def _live_state(self, session_id: str) -> DialogueState:
        state = self.store.load_state(session_id)
        if state.ended:
            raise SessionEndedError(f"session {session_id} has ended; start a new one")
        return state

    def _profile(self, user_id: str | None) -> UserProfile | None:
        """The user's long-term profile, without ids outside this catalog (a profile can outlive a
        catalog rebuild; its stale ids are ignored here, never sent to the models)."""
        if user_id is None:
            return None
        profile = self.store.get_profile(user_id)
        n = len(self.catalog)
        p = profile
        for items in (p.liked_items, p.disliked_items, p.seen_items, p.accepted_items):
            for item in [i for i in items if not 0 <= i < n]:
                log.warning("profile of %s: item %d is not in the catalog; ignored", user_id, item)
                items.discard(item)
        return profile

    def _give_back(self, session_id: str, turn: int | None) -> None:
        try:
            if turn is not None:
                self.store.give_back_turn(session_id, turn)
        except Exception:  # the turn's own error matters; a lost number only leaves a gap
            log.warning("session %s: could not give back turn %s", session_id, turn, exc_info=True)

    def _merge(self, state: DialogueState) -> None:
        if self.merge_profiles and state.user_id is not None:
            self.store.merge_session(state.session_id)
