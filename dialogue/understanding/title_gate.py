"""When a word n-gram that equals a title really is a mention of the movie.

Titles are sorted into three risk tiers by how their words occur in ordinary English (word frequencies
from `wordfreq`, see lexicon.py):

- A: only function words or digits ("It", "Up", "Her", "Us", "What If", "1917"): needs an explicit cue.
- B: everyday words ("Heat", "Crash", "Frozen", "Home Alone"): needs an explicit cue, a recommendation,
  the whole message (popular movies), or a weak cue for a popular movie ("I loved heat", "heat was
  great"); the very commonest single words ("Love", "Home") never go on a weak cue.
- C: everything else ("Inception", "The Dark Knight", "Pulp Fiction"): accepted as written, except a
  bare single word of an obscure movie ("ghosts").

Explicit cues: quotes, the movie's year right after, Title Case mid-sentence (not for people's first
names: "Morgan", "Keanu"), "a movie called X". Weak cues: a viewing / liking verb or "the movie" just
before, an opinion just after. Always refused without quotes or a year: chat words ("LOL", "Awesome"),
a word inside a longer capitalised name ("Charles Bronson"), a pronoun use ("It was slow"), a
description ("alien movies"), and a title inside a genre / mood / person phrase ("a scary movie")
unless explicit. Among several movies with the title, the recommended one, else the year's, else the
most popular wins.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from dialogue.understanding.lexicon import zipf
from dialogue.understanding.polarity import NEGATIVE, POSITIVE
from dialogue.understanding.text import (
    ARTICLES,
    GENERIC_WORDS,
    MINOR_WORDS,
    STOP_WORDS,
    MessageView,
    word_set,
)

YEAR_AFTER_RE = re.compile(r"^\s*(?P<open>[(\[])?\s*(?P<year>(?:18|19|20)\d{2})\s*(?P<close>[)\]])?")
_QUOTES = "\"'“”‘’*«»`"
_MOVIE_WORDS = word_set("movie film flick")
_PLURAL_MOVIE_WORDS = word_set("movies films flicks")
_PRONOUN_FOLLOWERS = word_set(
    """is was s has had will would could can does did seems looks sounds made makes really just also never
    always gets got reminds scared wasnt isnt doesnt didnt kind"""
)
# Chat words that are also titles ("LOL", "Awesome", "Sorry"): never a title without quotes or a year.
CHAT_WORDS = word_set(
    """lol lmao omg idk btw tbh imo ikr rofl smh ok okay ty thx np brb ttyl wtf fyi asap yolo haha hahaha
    hehe xd hello hi hey bye sorry thanks welcome wow same true right agreed exactly interesting maybe nope
    yes no sure cool nice great awesome perfect definitely absolutely hmm oh yeah yep nah whatever"""
)
_WEAK_CUES = word_set(
    """seen saw watched watch watching rewatched rewatch loved love liked like enjoyed enjoy hated hate
    adore adored favorite favourite fave recommend suggest than"""
)
# Tokens that may surround a title in a message that is "just the title".
_WHOLE_FILLERS = word_set(
    """the a an movie film maybe perhaps hmm um oh ok okay and also how about what or i guess probably"""
)

COMMON_SINGLE_ZIPF = 4.0  # a single-word title at least this common is tier B ("matrix" 4.07, "heat" 4.86)
COMMON_MULTI_ZIPF = 5.0  # a 2-3 word title whose words are all this common is tier B ("home alone")
VERY_COMMON_ZIPF = 5.5  # a single-word title this common ("Love", "Home") needs more than a weak cue
WEAK_CUE_FACTOR = 0.8
AMBIGUITY_FACTOR = 0.85


class TitleGate:
    """Decides, for one title candidate in a message, whether to accept it and which item it names.

    name_words: first and last names of the catalog's people ("morgan", "toni"): a capitalised name is
    no evidence of a title ("Morgan Freeman" is not the movie "Morgan").
    """

    def __init__(
        self,
        popularity: Sequence[float],
        years: Sequence[int | None],
        *,
        name_words: Collection[str] = (),
        popular_quantile: float = 0.5,
    ) -> None:
        self._popularity = popularity
        self._years = years
        self.name_words = frozenset(name_words)
        positives = sorted(p for p in popularity if p > 0)
        self.popular_threshold = positives[int(len(positives) * popular_quantile)] if positives else 0.0
        self._tiers: dict[str, str] = {}

    def tier(self, key: str) -> str:
        """Risk tier "A", "B" or "C" of a normalised title key (see the module docstring)."""
        cached = self._tiers.get(key)
        if cached is None:
            cached = self._tiers[key] = _tier(key)
        return cached

    def is_popular(self, item_id: int) -> bool:
        """More popular than `popular_quantile` of the catalog (the prior for bare common-word titles)."""
        return self._popularity[item_id] > self.popular_threshold

    def accept(
        self,
        view: MessageView,
        lo: int,
        hi: int,
        key: str,
        entries: Sequence[tuple[int, float]],
        *,
        protected: Sequence[bool],
        preferred: Collection[int],
        relaxed: bool,
        corrected: bool,
    ) -> tuple[int, float] | None:
        """(item_id, score) when tokens[lo:hi] is a mention of the title `key`, else None."""
        tier = self.tier(key)
        if corrected and tier != "C":
            return None
        item_id, quality = _choose(entries, preferred)
        score = quality * _ambiguity(entries, self._popularity)
        tokens = view.tokens
        significant = [w for w in key.split(" ") if w not in ARTICLES] or key.split(" ")
        single = len(significant) == 1
        strong = _quoted(view, lo, hi) or _year_after(view, hi, [self._years[i] for i, _ in entries])
        if single and not strong and (significant[0] in CHAT_WORDS or _inside_name(view, lo, hi)):
            return None  # "LOL", "Charles Bronson", "Toni Collette"
        in_phrase = any(protected[lo:hi]) and all(
            protected[i] or tokens[i].norm in GENERIC_WORDS or tokens[i].norm in ARTICLES
            for i in range(lo, hi)
        )
        name_word = single and significant[0] in self.name_words
        caps = self._capitalised(view, lo, hi) and not name_word
        named = _called_before(view, lo)
        explicit = strong or caps or named
        described = _followed_by(view, hi, _MOVIE_WORDS | _PLURAL_MOVIE_WORDS)
        if described and not (strong or named) and (single or not caps):
            return None  # "alien movies", "a Vampire movie", "a haunted house movie": a description
        if tier == "A" and single and not strong and _followed_by(view, hi, _PRONOUN_FOLLOWERS):
            return None  # "It was slow", "Her acting": a pronoun, even when capitalised
        if name_word and not strong and _followed_by(view, hi, {"in", "s", "and"}):
            return None  # "I liked Keanu in ...": the actor
        popular = self.is_popular(item_id)
        recommended = item_id in preferred
        weak = _weak_cue_before(view, lo) or _evaluated_after(view, hi) or _movie_word_before(view, lo)
        first_is_filler = significant[0] in STOP_WORDS or significant[0] in GENERIC_WORDS
        whole = _whole_message(view, lo, hi) and not first_is_filler
        if in_phrase:
            ok = explicit
        elif tier == "A":
            ok = explicit or (relaxed and _whole_message(view, lo, hi))
        elif tier == "B":
            very_common = single and zipf(significant[0]) >= VERY_COMMON_ZIPF  # "love", "home", "time"
            weak_ok = weak and popular and not first_is_filler and not very_common
            whole_ok = whole and popular and not very_common  # "love!" is no title
            ok = explicit or recommended or whole_ok or weak_ok or (relaxed and (weak or whole))
            if ok and not (explicit or recommended or whole):
                score *= WEAK_CUE_FACTOR
        else:  # tier C: only a bare single word from an obscure movie needs more ("ghosts")
            ok = not single or popular or explicit or recommended or weak or whole or relaxed
        return (item_id, score) if ok else None

    def _capitalised(self, view: MessageView, lo: int, hi: int) -> bool:
        """Title Case in a message where case means something; a sentence's first word does not count."""
        if not view.caps_meaningful:
            return False
        words = [i for i in range(lo, hi) if view.tokens[i].text[:1].isalpha()]
        significant = [i for i in words if view.tokens[i].norm not in MINOR_WORDS]
        if not significant or not all(view.tokens[i].is_capitalised for i in significant):
            return False
        # A sentence's first word proves nothing, nor does shouting one word ("I LOVED that").
        evidence = [
            i
            for i in significant
            if not (view.sentence_start[i] or view.tokens[i].text == "I" or _shouted(view.tokens[i].text))
        ]
        return bool(evidence)


