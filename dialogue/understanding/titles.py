"""Free-text movie titles in a message: an index over the catalog's titles, built once.

Lookup is a dictionary probe per word n-gram of the message (longest first), so a message costs a few
hundred probes whatever the catalog size. Each title is indexed under its normalised form, without a
leading article ("dark knight"), as its parts around ":" / " - " ("a new hope"), with a trailing Roman
numeral as a digit ("rocky 2") and with its words glued together ("spiderman"). Typos are corrected per
word: a word that is neither English nor a title word ("godfahter") is compared (rapidfuzz) with the
title words of similar length and first letter, and the corrected n-grams are probed again; a
misspelling that is one edit from a much commoner English word ("trully") or closer to a genre / mood
word ("thrilleres") is left alone. Misspellings that are themselves words ("forest gump") are caught by
whole-title fuzzy matching of the n-grams that contain a rare title word ("gump").

Precision rules (see `TitleGate`) keep common words from firing: "it was good" is not a mention of "It".
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from itertools import product

from rapidfuzz import fuzz, process

from dialogue.understanding.lexicon import english_corrections, is_english_word, zipf
from dialogue.understanding.text import (
    ARTICLES,
    STOP_WORDS,
    MessageView,
    Token,
    normalize_phrase,
    title_tokens,
)
from dialogue.understanding.title_gate import YEAR_AFTER_RE, TitleGate
from recsys.catalog.types import Catalog

_ROMAN = {"ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7", "viii": "8", "ix": "9"}
_DIGIT_TO_ROMAN = {v: k for k, v in _ROMAN.items()}
_SPLIT_RE = re.compile(r"\s*:\s+|\s+[-–—]\s+")
_ARTICLE_AFTER_RE = re.compile(r"^\s*,\s*(?:the|a|an)\b", re.IGNORECASE)
_MAX_NGRAM = 14
_MAX_ANCHORED = 5  # whole-title fuzzy matching is tried for titles of 2..5 words
_MAX_ANCHOR_KEYS = 30  # a word in more titles than this anchors nothing
_ANCHOR_ZIPF = 3.5
_ANCHORED_CUTOFF = 90.0
_RARE_ALIAS_ZIPF = 3.0  # a one-word part of a title stands for it only when this rare
_ENGLISH_MARGIN = 1.0  # a misspelling is taken for an English word this much (Zipf) commoner
_TYPO_POPULARITY_PRIOR = 0.15  # among corrections of similar closeness, prefer the popular movie
_CORRECTION_CACHE = 50_000

# Quality of each kind of index key (multiplied into the mention score).
EXACT, ALIAS, COMPACT = 1.0, 0.9, 0.92


@dataclass(frozen=True, slots=True)
class TitleMatch:
    """One title found in a message. tok_start/tok_end index the message tokens (end exclusive) and
    include a trailing year; start/end are character offsets of the whole mention."""

    item_id: int
    tok_start: int
    tok_end: int
    start: int
    end: int
    surface: str
    score: float
    alternatives: tuple[int, ...] = ()  # other catalog items with the same title


@dataclass(frozen=True, slots=True)
class _Candidate:
    tok_start: int
    tok_end: int
    key: str
    entries: tuple[tuple[int, float], ...]  # (item_id, key quality), most popular first
    similarity: float  # 1.0, or the typo correction's similarity
    corrected: bool


class TitleIndex:
    """Normalised-title index of a catalog. Build once (O(catalog)), query per message (O(words))."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        name_words: Collection[str] = (),
        reserved_words: Collection[str] = (),
        typo_cutoff: float = 84.0,
        min_typo_len: int = 5,
        popular_quantile: float = 0.5,
    ) -> None:
        """name_words: people's first / last names (see TitleGate). reserved_words: genre and mood words;
        a misspelling of one of them ("thrilleres") is never corrected into a title word."""
        self.typo_cutoff = typo_cutoff
        self.min_typo_len = min_typo_len
        self._reserved = sorted({w for w in reserved_words if len(w) >= 4})
        self._corrections: dict[str, list[tuple[str, float]]] = {}  # per-word cache, bounded
        self._popularity = [float(it.popularity) for it in catalog]
        order = sorted(range(len(self._popularity)), key=self._popularity.__getitem__)
        self._rank = [0.0] * len(order)  # popularity percentile of each item, 0..1
        for position, item_id in enumerate(order):
            self._rank[item_id] = position / max(1, len(order) - 1)
        self._years = [it.year for it in catalog]
        keys: dict[str, dict[int, float]] = defaultdict(dict)
        for item in catalog:
            for key_tokens, quality in _title_variants(item.title):
                slot = keys[" ".join(key_tokens)]
                if slot.get(item.item_id, 0.0) < quality:
                    slot[item.item_id] = quality
                if len(key_tokens) > 1:
                    cslot = keys["".join(key_tokens)]
                    if cslot.get(item.item_id, 0.0) < quality * COMPACT:
                        cslot[item.item_id] = quality * COMPACT
        pop = self._popularity
        self._keys: dict[str, tuple[tuple[int, float], ...]] = {
            k: tuple(v.items())
            if len(v) == 1
            else tuple(sorted(v.items(), key=lambda e: (-pop[e[0]], -e[1], e[0])))
            for k, v in keys.items()
        }
        words = {w for k in self._keys for w in k.split(" ")}
        self._title_words = frozenset(words)
        # Rare title words ("gump") anchor whole-title fuzzy matching of n-grams with a real-word typo
        # ("forest gump"): word -> the multi-word keys that contain it.
        anchors: dict[str, list[str]] = defaultdict(list)
        for k in self._keys:
            parts = k.split(" ")
            if 1 < len(parts) <= _MAX_ANCHORED:
                for w in set(parts):
                    if len(w) >= 4 and w.isalpha():
                        anchors[w].append(k)
        self._anchors = {
            w: ks for w, ks in anchors.items() if len(ks) <= _MAX_ANCHOR_KEYS and zipf(w) < _ANCHOR_ZIPF
        }
        by_len: dict[tuple[str, int], list[str]] = defaultdict(list)  # (anchor, words of the key) -> keys
        for w, ks in self._anchors.items():
            for k in ks:
                by_len[(w, k.count(" ") + 1)].append(k)
        self._anchored_keys = dict(by_len)
        buckets: dict[tuple[str, int], list[str]] = defaultdict(list)
        for w in words:
            if len(w) >= 4 and w.isalpha():
                buckets[(w[0], len(w))].append(w)
        self._buckets = dict(buckets)
        self.max_tokens = min(_MAX_NGRAM, max((k.count(" ") + 1 for k in self._keys), default=1))
        self.gate = TitleGate(
            self._popularity, self._years, name_words=name_words, popular_quantile=popular_quantile
        )

    def __len__(self) -> int:
        return len(self._keys)

    def lookup(self, title: str) -> tuple[int, ...]:
        """Catalog ids whose (normalised) title is exactly `title`, most popular first."""
        return tuple(i for i, _ in self._keys.get(" ".join(normalize_phrase(title)), ()))

    # ---------------------------------------------------------------- matching a message
    def find(
        self,
        view: MessageView,
        *,
        protected: Sequence[bool] | None = None,
        blocked: Sequence[bool] | None = None,
        preferred: Collection[int] = (),
        relaxed: bool = False,
    ) -> list[TitleMatch]:
        """Titles mentioned in the message, non-overlapping, in text order.

        protected: per token, True when it belongs to a genre / mood / person phrase ("horror",
        "scary movie"): a title there needs a strong cue. blocked: tokens already explained (a critique),
        never part of a title. preferred: catalog ids that break ties and count
        as a cue (the items recommended last turn). relaxed: the system just asked for a movie, so a
        bare answer ("up") counts.
        """
        tokens = view.tokens
        if not tokens:
            return []
        norms = view.norms
        candidates = self._exact_candidates(norms, tokens)
        candidates += self._typo_candidates(norms, tokens)
        protected = protected if protected is not None else [False] * len(tokens)
        accepted: list[tuple[_Candidate, int, float]] = []
        for cand in candidates:
            decision = self.gate.accept(
                view, cand.tok_start, cand.tok_end, cand.key, cand.entries,
                protected=protected, preferred=preferred, relaxed=relaxed, corrected=cand.corrected,
            )  # fmt: skip
            if decision is not None:
                item_id, score = decision
                accepted.append((cand, item_id, score * cand.similarity))
        # Longest spans first, then best score ("the dark knight rises" beats "the dark knight"); a
        # typo goes to the popular movie when two corrections are about as close ("alladin").
        accepted.sort(
            key=lambda a: (
                -(a[0].tok_end - a[0].tok_start),
                -(a[0].similarity + _TYPO_POPULARITY_PRIOR * self._rank[a[1]] if a[0].corrected else a[2]),
                a[0].tok_start,
            )
        )
        taken = list(blocked) if blocked is not None else [False] * len(tokens)
        matches: list[TitleMatch] = []
        for cand, item_id, score in accepted:
            if any(taken[cand.tok_start : cand.tok_end]):
                continue
            match = self._finish(view.text, tokens, cand, item_id, score, taken)
            for i in range(match.tok_start, match.tok_end):
                taken[i] = True
            matches.append(match)
        return sorted(matches, key=lambda m: m.start)

    def _exact_candidates(self, norms: list[str], tokens: Sequence[Token]) -> list[_Candidate]:
        out: list[_Candidate] = []
        keys = self._keys
        for lo, hi in _runs(tokens):
            for i in range(lo, hi):
                for n in range(min(self.max_tokens, hi - i), 0, -1):
                    grams = norms[i : i + n]
                    key = " ".join(grams)
                    entries = keys.get(key)
                    if entries is None and n > 1:
                        key = "".join(grams)
                        entries = keys.get(key)
                    if entries is not None:
                        out.append(_Candidate(i, i + n, key, entries, 1.0, False))
        return out

    def _typo_candidates(self, norms: list[str], tokens: Sequence[Token]) -> list[_Candidate]:
        fixes: dict[int, list[tuple[str, float]]] = {}
        for i, word in enumerate(norms):
            if tokens[i].redial_id is None and self._may_be_typo(word):
                found = self.corrections(word)
                if found:
                    fixes[i] = found
        out = self._anchored_candidates(norms, tokens)
        if not fixes:
            return out
        for lo, hi in _runs(tokens):
            for i in range(lo, hi):
                for n in range(min(self.max_tokens, hi - i), 0, -1):
                    fixed = [j for j in range(i, i + n) if j in fixes]
                    if not fixed or len(fixed) > 2:
                        continue
                    options = [fixes[j] for j in fixed]
                    for combo in product(*options):
                        grams = norms[i : i + n]
                        for j, (word, _) in zip(fixed, combo, strict=True):
                            grams[j - i] = word
                        key = " ".join(grams)
                        entries = self._keys.get(key)
                        if entries is not None:
                            sim = min(s for _, s in combo) / 100.0
                            out.append(_Candidate(i, i + n, key, entries, sim, True))
        return out

    def _anchored_candidates(self, norms: list[str], tokens: Sequence[Token]) -> list[_Candidate]:
        """n-grams close to a whole title that shares a rare word with them ("forest gump")."""
        out: list[_Candidate] = []
        anchored = [w in self._anchors for w in norms]
        if not any(anchored):
            return out
        by_len = self._anchored_keys
        for lo, hi in _runs(tokens):
            for i in range(lo, hi):
                for n in range(2, min(_MAX_ANCHORED, hi - i) + 1):
                    if not any(anchored[i : i + n]):
                        continue
                    grams = norms[i : i + n]
                    keys = {k for w in grams for k in by_len.get((w, n), ())}
                    if not keys:
                        continue
                    text = " ".join(grams)
                    # sorted: ties between equally close titles go the same way in every process (a set's
                    # order depends on the interpreter's string hash seed)
                    found = process.extractOne(
                        text, sorted(keys), scorer=fuzz.ratio, score_cutoff=_ANCHORED_CUTOFF
                    )
                    if found and found[0] != text:
                        key = found[0]
                        out.append(_Candidate(i, i + n, key, self._keys[key], found[1] / 100.0, True))
        return out

    def _may_be_typo(self, word: str) -> bool:
        return (
            len(word) >= self.min_typo_len
            and word.isalpha()
            and word not in self._title_words
            and not is_english_word(word)
        )

    def corrections(self, word: str, limit: int = 3) -> list[tuple[str, float]]:
        """Title words close to `word` (rapidfuzz ratio >= typo_cutoff), best first, as (word, score).

        Empty when `word` is more likely a misspelt English, genre or mood word than a misspelt title word.
        """
        cached = self._corrections.get(word)
        if cached is None:
            cached = self._find_corrections(word, limit)
            if len(self._corrections) < _CORRECTION_CACHE:
                self._corrections[word] = cached
        return cached

    def _find_corrections(self, word: str, limit: int) -> list[tuple[str, float]]:
        choices: list[str] = []
        for length in range(len(word) - 2, len(word) + 3):
            choices.extend(self._buckets.get((word[0], length), ()))
        if not choices:
            return []
        found = process.extract(word, choices, scorer=fuzz.ratio, limit=limit, score_cutoff=self.typo_cutoff)
        result = [(w, float(s)) for w, s, _ in found]
        if not result:
            return []
        # "thrilleres" is closer to the genre word "thrillers" than to the title word "thriller".
        reserved = process.extractOne(word, self._reserved, scorer=fuzz.ratio, score_cutoff=self.typo_cutoff)
        if reserved and reserved[0] != result[0][0] and reserved[1] >= result[0][1]:
            return []
        # "trully" is "truly" (common) rather than "tully"; "poter" may well be "potter".
        english = english_corrections(word)
        if english:
            titles = {w for w, _ in result}
            best_title = max((zipf(w) for w in english & titles), default=None)
            best_other = max((zipf(w) for w in english - titles), default=0.0)
            if best_title is None or best_other - best_title > _ENGLISH_MARGIN:
                return []
        return result

    def _finish(
        self,
        text: str,
        tokens: Sequence[Token],
        cand: _Candidate,
        item_id: int,
        score: float,
        taken: list[bool],
    ) -> TitleMatch:
        """Extend the span over a trailing ", The" and year, and pick the item the year names."""
        start, end, tok_end = tokens[cand.tok_start].start, tokens[cand.tok_end - 1].end, cand.tok_end
        m = _ARTICLE_AFTER_RE.match(text[end:])
        if m and tok_end < len(tokens) and tokens[tok_end].norm in ARTICLES and not taken[tok_end]:
            end, tok_end = tokens[tok_end].end, tok_end + 1
        ids = [i for i, _ in cand.entries]
        y = YEAR_AFTER_RE.match(text[end:])
        if y and tok_end < len(tokens) and not taken[tok_end]:
            year = int(y.group("year"))
            bracketed = bool(y.group("open") and y.group("close"))
            by_year = sorted(ids, key=lambda i: abs((self._years[i] or -99) - year))
            close_enough = abs((self._years[by_year[0]] or -99) - year) <= 1
            if close_enough or bracketed:
                if close_enough:
                    item_id = by_year[0]
                end, tok_end = end + y.end(), tok_end + 1
        alternatives = tuple(i for i in ids if i != item_id)
        return TitleMatch(
            item_id, cand.tok_start, tok_end, start, end, text[start:end], round(score, 3), alternatives
        )


