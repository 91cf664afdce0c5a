"""Reading a profile text (or an edit of it) back into typed attribute likes and dislikes, by rules.

`profile_to_preferences("No horror. I love Tom Hanks", vocabulary)` ->
liked ("star:tom hanks", "director:tom hanks" if he directs in the vocabulary), disliked ("genre:horror").

Mentions are found by longest phrase match against the attribute vocabulary ("kind:value" names: genre
names and their plurals/synonyms, people's full names and unambiguous capitalised last names, tags,
decades as "1990s" / "90s" / "nineties"). A mention's polarity comes from the nearest cue word before it
in its clause ("love", "more" vs "no", "hate", "less"; a negator flips a positive cue: "don't like"),
else from a cue after it ("horror is off-putting"), else from the previous clause ("I love sci-fi,
thrillers and Nolan"), else it is a like. Clauses that name nothing are returned as `unmatched`, so
nothing the user wrote is dropped silently.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from dialogue.llm.grounding import genre_forms
from dialogue.llm.text import normalize

PERSON_KINDS = ("director", "writer", "star")


def _phrases(text: str) -> frozenset[str]:
    return frozenset(text.split("|"))


_CLAUSE_SPLIT = re.compile(r"[.;!?\n]+|,|\b(?:but|however|although|though|whereas|yet)\b", re.IGNORECASE)
_NEGATORS = _phrases("not|dont|doesnt|didnt|never|cant|cannot|wont|no|isnt|arent|nor")
# Cue phrases (normalised: apostrophes dropped, hyphens split).
_NEGATIVE = _phrases(
    "no|not|never|without|less|fewer|avoid|avoids|hate|hates|dislike|dislikes|skip|nothing|none|stop|"
    "enough|boring|bores|annoying|overrated|dont want|off putting|tired of|sick of|cant stand|"
    "no more|not into|not a fan|no thanks|finds off putting|not for me|steer clear|turned off|"
    "put off"
)
_POSITIVE = _phrases(
    "love|loves|loved|like|likes|liked|enjoy|enjoys|adore|adores|into|fan|fans|want|wants|more|"
    "prefer|prefers|favorite|favourite|great|crave|dig|obsessed|big fan|fan of|in the mood for|"
    "looking for"
)
_KIND_HINTS = {
    "director": ("director", "directed", "directs", "films by", "movies by"),
    "star": ("actor", "actress", "starring", "stars", "acting", "with"),
    "writer": ("writer", "written", "writes", "screenplay"),
}
_DECADE_WORDS = {
    "twenties": 1920, "thirties": 1930, "forties": 1940, "fifties": 1950, "sixties": 1960,
    "seventies": 1970, "eighties": 1980, "nineties": 1990,
}  # fmt: skip
_SKIP_PHRASES = _phrases("a|an|the|it|i|me|my|you|film|films|movie|movies|one")


@dataclass(frozen=True)
class Mention:
    """One attribute found in the text, with the words that named it and its polarity."""

    attribute: str
    phrase: str
    liked: bool


@dataclass(frozen=True)
class PreferenceEdit:
    """Typed likes / dislikes read from a text (a later mention of the same attribute wins)."""

    liked: tuple[str, ...]
    disliked: tuple[str, ...]
    mentions: tuple[Mention, ...]
    unmatched: tuple[str, ...]  # clauses that named nothing in the vocabulary


def _is_cue(phrase: str) -> bool:
    return phrase in _POSITIVE or phrase in _NEGATIVE or phrase in _NEGATORS


class AttributeVocabulary:
    """Phrase index over "kind:value" attribute names. Build once per vocabulary and reuse."""

    def __init__(self, attributes: Iterable[str]) -> None:
        self.attributes = tuple(dict.fromkeys(a.lower() for a in attributes if ":" in a))
        self.phrases: dict[str, list[str]] = defaultdict(list)
        self.surnames: dict[str, list[str]] = defaultdict(list)  # only matched when capitalised
        genres = [a.partition(":")[2] for a in self.attributes if a.startswith("genre:")]
        for form, genre in genre_forms(genres).items():
            self._add(form, f"genre:{genre}")
        people_by_surname: dict[str, set[str]] = defaultdict(set)
        for attr in self.attributes:
            kind, _, value = attr.partition(":")
            if kind == "genre":
                continue
            if kind == "decade":
                self._add_decade(value, attr)
                continue
            norm = normalize(value)
            self._add(norm, attr)
            if kind in PERSON_KINDS and " " in norm:
                people_by_surname[norm.rsplit(" ", 1)[1]].add(norm)
        for surname, names in people_by_surname.items():
            if len(names) == 1 and len(surname) > 3:
                (name,) = names
                self.surnames[surname] = list(self.phrases[name])
        self.max_words = max((len(p.split()) for p in self.phrases), default=1)

    def _add(self, phrase: str, attribute: str) -> None:
        if not phrase or phrase in _SKIP_PHRASES or _is_cue(phrase):
            return  # a cue word is never an attribute ("love" is also a MovieLens tag)
        if attribute not in self.phrases[phrase]:
            self.phrases[phrase].append(attribute)

    def _add_decade(self, value: str, attr: str) -> None:
        m = re.fullmatch(r"(\d{4})s", value)
        if not m:
            self._add(normalize(value), attr)
            return
        year = int(m.group(1))
        self._add(f"{year}s", attr)
        self._add(f"{year % 100:02d}s", attr)
        for word, start in _DECADE_WORDS.items():
            if start == year:
                self._add(word, attr)


def _cue_positions(norms: list[str]) -> list[tuple[int, int, int]]:
    """(start, end, +1/-1) of cue phrases in a clause, longest first, non-overlapping."""
    cues: list[tuple[int, int, int]] = []
    i = 0
    while i < len(norms):
        for n in (4, 3, 2, 1):
            phrase = " ".join(norms[i : i + n])
            if len(norms[i : i + n]) == n and (phrase in _NEGATIVE or phrase in _POSITIVE):
                cues.append((i, i + n, -1 if phrase in _NEGATIVE else 1))
                i += n
                break
        else:
            i += 1
    return cues


def _polarity(cues: list[tuple[int, int, int]], norms: list[str], start: int, end: int) -> int | None:
    before = [c for c in cues if c[1] <= start]
    if before:
        c_start, _, sign = before[-1]
        negated = any(w in _NEGATORS for w in norms[max(0, c_start - 2) : c_start])
        return -sign if negated and sign > 0 else sign
    after = [c for c in cues if c[0] >= end]
    return after[0][2] if after else None


def _kinds_hinted(clause: str) -> set[str]:
    low = clause.lower()
    return {kind for kind, hints in _KIND_HINTS.items() if any(re.search(rf"\b{h}\b", low) for h in hints)}


def profile_to_preferences(
    text: str, attribute_vocabulary: AttributeVocabulary | Iterable[str]
) -> PreferenceEdit:
    """Typed attribute likes/dislikes in `text` (see the module docstring for the rules)."""
    vocab = (
        attribute_vocabulary
        if isinstance(attribute_vocabulary, AttributeVocabulary)
        else AttributeVocabulary(attribute_vocabulary)
    )
    mentions: list[Mention] = []
    unmatched: list[str] = []
    inherited = 1
    for clause in (c.strip() for c in _CLAUSE_SPLIT.split(text)):
        if not clause:
            continue
        words = re.findall(r"[^\W_]+(?:['’][^\W_]+)*", clause)
        norms = [normalize(w) for w in words]
        cues = _cue_positions(norms)
        hinted = _kinds_hinted(clause)
        found: list[tuple[int, int, list[str]]] = []
        i = 0
        while i < len(norms):
            for n in range(min(vocab.max_words, len(norms) - i), 0, -1):
                phrase = " ".join(norms[i : i + n])
                attrs = vocab.phrases.get(phrase)
                if attrs is None and n == 1 and words[i][:1].isupper():
                    attrs = vocab.surnames.get(phrase)
                if attrs:
                    found.append((i, i + n, attrs))
                    i += n
                    break
            else:
                i += 1
        clause_sign = cues[0][2] if cues else inherited
        for start, end, attrs in found:
            sign = _polarity(cues, norms, start, end)
            sign = clause_sign if sign is None else sign
            chosen = [a for a in attrs if a.partition(":")[0] in hinted] or attrs
            phrase = " ".join(words[start:end])
            mentions += [Mention(a, phrase, sign > 0) for a in chosen]
        if found:
            inherited = _polarity(cues, norms, found[-1][0], found[-1][1]) or clause_sign
        else:
            if not cues or any(w not in _NEGATIVE and w not in _POSITIVE for w in norms):
                unmatched.append(clause)
            if cues:
                inherited = cues[-1][2]
    final: dict[str, bool] = {}
    for m in mentions:
        final.pop(m.attribute, None)
        final[m.attribute] = m.liked
    return PreferenceEdit(
        liked=tuple(a for a, liked in final.items() if liked),
        disliked=tuple(a for a, liked in final.items() if not liked),
        mentions=tuple(mentions),
        unmatched=tuple(unmatched),
    )


def liked_part(text: str) -> str:
    """The clauses of a profile text that say what the user likes (no negative cue word), rejoined
    with "; ": "Loves sci-fi; finds gore off-putting" -> "Loves sci-fi". A small model shown the dislikes
    tends to repeat them as reasons ("a blend of sci-fi and horror"), so explanation prompts get this."""
    kept = []
    for clause in (c.strip(" \"'") for c in _CLAUSE_SPLIT.split(text)):
        if not clause:
            continue
        norms = [normalize(w) for w in re.findall(r"[^\W_]+(?:['’][^\W_]+)*", clause)]
        cues = _cue_positions(norms)
        negated = any(w in _NEGATORS for w in norms)
        if not any(sign < 0 for _, _, sign in cues) and not negated:
            kept.append(clause)
    return "; ".join(kept)


def phrase_polarities(text: str, phrases: Iterable[str]) -> list[tuple[str, bool]]:
    """(phrase, liked?) for every occurrence of one of `phrases` (normalised, e.g. title aliases) in
    `text`, with the polarity rules of `profile_to_preferences`: "Loves Up and dislikes Toy Story" ->
    [("up", True), ("toy story", False)]. Used to check a written profile against the liked / disliked
    items, which the attribute parser does not cover."""
    wanted = {p for p in phrases if p}
    longest = max((len(p.split()) for p in wanted), default=0)
    found: list[tuple[str, bool]] = []
    inherited = 1
    for clause in (c.strip() for c in _CLAUSE_SPLIT.split(text)):
        if not clause:
            continue
        norms = [normalize(w) for w in re.findall(r"[^\W_]+(?:['’][^\W_]+)*", clause)]
        cues = _cue_positions(norms)
        clause_sign = cues[0][2] if cues else inherited
        i = 0
        while i < len(norms):
            for n in range(min(longest, len(norms) - i), 0, -1):
                phrase = " ".join(norms[i : i + n])
                if phrase in wanted:
                    sign = _polarity(cues, norms, i, i + n)
                    found.append((phrase, (clause_sign if sign is None else sign) > 0))
                    i += n
                    break
            else:
                i += 1
        if cues:
            inherited = cues[-1][2]
    return found