def _tier(key: str) -> str:
    words = key.split(" ")
    if all(w in STOP_WORDS or w.isdigit() for w in words):
        return "A"  # "It", "Up", "What If", "9/11", "1917"
    significant = [w for w in words if w not in STOP_WORDS]  # "You Laugh" is one word of content
    if len(significant) == 1:
        w = significant[0]
        common = zipf(w) >= COMMON_SINGLE_ZIPF or len(w) <= 3 or w in GENERIC_WORDS
        return "B" if common else "C"
    if len(words) <= 3 and all(
        zipf(w) >= COMMON_MULTI_ZIPF or w in STOP_WORDS or w in GENERIC_WORDS for w in words
    ):
        return "B"
    return "C"


def _choose(entries: Sequence[tuple[int, float]], preferred: Collection[int]) -> tuple[int, float]:
    """The recommended item if one has this title, else the most popular (entries are sorted so)."""
    for item_id, quality in entries:
        if item_id in preferred:
            return item_id, quality
    return entries[0]


def _ambiguity(entries: Sequence[tuple[int, float]], popularity: Sequence[float]) -> float:
    """Lower the score when another movie with this title is nearly as popular."""
    if len(entries) < 2:
        return 1.0
    first, second = popularity[entries[0][0]], popularity[entries[1][0]]
    return AMBIGUITY_FACTOR if second >= 0.5 * first else 1.0


