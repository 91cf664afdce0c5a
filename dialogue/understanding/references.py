"""References to the movies the system just recommended: "the first one", "the second", "#2",
"the last one", "both", "all of them", and (when one movie was shown) "it", "that one", "this movie".

Pronouns are resolved only when the message names no movie itself ("I loved Heat, it was great": "it"
is Heat, not the recommendation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dialogue.understanding.text import MessageView, word_set

_ORDINALS = {
    "first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3, "fifth": 4,
    "5th": 4, "last": -1, "top": 0, "latter": -1, "former": 0,
}  # fmt: skip
_NUMBERS = {"1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "one": 0, "two": 1, "three": 2, "four": 3, "five": 4}
_NOUNS = word_set("one movie film suggestion option recommendation pick choice title")
_SINGLE = {("that", "one"), ("this", "one"), ("that", "movie"), ("this", "movie"), ("that", "film"),
           ("this", "film"), ("the", "movie"), ("the", "film"), ("it",), ("its",), ("that",),
           ("thats",)}  # fmt: skip
_PLURAL = {("both",), ("all", "of", "them"), ("them", "all"), ("all", "three"), ("all", "two"), ("them",),
           ("those",), ("both", "of", "them"), ("all", "of", "those"), ("these",)}  # fmt: skip
_THAT_NOUNS = word_set("kind sort type genre style stuff much way idea")
_THAT_FOLLOWERS = word_set("one movie film sounds looks seems is was")


@dataclass(frozen=True, slots=True)
class Reference:
    lo: int
    hi: int
    item_ids: tuple[int, ...]
    score: float


def find_references(
    view: MessageView, recommended: Sequence[int], taken: Sequence[bool], *, allow_pronouns: bool
) -> list[Reference]:
    """References to `recommended` (the last turn's items, in display order) in the message."""
    if not recommended:
        return []
    norms = view.norms
    n = len(norms)
    out: list[Reference] = []
    used = list(taken)

    def add(lo: int, hi: int, ids: tuple[int, ...], score: float) -> None:
        if ids and not any(used[lo:hi]):
            out.append(Reference(lo, hi, ids, score))
            for j in range(lo, hi):
                used[j] = True

    for i, word in enumerate(norms):
        if used[i]:
            continue
        if word in _ORDINALS:
            idx = _ORDINALS[word]
            has_the = i > 0 and norms[i - 1] == "the"
            has_noun = i + 1 < n and norms[i + 1] in _NOUNS
            at_end = i + 1 == n or view.sentence_start[i + 1]
            if (has_noun or (has_the and at_end)) and -len(recommended) <= idx < len(recommended):
                lo = i - 1 if has_the and not used[i - 1] else i
                add(lo, i + 2 if has_noun else i + 1, (recommended[idx],), 0.95)
        elif word in {"number", "option", "no"} and i + 1 < n and norms[i + 1] in _NUMBERS:
            idx = _NUMBERS[norms[i + 1]]
            if idx < len(recommended) and (word != "no" or norms[i + 1].isdigit()):
                add(i, i + 2, (recommended[idx],), 0.95)
        elif (
            word in _NUMBERS
            and word.isdigit()
            and view.text[view.tokens[i].start - 1 : view.tokens[i].start] == "#"
        ):
            idx = _NUMBERS[word]
            if idx < len(recommended):
                add(i, i + 1, (recommended[idx],), 0.95)
    if not allow_pronouns:
        return sorted(out, key=lambda r: r.lo)
    for i in range(n):
        for length in (3, 2, 1):
            phrase = tuple(norms[i : i + length])
            if len(phrase) < length or any(used[i : i + length]):
                continue
            if phrase in _PLURAL and len(recommended) > 1:
                add(i, i + length, tuple(recommended), 0.8)
            elif phrase in _SINGLE and len(recommended) == 1:
                if (
                    phrase == ("that",)
                    and not _that_is_reference(view, i)
                    and not (i + 1 == n or view.sentence_start[i + 1] or norms[i + 1] in _THAT_FOLLOWERS)
                ):
                    continue
                add(i, i + length, (recommended[0],), 0.8)
    return sorted(out, key=lambda r: r.lo)


def _that_is_reference(view: MessageView, i: int) -> bool:
    """ "like that", "than that", "seen that", "that but ...": "that" stands for a movie."""
    norms = view.norms
    before = norms[i - 1] if i > 0 else ""
    after = norms[i + 1] if i + 1 < len(norms) else ""
    gap = view.text[view.tokens[i].end : view.tokens[i + 1].start] if i + 1 < len(norms) else ""
    if after in _THAT_NOUNS:
        return False  # "I like that kind of movie"
    return (
        before in {"like", "than", "seen", "watched", "saw", "love", "loved", "liked"}
        or after in {"but", "though"}
        or any(c in gap for c in ",.!?;")
    )
