"""The language profile as a ranking signal: its text is embedded and matched against the item texts.

`ProfileTextMatcher` embeds the catalog items' texts (title, genres, tags, start of the plot) once with
the MiniLM sentence encoder (dialogue.understanding.embeddings; cached as a .npy file keyed by the texts,
so a restart reads it back) and scores a profile text against them: cosine similarity, standardised over
the embedded items, keeping only the items above their mean (z > 0), scaled to [0, 1]. Only the
`max_items` most popular items are embedded (default 4000 of the 12k: embedding all of them costs
minutes on 2 busy cores, ~30 ms per text); the others get no text signal.

`ProfileAwareRanker` is the dialogue's StateRanker with that score as one more additive boost
(`weight` x score, fused scores lying in [0, 1]), passed to the fusion with the other boosts: the profile
("slow-burn sci-fi, finds gore off-putting") lifts the items whose texts say so, among those the
generators propose, and in the cold start. Hard constraints are untouched (a boost never un-excludes).

Which texts are matched: only those that say more than the typed preferences - the user's own words or
an LLM's text (also when stored); the dialogue manager asks `LanguageProfiler.ranking_text`. The
template profile (the LLM off or failing) restates the typed preferences the ranking already
conditions on, and matching it measured no gain: A/B on held-out ReDial users (`crs simulate`-style,
models trained without the last 500 dialogues, default policy, in process, llm off; arm A matches the
template text, arm B does not): 300 users, generous simulated user: success 0.847 vs 0.870 (B - A
+0.023, 95% CI [-0.017, +0.063], McNemar p = 0.32), turns to success 2.92 vs 2.80 (Wilcoxon p = 0.006);
all 495 users, hard simulated user: success 0.378 vs 0.432 (+0.055, CI [+0.018, +0.091], p = 0.006),
recall@k of the last list 0.157 vs 0.177. It also cost a MiniLM encoding per changed text (~16 ms of
CPU on one thread, ~25 ms wall on a busy machine). The encoder runs on one torch thread
(`MiniLMEncoder(num_threads=1)`) and scores are cached per text (`_TEXT_CACHE` texts).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from pathlib import Path

import numpy as np

from dialogue.catalog_index import CatalogIndex
from dialogue.preferences import Preferences
from dialogue.ranking import Conditioning, RankedItem, RankingMode, RankingWeights, StateRanker
from dialogue.understanding.embeddings import SentenceEncoder, load_default_encoder
from recsys.catalog.types import Catalog, CatalogItem
from recsys.errors import ValidationError
from recsys.models.base import Recommender
from recsys.models.threads import single_thread_blas

log = logging.getLogger(__name__)

DEFAULT_WEIGHT = 0.1
DEFAULT_MAX_ITEMS = 4000
BATCH = 64
_TEXT_CACHE = 256
NO_PREFERENCES = "No preferences yet."
_profile_text: ContextVar[str | None] = ContextVar("profile_text", default=None)


def item_text(item: CatalogItem, plot_chars: int = 120) -> str:
    """What an item is matched on: "Alien (1979). horror, sci-fi. atmospheric, dark. <plot>"."""
    parts = [item.display, ", ".join(item.genres), ", ".join(item.tags[:8]), item.plot[:plot_chars]]
    return ". ".join(p for p in parts if p)


class ProfileTextMatcher:
    """Profile text -> a [0, 1] match score per catalog item (see the module docstring)."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        encoder_factory: Callable[[], SentenceEncoder | None] = load_default_encoder,
        cache_dir: Path | None = None,
        progress: bool = False,
        max_items: int | None = DEFAULT_MAX_ITEMS,
    ) -> None:
        if max_items is not None and max_items < 1:
            raise ValidationError(f"max_items must be >= 1, got {max_items}")
        self.catalog = catalog
        n = len(catalog)
        if max_items is None or max_items >= n:
            self.items = np.arange(n, dtype=np.int64)
        else:  # the most popular items, in catalog order
            popularity = np.array([it.popularity for it in catalog], dtype=np.float64)
            self.items = np.sort(np.argsort(-popularity, kind="stable")[:max_items])
        self._factory = encoder_factory
        self.cache_dir = cache_dir
        self.progress = progress
        self._vectors: np.ndarray | None = None
        self._encoder: SentenceEncoder | None = None
        self._lock = threading.Lock()
        self._scores: OrderedDict[str, np.ndarray] = OrderedDict()
        self.available = True  # False once the encoder turned out to be missing

    def _encode(self, encoder: SentenceEncoder, texts: Sequence[str]) -> np.ndarray:
        from tqdm import tqdm

        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths: little padding
        chunks = range(0, len(texts), BATCH)
        bar = tqdm(chunks, desc="embedding item texts", unit="batch", disable=not self.progress)
        parts = [encoder.encode([texts[j] for j in order[i : i + BATCH]]) for i in bar]
        if not parts:
            return np.zeros((0, 1), dtype=np.float32)
        vectors = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
        vectors[order] = np.vstack(parts)
        return vectors

    def item_vectors(self) -> np.ndarray | None:
        """The embedded items' text vectors (rows L2-normalised, one per `self.items`), computed once
        (or read from the cache). Call it at start-up to pay the first embedding there."""
        with self._lock:
            if self._vectors is not None or not self.available:
                return self._vectors
            encoder = self._encoder = self._factory()
            if encoder is None:
                self.available = False
                log.warning("no sentence encoder: the profile text is not used for ranking")
                return None
            texts = [item_text(self.catalog[int(i)]) for i in self.items]
            key = hashlib.sha1("\n".join(texts).encode()).hexdigest()[:16]
            path = self.cache_dir / f"items-{key}.npy" if self.cache_dir else None
            if path is not None and path.is_file():
                vectors = np.load(path)
            else:
                vectors = self._encode(encoder, texts)
                if path is not None:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    tmp = path.with_suffix(".tmp.npy")
                    np.save(tmp, vectors)
                    tmp.replace(path)
            if vectors.shape[0] != len(self.items):
                raise ValidationError(f"{len(vectors)} item vectors for {len(self.items)} items")
            self._vectors = vectors
            return vectors

    def scores(self, profile_text: str) -> np.ndarray | None:
        """Per item in [0, 1]: how much more than the catalog average its text matches the profile
        (0 for items at or below the mean). None without an encoder or for an empty profile."""
        text = " ".join(profile_text.split())
        if not text or text == NO_PREFERENCES:
            return None
        with self._lock:
            if text in self._scores:
                self._scores.move_to_end(text)
                return self._scores[text]
        vectors = self.item_vectors()
        if vectors is None or self._encoder is None:
            return None
        with single_thread_blas():  # one text: threads only add waiting, and spinning workers burn CPU
            query = self._encoder.encode([text])[0]
            sims = vectors @ query
        std = float(sims.std())
        z = (sims - sims.mean()) / std if std > 1e-9 else np.zeros_like(sims)
        z = np.clip(z, 0.0, None)
        top = float(z.max()) if len(z) else 0.0
        out = np.zeros(len(self.catalog), dtype=np.float64)
        out[self.items] = z / top if top > 0 else z
        with self._lock:
            self._scores[text] = out
            while len(self._scores) > _TEXT_CACHE:
                self._scores.popitem(last=False)
        return out