def _quoted(view: MessageView, lo: int, hi: int) -> bool:
    start, end = view.tokens[lo].start, view.tokens[hi - 1].end
    before = view.text[start - 1] if start > 0 else ""
    after = view.text[end] if end < len(view.text) else ""
    return bool(before) and before in _QUOTES and bool(after) and after in _QUOTES


def _year_after(view: MessageView, hi: int, years: Sequence[int | None]) -> bool:
    """A year right after the title: "(1995)" always counts, a bare "1995" only when it is this title's."""
    if hi >= len(view.tokens):
        return False
    m = YEAR_AFTER_RE.match(view.text[view.tokens[hi - 1].end :])
    if not m:
        return False
    year = int(m.group("year"))
    return bool(m.group("open") and m.group("close")) or any(
        y is not None and abs(y - year) <= 1 for y in years
    )


def _called_before(view: MessageView, lo: int) -> bool:
    """ "a movie called Up", "the film titled Her"."""
    return lo > 0 and view.norms[lo - 1] in {"called", "titled", "named"}


def _inside_name(view: MessageView, lo: int, hi: int) -> bool:
    """A capitalised word next to the span (not opening a sentence): "Charles Bronson", "Toni Collette"."""
    if not view.caps_meaningful:
        return False
    tokens = view.tokens
    for j, gap in ((lo - 1, (lo - 1, lo)), (hi, (hi - 1, hi))):
        if 0 <= j < len(tokens):
            tok = tokens[j]
            # "Heat, Memento and ...", "Matrix, The": punctuation separates; "I've" is no name
            separated = view.text[tokens[gap[0]].end : tokens[gap[1]].start].strip() != ""
            if (
                tok.text[:1].isupper()
                and not separated
                and tok.norm not in {"i", "ive", "im", "id", "ill"}
                and not view.sentence_start[j]
                and tok.redial_id is None
            ):
                return True
    return False


def _movie_word_before(view: MessageView, lo: int) -> bool:
    j = lo - 1
    if j >= 0 and view.tokens[j].norm in ARTICLES:
        j -= 1
    return j >= 0 and view.tokens[j].norm in _MOVIE_WORDS


def _weak_cue_before(view: MessageView, lo: int) -> bool:
    for j in range(lo - 1, max(-1, lo - 4), -1):
        norm = view.tokens[j].norm
        if norm in _WEAK_CUES:
            return True
        if norm not in ARTICLES and norm not in {"already", "just", "really", "also", "you", "i", "ive"}:
            return False
    return False


def _whole_message(view: MessageView, lo: int, hi: int) -> bool:
    rest = [t for i, t in enumerate(view.tokens) if not lo <= i < hi]
    if rest and YEAR_AFTER_RE.match(rest[0].text) and rest[0].start >= view.tokens[hi - 1].end:
        rest = rest[1:]
    return all(t.norm in _WHOLE_FILLERS for t in rest)


def _evaluated_after(view: MessageView, hi: int) -> bool:
    """ "heat was great", "love actually is my favorite": a copula and an opinion right after."""
    norms = view.norms
    if hi >= len(norms) or norms[hi] not in {"is", "was", "s", "its"}:
        return False
    return any(w in POSITIVE or w in NEGATIVE for w in norms[hi + 1 : hi + 5])


def _followed_by(view: MessageView, hi: int, words: Collection[str]) -> bool:
    return hi < len(view.norms) and view.norms[hi] in words


def _shouted(word: str) -> bool:
    return len(word) > 1 and word.isupper()