def _runs(tokens: Sequence[Token]) -> list[tuple[int, int]]:
    """Maximal token ranges without `@id` tokens (a title n-gram never spans one)."""
    runs, lo = [], 0
    for i, tok in enumerate(tokens):
        if tok.redial_id is not None:
            if lo < i:
                runs.append((lo, i))
            lo = i + 1
    if lo < len(tokens):
        runs.append((lo, len(tokens)))
    return runs


def _title_variants(title: str) -> list[tuple[tuple[str, ...], float]]:
    """Index keys of one title with their quality: full, article-less, parts around ':' / ' - ', numerals."""
    full = title_tokens(title)
    if not full:
        return []
    variants: list[tuple[tuple[str, ...], float]] = [(full, EXACT)]
    if full[0] in ARTICLES and len(full) > 1:
        variants.append((full[1:], EXACT))
    parts = [p for p in _SPLIT_RE.split(title) if p.strip()]
    if len(parts) > 1:
        for part in parts:
            toks = title_tokens(part)
            if toks and toks[0] in ARTICLES and len(toks) > 1:
                toks = toks[1:]
            if toks and toks != full and _distinctive(toks):
                variants.append((toks, ALIAS))
    for toks, quality in list(variants):
        last = toks[-1]
        if len(toks) > 1 and (last in _ROMAN or last in _DIGIT_TO_ROMAN):
            swapped = _ROMAN.get(last) or _DIGIT_TO_ROMAN[last]
            variants.append(((*toks[:-1], swapped), quality * ALIAS))
    return variants


def _distinctive(tokens: tuple[str, ...]) -> bool:
    """Whether a part of a title may stand for it: not one everyday word ("The Last: Naruto the Movie")."""
    significant = [t for t in tokens if t not in ARTICLES]
    if not significant or all(t in STOP_WORDS or t.isdigit() for t in significant):
        return False
    return len(significant) > 1 or zipf(significant[0]) < _RARE_ALIAS_ZIPF  # "Anchorman", not "The Sequel"