class ProfileAwareRanker(StateRanker):
    """StateRanker plus the profile-text match as an additive boost (`rank(..., profile_text=...)`)."""

    def __init__(
        self,
        recommender: Recommender,
        index: CatalogIndex,
        weights: RankingWeights | None = None,
        *,
        mode: RankingMode = "personalized",
        matcher: ProfileTextMatcher,
        weight: float = DEFAULT_WEIGHT,
    ) -> None:
        super().__init__(recommender, index, weights, mode=mode)
        if weight < 0:
            raise ValidationError(f"the profile-text weight must be >= 0, got {weight}")
        self.matcher = matcher
        self.text_weight = weight

    def rank(
        self, prefs: Preferences, k: int, *, allow_shown: bool = False, profile_text: str | None = None
    ) -> list[RankedItem]:
        token = _profile_text.set(profile_text)
        try:
            return super().rank(prefs, k, allow_shown=allow_shown)
        finally:
            _profile_text.reset(token)

    def conditioning(self, prefs: Preferences, *, allow_shown: bool = False) -> Conditioning:
        cond = super().conditioning(prefs, allow_shown=allow_shown)
        text = _profile_text.get()
        if text and self.text_weight > 0:
            match = self.matcher.scores(text)
            if match is not None:
                cond.boost += self.text_weight * match  # a fresh array per call (StateRanker._boost)
        return cond
