"""Title normalisation for matching movies across datasets.

Two datasets rarely write a title the same way: MovieLens moves articles to the end ("Matrix, The"),
adds alternate titles in parentheses ("Seven (a.k.a. Se7en)"), ReDial has doubled spaces and unicode
dashes. This module turns any title into

- a *natural* display form (`natural_title`): articles in front, alternates dropped ("The Matrix");
- a *match key* (`title_key`): lower-case ASCII words, no punctuation, "&" -> "and", roman numerals
  II..XX -> digits, no leading English article ("matrix");
- its alternate titles (`split_alternates`), and its *numbers* (`title_numbers`), used to keep sequels
  apart ("Toy Story 2" never fuzzy-matches "Toy Story").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote

# Articles MovieLens moves to the end of a title ("Misérables, Les"), in the languages it uses.
ARTICLES = frozenset(
    {
        "the", "a", "an",  # English
        "les", "la", "le", "l'", "un", "une",  # French
        "il", "lo", "gli", "i", "uno", "una", "l’",  # Italian
        "el", "los", "las",  # Spanish
        "das", "die", "der", "den", "dem", "ein", "eine",  # German
        "det", "en", "ett",  # Scandinavian
        "de", "het", "'t",  # Dutch
        "o", "os", "as",  # Portuguese
    }
)  # fmt: skip
# English articles are dropped from the front of a match key ("The Intouchables" == "Intouchables").
_DROPPED_ARTICLES = ("the ", "a ", "an ")

_TRAILING_ARTICLE = re.compile(r"^(?P<head>.+?),\s*(?P<art>[^\s,]+)\s*(?P<rest>(?:[:\-–—].*)?)$")
_YEAR_AT_END = re.compile(r"^(?P<title>.*?)\s*\(\s*(?P<year>\d{4})\s*(?:[-–]\s*\d{0,4}\s*)?\)\s*$")
_AKA = re.compile(r"^\s*(?:a\.?k\.?a\.?|aka)\s+", re.IGNORECASE)
_DASHES = str.maketrans({c: "-" for c in "‐‑‒–—―−"})
_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "“": '"', "”": '"'})
_ROMAN = {
    "ii": "2", "iii": "3", "iv": "4", "vi": "6", "vii": "7", "viii": "8", "ix": "9",
    "xi": "11", "xii": "12", "xiii": "13", "xiv": "14", "xv": "15", "xvi": "16", "xvii": "17",
    "xviii": "18", "xix": "19", "xx": "20",
}  # fmt: skip
# Spelled-out sequel numbers are left alone: only digits and roman numerals count as numbers.
_NON_WORD = re.compile(r"[^0-9a-z]+")


@dataclass(frozen=True)
class ParsedTitle:
    """A title split into its parts: natural primary title, alternates (natural order), year, and the
    full title as written without the year ('The Meyerowitz Stories (New and Selected)')."""

    title: str
    alternates: tuple[str, ...] = ()
    year: int | None = None
    full: str = ""


def clean_spaces(text: str) -> str:
    """Collapse runs of whitespace and strip the ends."""
    return " ".join(text.split())


def split_year(name: str) -> tuple[str, int | None]:
    """'Angels in the Outfield  (1994)' -> ('Angels in the Outfield', 1994); no year -> (name, None)."""
    name = clean_spaces(name)
    m = _YEAR_AT_END.match(name)
    if m and m.group("title"):
        return m.group("title"), int(m.group("year"))
    return name, None


def move_article(title: str) -> str:
    """'Matrix, The' -> 'The Matrix'; 'Ours, L'' -> "L'Ours"; "Hobbit: X, The" style tails too.

    Only a trailing ", <article>" (optionally followed by a ': subtitle') is moved; other commas stay.
    """
    title = clean_spaces(title.translate(_QUOTES))
    m = _TRAILING_ARTICLE.match(title)
    if not m or m.group("art").lower() not in ARTICLES:
        return title
    art, head, rest = m.group("art"), m.group("head"), m.group("rest")
    joined = f"{art}{head}" if art.endswith("'") else f"{art} {head}"
    if not rest:
        return joined
    return f"{joined}{rest}" if rest.startswith(":") else f"{joined} {rest}"


def split_alternates(title: str) -> tuple[str, list[str]]:
    """Split trailing parenthesised alternates off a title.

    'Seven (a.k.a. Se7en)' -> ('Seven', ['Se7en']);
    'Seventh Seal, The (Sjunde inseglet, Det)' -> ('Seventh Seal, The', ['Sjunde inseglet, Det']).
    A title that is only a parenthesis ('(500) Days of Summer') keeps it.
    """
    alternates: list[str] = []
    rest = clean_spaces(title)
    while rest.endswith(")"):
        depth, start = 0, -1
        for i in range(len(rest) - 1, -1, -1):
            if rest[i] == ")":
                depth += 1
            elif rest[i] == "(":
                depth -= 1
                if depth == 0:
                    start = i
                    break
        if start <= 0:  # unbalanced, or the whole title is in parentheses: leave it
            break
        head = rest[:start].rstrip()
        if head.endswith((":", "-")) or head.lower().endswith(" or"):  # 'Birdman: Or (The Unexpected...)'
            break
        inner = _AKA.sub("", rest[start + 1 : -1]).strip()
        if inner:
            alternates.insert(0, inner)
        rest = head
    return rest, alternates


def parse_movielens_title(title: str, year: int | None = None) -> ParsedTitle:
    """A MovieLens title (year already split off by the loader) -> natural title and alternates."""
    primary, alternates = split_alternates(title)
    if year is None:  # some loaders keep the year in the title
        primary, year = split_year(primary)
    return ParsedTitle(move_article(primary), tuple(move_article(a) for a in alternates), year, title)


def parse_redial_name(name: str) -> ParsedTitle:
    """A ReDial movie name ('The Exorcist  (1973)') -> natural title, alternates, year.

    Percent-escapes left in some names are decoded ("What's Up, Tiger Lily%3F" -> "...Lily?").
    """
    title, year = split_year(unquote(name))
    primary, alternates = split_alternates(title)
    if not primary:  # "(Untitled)" and the like: keep the text as is
        primary, alternates = title, []
    return ParsedTitle(move_article(primary), tuple(move_article(a) for a in alternates), year, title)


def strip_accents(text: str) -> str:
    """'Amélie' -> 'Amelie'; ligatures and full-width forms are folded by NFKD too."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ß", "ss")


