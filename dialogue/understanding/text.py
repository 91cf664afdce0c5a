"""Tokenisation and normalisation shared by every matcher.

A message and a catalog title are normalised the same way, so matching is a dictionary lookup:
lower-case, accents stripped ("Amélie" -> "amelie"), apostrophes dropped ("Schindler's" -> "schindlers",
"don't" -> "dont"), hyphens and other punctuation split words ("Spider-Man" -> "spider man"), "&" -> "and".
ReDial `@123` tokens are kept as tokens of their own (`redial_id` set).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache

ARTICLES = frozenset({"the", "a", "an"})


def word_set(words: str) -> frozenset[str]:
    """A frozenset of the whitespace-separated words of a string (for word lists in code)."""
    return frozenset(words.split())


# Function words: a title made only of these ("It", "Up", "Her", "Us", "What If") needs a strong cue.
STOP_WORDS = word_set(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just let me more
    most my myself no nor not now of off on once only or other our ours out over own same she should so
    some such than that thats the their theirs them then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would yes you
    your yours yourself go going get got im ive id ill youre its dont cant wont isnt wasnt didnt doesnt
    ok okay oh hey hi hello well really much one ones us yeah yep nope nah sure maybe also still even
    ever never again here there"""
)

# Words that add nothing to a title match ("the movie Heat"): treated as common and skippable.
GENERIC_WORDS = word_set(
    """movie movies film films flick flicks one ones show shows something anything stuff kind sort"""
)

# Minor words that stay lower-case in Title Case.
MINOR_WORDS = word_set("a an the of and or in on at to for by from with as but nor vs")

_TOKEN_RE = re.compile(r"@\s?(\d+)|[^\W_]+(?:['’][^\W_]+)*|&")
_WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|&")
_APOSTROPHES = str.maketrans("", "", "'’")
_ABBREVIATIONS = word_set("mr mrs ms dr st vs jr sr no vol pt")


@dataclass(frozen=True, slots=True)
class Token:
    """One word (or `@id`) of a message: raw text, normalised form, character offsets."""

    text: str
    norm: str
    start: int
    end: int
    redial_id: int | None = None

    @property
    def is_at_mention(self) -> bool:
        return self.redial_id is not None

    @property
    def is_capitalised(self) -> bool:
        return self.text[:1].isupper() or self.text[:1].isdigit()


@lru_cache(maxsize=65536)
def normalize_word(word: str) -> str:
    """Lower-case, strip accents and apostrophes: "Amélie" -> "amelie", "Don't" -> "dont"."""
    word = word.translate(_APOSTROPHES).lower()
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokenize(text: str) -> list[Token]:
    """Split text into word tokens with offsets; `@123` becomes one token with redial_id=123."""
    tokens: list[Token] = []
    for m in _TOKEN_RE.finditer(text):
        if m.group(1) is not None:
            tokens.append(Token(m.group(0), m.group(0), m.start(), m.end(), int(m.group(1))))
        elif m.group(0) == "&":
            tokens.append(Token("&", "and", m.start(), m.end()))
        else:
            tokens.append(Token(m.group(0), normalize_word(m.group(0)), m.start(), m.end()))
    return tokens


@lru_cache(maxsize=262_144)
def normalize_phrase(text: str) -> tuple[str, ...]:
    """Normalised word tokens of a phrase or name (the fast path used to build indexes)."""
    return tuple("and" if w == "&" else normalize_word(w) for w in _WORD_RE.findall(text))


_TRAILING_ARTICLE_RE = re.compile(r"^(?P<body>.+?),\s*(?P<art>the|a|an)\s*$", re.IGNORECASE)
_YEAR_SUFFIX_RE = re.compile(r"\s*\(\s*(?:19|20)\d{2}\s*\)\s*$")


def title_tokens(title: str) -> tuple[str, ...]:
    """Normalised tokens of a catalog title, articles in natural order, without a "(1999)" suffix:
    "Matrix, The (1999)" -> ("the", "matrix")."""
    title = _YEAR_SUFFIX_RE.sub("", title).strip()
    m = _TRAILING_ARTICLE_RE.match(title)
    if m:
        title = f"{m.group('art')} {m.group('body')}"
    return normalize_phrase(title)


def sentence_starts(text: str, tokens: list[Token]) -> list[bool]:
    """For each token, whether it opens a sentence (start of text, or after . ! ? ; or a line break)."""
    starts: list[bool] = []
    prev_end = 0
    prev: Token | None = None
    for tok in tokens:
        gap = text[prev_end : tok.start]
        if prev is None:
            starts.append(True)
        else:
            boundary = any(c in "!?;\n" for c in gap)
            if not boundary and "." in gap:
                # "Mr. Smith", "E.T." are not sentence ends.
                boundary = not (prev.norm in _ABBREVIATIONS or len(prev.norm) == 1)
            starts.append(boundary)
        prev_end = tok.end
        prev = tok
    return starts


def is_shouting_or_title_case(tokens: list[Token]) -> bool:
    """True when capitalisation carries no signal: the message is ALL CAPS or Every Word Capitalised."""
    words = [t for t in tokens if t.redial_id is None and t.text[:1].isalpha()]
    if len(words) < 4:
        return False
    if sum(t.text.isupper() and len(t.text) > 1 for t in words) >= 0.8 * len(words):
        return True
    significant = [t for t in words if t.norm not in MINOR_WORDS]
    return bool(significant) and sum(t.text[:1].isupper() for t in significant) >= 0.9 * len(significant)


@dataclass(frozen=True)
class MessageView:
    """A message tokenised once, with what every matcher needs: sentence starts and whether
    capitalisation means anything (not when the message is ALL CAPS or Every Word Capitalised)."""

    text: str
    tokens: list[Token]
    sentence_start: list[bool]
    caps_meaningful: bool

    @classmethod
    def of(cls, text: str) -> MessageView:
        tokens = tokenize(text)
        return cls(text, tokens, sentence_starts(text, tokens), not is_shouting_or_title_case(tokens))

    @cached_property
    def norms(self) -> list[str]:
        """The tokens' normalised words, computed once per view; callers must not modify the list."""
        return [t.norm for t in self.tokens]
