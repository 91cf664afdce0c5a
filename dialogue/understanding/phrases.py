"""A table of fixed phrases (normalised token tuples) matched longest-first in a message.

Genres, moods, tags and critique wordings are all phrase tables: a dictionary probe per word n-gram.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from dialogue.understanding.text import normalize_phrase

P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class PhraseHit(Generic[P]):
    """tokens[lo:hi] matched a phrase whose payload is `payload`."""

    lo: int
    hi: int
    payload: P


@dataclass(frozen=True, slots=True)
class AttributeSpan:
    """Attributes found at tokens[lo:hi] (before polarity is known).

    attributes: (attribute, known-in-catalog) pairs; mood: the mood rule's name; critique: a
    (dimension, direction) implied when the phrase is liked ("something light" -> darkness less).
    """

    lo: int
    hi: int
    attributes: tuple[tuple[str, bool], ...]
    score: float = 1.0
    mood: str | None = None
    critique: tuple[str, str] | None = None


class PhraseTable(Generic[P]):
    """Maps phrases to payloads; `find` returns non-overlapping hits, longest first."""

    def __init__(self, entries: Iterable[tuple[str | tuple[str, ...], P]] = ()) -> None:
        self._table: dict[tuple[str, ...], P] = {}
        self._lengths: dict[str, tuple[int, ...]] = {}  # first word -> lengths of its phrases, longest first
        self.max_len = 1
        for phrase, payload in entries:
            self.add(phrase, payload)

    def add(self, phrase: str | tuple[str, ...], payload: P, *, overwrite: bool = True) -> None:
        key = normalize_phrase(phrase) if isinstance(phrase, str) else phrase
        if not key or (not overwrite and key in self._table):
            return
        self._table[key] = payload
        self.max_len = max(self.max_len, len(key))
        lengths = self._lengths.get(key[0], ())
        if len(key) not in lengths:
            self._lengths[key[0]] = tuple(sorted((*lengths, len(key)), reverse=True))

    def __contains__(self, phrase: tuple[str, ...]) -> bool:
        return phrase in self._table

    def __len__(self) -> int:
        return len(self._table)

    def phrases(self) -> list[tuple[str, ...]]:
        return list(self._table)

    def get(self, phrase: tuple[str, ...]) -> P | None:
        return self._table.get(phrase)

    def find(self, norms: Sequence[str], taken: Sequence[bool] | None = None) -> list[PhraseHit[P]]:
        """Non-overlapping hits in token order; tokens marked in `taken` are never used."""
        hits: list[PhraseHit[P]] = []
        n_tok = len(norms)
        i = 0
        while i < n_tok:
            found = None
            # only the lengths of phrases starting with this word can match (longest first, as before)
            for n in self._lengths.get(norms[i], ()):
                if n > n_tok - i or (taken is not None and any(taken[i : i + n])):
                    continue
                payload = self._table.get(tuple(norms[i : i + n]))
                if payload is not None:
                    found = PhraseHit(i, i + n, payload)
                    break
            if found is None:
                i += 1
            else:
                hits.append(found)
                i = found.hi
        return hits
