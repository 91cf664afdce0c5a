"""Tokenising and normalising generated text, titles and names the same way (used by the guard)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# A sentence end: . ! ? … (and closing quotes) before a space or the end, not after an initial ("J.")
# or a title abbreviation ("Dr.").
SENTENCE_END = re.compile(
    r"(?<!\b[A-Z])(?<!\bDr)(?<!\bMr)(?<!\bMs)(?<!\bMrs)(?<!\bSt)[.!?…]+[\"'”’)]*(?=\s|$)"
)


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`; a trailing fragment without an end mark is the last element."""
    sentences, start = [], 0
    for m in SENTENCE_END.finditer(text):
        sentences.append(text[start : m.end()].strip())
        start = m.end()
    if text[start:].strip():
        sentences.append(text[start:].strip())
    return [s for s in sentences if s]


def norm_word(word: str) -> str:
    """One word normalised: lower-case, accents, a possessive 's and apostrophes dropped ("Nolan's" ->
    "nolan", "Amélie" -> "amelie", "don't" -> "dont")."""
    word = unicodedata.normalize("NFKD", word)
    word = "".join(c for c in word if not unicodedata.combining(c)).lower()
    if word.endswith(("'s", "’s")) and len(word) > 2:
        word = word[:-2]
    return word.replace("'", "").replace("’", "")


def normalize(text: str) -> str:
    """The text's words, normalised and space-joined: lower-case, accents and apostrophes dropped, other
    punctuation splitting words ("Amélie's Spider-Man!" -> "amelie spider man"). Titles, names and
    generated texts are compared in this form."""
    return " ".join(norm_word(m.group(0)) for m in _WORD.finditer(text))


@dataclass(frozen=True)
class Token:
    """A word of a text: as written, normalised, its offsets, and whether it starts a sentence."""

    text: str
    norm: str
    start: int
    end: int
    sentence_start: bool

    @property
    def capitalised(self) -> bool:
        return self.text[:1].isupper() or self.text[:1].isdigit()


def tokenize(text: str) -> list[Token]:
    """The words of `text` with offsets (same word boundaries as `normalize`)."""
    tokens: list[Token] = []
    for m in _WORD.finditer(text):
        before = text[: m.start()].rstrip(" \"“'(‘")
        start = not before or before[-1] in ".!?:;\n"
        tokens.append(Token(m.group(0), norm_word(m.group(0)), m.start(), m.end(), start))
    return tokens