@lru_cache(maxsize=200_000)
def title_key(title: str) -> str:
    """The match key of a (natural-order) title: 'The Matrix: Reloaded!' -> 'matrix reloaded'.

    Lower-case ASCII, '&' -> 'and', apostrophes and dots removed inside words ("Schindler's" ->
    'schindlers', 'S.W.A.T.' -> 'swat'), other punctuation -> space, roman numerals II..XX -> digits,
    one leading English article dropped.
    """
    text = strip_accents(move_article(title).translate(_DASHES).translate(_QUOTES)).casefold()
    text = text.replace("&", " and ").replace("+", " plus ")
    text = re.sub(r"(?<=\w)['.](?=\w)", "", text)  # o'brien, s.w.a.t
    text = re.sub(r"(?<=\w)'s\b", "s", text)
    words = [_ROMAN.get(w, w) for w in _NON_WORD.sub(" ", text).split()]
    key = " ".join(words)
    for article in _DROPPED_ARTICLES:
        if key.startswith(article) and len(key) > len(article):
            return key[len(article) :]
    return key


def title_numbers(key: str) -> frozenset[str]:
    """The numbers in a match key (digits; roman numerals are already digits): sequels differ here."""
    return frozenset(w for w in key.split() if w.isdigit())


def compact(key: str) -> str:
    """A match key without spaces: 'old boy' and 'oldboy', 'spider man' and 'spiderman' compare equal."""
    return key.replace(" ", "")


def sorted_tokens(key: str) -> str:
    """The key's words in sorted order (what a token-sort comparison compares)."""
    return " ".join(sorted(key.split()))


# One genre vocabulary for MovieLens ("Sci-Fi", "Children") and the ReDial metadata ("sci-fi", "family"):
# name as written (lower-case) -> canonical name; None drops it (not a genre).
GENRE_SYNONYMS: dict[str, str | None] = {
    "science fiction": "sci-fi",
    "sci fi": "sci-fi",
    "scifi": "sci-fi",
    "children": "family",  # MovieLens "Children" and the metadata's "family" are the same shelf
    "children's": "family",
    "kids": "family",
    "film noir": "film-noir",
    "noir": "film-noir",
    "sports": "sport",
    "biopic": "biography",
    "historical": "history",
    "animated": "animation",
    "romantic": "romance",
    "imax": None,  # a projection format, not a genre
    "(no genres listed)": None,
    "": None,
}


def canonical_genre(name: str) -> str | None:
    """The catalog's name for a genre ('Sci-Fi' -> 'sci-fi', 'Children' -> 'family'); None to drop it."""
    key = clean_spaces(name).lower()
    return GENRE_SYNONYMS.get(key, key)


def canonical_genres(*sources: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Genres of several sources merged in first-seen order, canonical and without duplicates."""
    merged = (canonical_genre(g) for source in sources for g in source)
    return tuple(dict.fromkeys(g for g in merged if g))
