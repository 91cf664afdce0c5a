"""Directors, writers and stars of the catalog mentioned in a message.

Full names match in any case ("tom hanks") unless every word is an everyday word ("Mark Strong" needs
capitals). A last name alone ("Nolan", "Hanks") matches when it is capitalised (or so rare a word that
case does not matter) and one person dominates everyone else with that last name (credits weighted by
the movies' popularity, writing credits counting less: "Nolan" is Christopher, not Jonathan).

Attribute names are "kind:<name in lower case>", e.g. "director:christopher nolan". A person with several
kinds of credit gets the kind the message names ("directed by", "starring") or else their main one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from dialogue.understanding.lexicon import zipf
from dialogue.understanding.phrases import AttributeSpan
from dialogue.understanding.text import STOP_WORDS, MessageView, normalize_phrase
from recsys.catalog.types import Catalog

KIND_WEIGHT = {"director": 1.0, "star": 1.0, "writer": 0.3}
KIND_ORDER = ("director", "star", "writer")
_KIND_RANK = {k: i for i, k in enumerate(KIND_ORDER)}
DOMINANCE = 2.0  # a last name resolves when its top person outweighs the next one this many times
COMMON_NAME_WORD_ZIPF = 5.0  # "Mark Strong": every word this common -> capitals required
LOWERCASE_LAST_NAME_ZIPF = 3.5  # "hanks", "tarantino" match in lower case
RISKY_LAST_NAME_ZIPF = 4.0  # "Stone", "King": a last name this common needs "by" / "with" / ... before it

_KIND_HINTS = {
    "directed": "director", "director": "director", "directors": "director",
    "starring": "star", "actor": "star", "actress": "star", "stars": "star", "with": "star",
    "written": "writer", "writer": "writer", "screenplay": "writer", "wrote": "writer",
}  # fmt: skip
_PERSON_CUES = frozenset({"by", "with", "starring", "from", "director", "actor", "actress", "and", "like"})


@dataclass(frozen=True)
class Person:
    """One person of the catalog with their popularity-weighted credits per kind."""

    name: str  # lower case, single spaces: "christopher nolan"
    credits: tuple[tuple[str, float], ...]  # (kind, weighted popularity), main kind first

    @property
    def weight(self) -> float:
        return sum(w for _, w in self.credits)

    def kind(self, hint: str | None = None) -> str:
        kinds = [k for k, _ in self.credits]
        return hint if hint in kinds else kinds[0]


class PeopleIndex:
    """Full-name and unambiguous-last-name index over the catalog's people."""

    def __init__(self, catalog: Catalog) -> None:
        credits: dict[tuple[str, ...], dict[str, float]] = {}
        names: dict[tuple[str, ...], str] = {}
        for item in catalog:
            # Every credit counts at least 1 so that a catalog without popularity still works.
            weight = 1.0 + max(float(item.popularity), 0.0)
            for kind, people in (
                ("director", item.directors),
                ("star", item.stars),
                ("writer", item.writers),
            ):
                kind_weight = weight * KIND_WEIGHT[kind]
                for raw in people:
                    key = normalize_phrase(raw)
                    if not key:
                        continue
                    slot = credits.get(key)
                    if slot is None:
                        slot = credits[key] = {}
                        names[key] = " ".join(raw.lower().split())
                    slot[kind] = slot.get(kind, 0.0) + kind_weight
        self._full: dict[tuple[str, ...], Person] = {}
        by_last: dict[str, list[Person]] = defaultdict(list)
        for key, kinds in credits.items():
            ordered = sorted(kinds.items(), key=lambda kv: (-kv[1], _KIND_RANK[kv[0]]))
            person = Person(names[key], tuple(ordered))
            self._full[key] = person
            if len(key) > 1:
                by_last[key[-1]].append(person)
        first_weight: dict[str, float] = defaultdict(float)
        for key, person in self._full.items():
            if len(key) > 1:
                first_weight[key[0]] += person.weight
        self._last: dict[str, Person] = {}
        for last, persons in by_last.items():
            persons.sort(key=lambda p: -p.weight)
            dominant = len(persons) == 1 or persons[0].weight >= DOMINANCE * persons[1].weight
            # "Heath" is Heath Ledger's first name before it is Anne Heath's last name.
            if dominant and persons[0].weight > first_weight.get(last, 0.0):
                self._last[last] = persons[0]
        self._name_words = frozenset(w for key in self._full if len(key) > 1 for w in (key[0], key[-1]))
        self.max_len = max((len(k) for k in self._full), default=1)
        # (first word, length) of every multi-word name: `find` skips windows no name starts like
        self._starts = frozenset((key[0], len(key)) for key in self._full if len(key) > 1)

    def __len__(self) -> int:
        return len(self._full)

    def name_words(self) -> frozenset[str]:
        """First and last names of the catalog's people."""
        return self._name_words

    def attribute_names(self) -> set[str]:
        """Every "kind:name" attribute of the catalog's people."""
        return {f"{kind}:{p.name}" for p in self._full.values() for kind, _ in p.credits}

    def person(self, name: str) -> Person | None:
        return self._full.get(normalize_phrase(name))

    def last_name(self, word: str) -> Person | None:
        """The person a bare last name resolves to, if unambiguous."""
        return self._last.get(word.lower())

    def find(self, view: MessageView, taken: Sequence[bool], *, relaxed: bool = False) -> list[AttributeSpan]:
        """People mentioned in the message (tokens in `taken` are skipped). relaxed: the system just
        asked about people, so lower-case last names count."""
        tokens, norms = view.tokens, view.norms
        spans: list[AttributeSpan] = []
        used = list(taken)
        for n in range(min(self.max_len, len(tokens)), 0, -1):
            for i in range(len(tokens) - n + 1):
                if n > 1 and (norms[i], n) not in self._starts:
                    continue  # no full name of n words starts here (and last names are single words)
                if any(used[i : i + n]) or any(t.redial_id is not None for t in tokens[i : i + n]):
                    continue
                key = tuple(norms[i : i + n])
                person, score = self._full.get(key), 1.0
                if person is not None and not self._full_name_ok(view, i, i + n, relaxed):
                    person = None
                if person is None and n == 1:
                    person, score = self._last.get(key[0]), 0.85
                    if person is not None and not self._last_name_ok(view, i, relaxed):
                        person = None
                if person is None:
                    continue
                attr = f"{person.kind(_kind_hint(norms, i))}:{person.name}"
                spans.append(AttributeSpan(i, i + n, ((attr, True),), score))
                for j in range(i, i + n):
                    used[j] = True
        return sorted(spans, key=lambda s: s.lo)

    @staticmethod
    def _full_name_ok(view: MessageView, lo: int, hi: int, relaxed: bool) -> bool:
        words = view.norms[lo:hi]
        if all(w in STOP_WORDS for w in words):
            return False
        if hi - lo == 1:
            return PeopleIndex._last_name_ok(view, lo, relaxed)
        if relaxed or not all(zipf(w) >= COMMON_NAME_WORD_ZIPF for w in words):
            return True
        return view.caps_meaningful and all(t.is_capitalised for t in view.tokens[lo:hi])

    @staticmethod
    def _last_name_ok(view: MessageView, i: int, relaxed: bool) -> bool:
        tok = view.tokens[i]
        word = tok.norm
        if len(word) < 3 or word in STOP_WORDS or not word.isalpha():
            return False
        freq = zipf(word)
        cue = i > 0 and view.norms[i - 1] in _PERSON_CUES
        if freq >= RISKY_LAST_NAME_ZIPF and not cue:
            return False
        if relaxed or freq < LOWERCASE_LAST_NAME_ZIPF:
            return True
        return view.caps_meaningful and tok.is_capitalised


def _kind_hint(norms: Sequence[str], lo: int) -> str | None:
    """The credit kind the words just before a name ask for: "directed by X", "starring X"."""
    for j in range(lo - 1, max(-1, lo - 3), -1):
        hint = _KIND_HINTS.get(norms[j])
        if hint is not None:
            return hint
    return None
