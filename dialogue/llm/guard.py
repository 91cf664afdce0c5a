"""The output guard: every LLM text is checked against the facts before a user sees it.

A text passes when it is non-empty, short, finished, free of chat/instruction artefacts ("As an AI",
"<|im_end|>", "ignore previous instructions", "I", copied instructions, repetition), and grounded:
- every movie title it names (a capitalised or quoted span equal to a catalog title) is an allowed one —
  the recommended item, the other candidates, the user's liked / mentioned items;
- every catalog person it names is an allowed person (the item's own credits);
- every genre word it uses is a genre the item has;
- every year is a year of an allowed item; every other capitalised name occurs in the facts;
- when it names other allowed titles, it also names its subject (not an explanation of another film).
Anything else is reported as a problem, and the caller replaces the text by its template.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from dialogue.llm.grounding import Grounding, GuardVocabulary
from dialogue.llm.text import SENTENCE_END, Token, normalize, tokenize

_QUOTED = re.compile(r"[\"“”„]([^\"“”„]{2,80})[\"“”„]")
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)(s?)\b")
_TERMINAL = re.compile(r"[.!?…][\"'”’)\]]*$")
_ECHO_WORDS = 5  # a run of this many words copied from the instructions is an echo
_I = re.IGNORECASE

ARTEFACT_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(pattern, flags))
    for label, pattern, flags in (
        ("speaks as an AI", r"\bas an ai\b|\blanguage model\b|\bi(?:'m| am) an? (?:ai|assistant|bot)\b", _I),
        ("refuses or apologises", r"\bi(?:'m| am) (?:sorry|unable|not able)\b|\bi can(?:not|'t)\b", _I),
        (
            "speaks in the first person",
            r"\bI\b|\bI['’](?:m|ve|d|ll)\b|\b(?:[Mm]e|[Mm]y|[Mm]ine|[Mm]yself)\b",
            0,
        ),
        ("chat-template token", r"<\||\|>|</?s>|\[/?inst\]|<</?sys>>", _I),
        ("talks about its prompt", r"</?\s*data\s*>|\bdata block\b|\bprompt\b|\binstructions?\b", _I),
        ("echoes a chat role", r"(?:^|\n)\s*(?:user|system|assistant)\s*:", _I),
        ("injection phrase", r"\bignore (?:all |any |the )?(?:previous|prior|above|earlier)\b", _I),
        (
            "preamble",
            r"^\s*(?:sure|certainly|of course|okay|ok)\b[,!.]|\bhere(?:'s| is) (?:an?|the|your) "
            r"(?:explanation|answer|sentence|response|summary)\b|^\s*(?:explanation|answer|summary)\s*:",
            _I,
        ),
        ("talks about 'the user'", r"\bthe user(?:'s)?\b|\bthis user\b", _I),
        ("refers to the facts", r"\b(?:the|these|those|given|provided) (?:facts|data)\b", _I),
    )
)

# Sentence-initial words that are also one-word titles ("It", "Her", "Up") are not read as titles.
_COMMON_START_WORDS = """a an the it its her his he she they their them us up go you your yours this that
    these those if so
    then now here there what why how when where who with and but or we our my me i both all also just yes no
    love like big home fans because since while as for from in on at by after before once still even its
    another more most one some any every each great good perfect"""
_COMMON_STARTS = frozenset(_COMMON_START_WORDS.split())


@dataclass(frozen=True)
class GuardVerdict:
    """ok, or the list of problems found (human-readable, for logs and the evaluation report)."""

    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems


class OutputGuard:
    """Checks a generated text against the catalog vocabulary and the text's grounding."""

    def __init__(
        self, vocabulary: GuardVocabulary, *, max_chars: int = 320, min_words: int = 4, max_sentences: int = 2
    ) -> None:
        self.vocabulary = vocabulary
        self.max_chars = max_chars
        self.min_words = min_words
        self.max_sentences = max_sentences

    def check(self, text: str, grounding: Grounding) -> GuardVerdict:
        problems: list[str] = []
        stripped = text.strip()
        if not stripped:
            return GuardVerdict(("empty",))
        if len(stripped) > self.max_chars:
            problems.append(f"too long ({len(stripped)} characters > {self.max_chars})")
        tokens = tokenize(stripped)
        if len(tokens) < self.min_words:
            problems.append(f"too short ({len(tokens)} words)")
        if not _TERMINAL.search(stripped):
            problems.append("unfinished sentence")
        used = [False] * len(tokens)
        allowed = grounding.titles | grounding.people
        spans = self._mask(
            tokens,
            used,
            allowed.__contains__,
            any_case=False,
            max_len=max((len(a.split()) for a in allowed), default=1),
            skip_common_starts=False,
        )
        masked = self._masked_text(stripped, tokens, used)
        for label, pattern in ARTEFACT_PATTERNS:
            if pattern.search(masked):
                problems.append(f"artefact: {label}")
        if self._count_sentences(stripped, tokens, spans, grounding) > self.max_sentences:
            problems.append(f"more than {self.max_sentences} sentences")
        problems += self._echo(tokens, used, grounding)
        problems += self._repetition(tokens, used)
        problems += self._off_subject(tokens, spans, grounding)
        problems += self._titles(tokens, used)
        problems += self._people(tokens, used, grounding)
        problems += self._genres(tokens, used, grounding)
        problems += self._years(masked, grounding)
        problems += self._quotes(stripped, grounding)
        problems += self._names(tokens, used, grounding)
        return GuardVerdict(tuple(dict.fromkeys(problems)))

    # ---- span matching ----------------------------------------------------------------------------
    def _mask(
        self,
        tokens: list[Token],
        used: list[bool],
        accept: Callable[[str], bool],
        *,
        any_case: bool,
        max_len: int | None = None,
        skip_common_starts: bool = True,
    ) -> list[tuple[int, int, str]]:
        """Find accepted spans among unused tokens (longest first at each start), mark them used.

        A span must start and end with a capitalised word unless `any_case`; a one-word span that is an
        everyday sentence-initial word ("It", "Her") is skipped when `skip_common_starts`."""
        limit = max_len or self.vocabulary.max_title_words
        found: list[tuple[int, int, str]] = []
        i = 0
        while i < len(tokens):
            end = None
            if not used[i] and (any_case or tokens[i].capitalised):
                for j in range(min(len(tokens), i + limit), i, -1):
                    if any(used[i:j]) or not (any_case or tokens[j - 1].capitalised):
                        continue
                    norm = " ".join(t.norm for t in tokens[i:j])
                    if not accept(norm):
                        continue
                    if j - i == 1 and skip_common_starts and self._common_start(tokens[i]):
                        continue
                    end = j
                    break
            if end is None:
                i += 1
                continue
            for k in range(i, end):
                used[k] = True
            found.append((i, end, " ".join(t.norm for t in tokens[i:end])))
            i = end
        return found

    @staticmethod
    def _common_start(token: Token) -> bool:
        return token.sentence_start and token.norm in _COMMON_STARTS

    @staticmethod
    def _masked_text(text: str, tokens: list[Token], used: list[bool]) -> str:
        """The text with allowed titles and names blanked out (so a title cannot look like an artefact)."""
        chars = list(text)
        for token, is_used in zip(tokens, used, strict=True):
            if is_used:
                chars[token.start : token.end] = "X" * (token.end - token.start)
        return re.sub(r"X+(?:[^\w\s]+X+)*", "X", "".join(chars))

    @staticmethod
    def _count_sentences(
        text: str, tokens: list[Token], spans: list[tuple[int, int, str]], grounding: Grounding
    ) -> int:
        """Sentence ends outside allowed titles and names ("Airplane!", "Michael J. Fox")."""
        protected = []
        for i, j, norm in spans:
            start, end = tokens[i].start, tokens[j - 1].end
            ending = grounding.title_endings.get(norm, "")
            if ending and text.startswith(ending, end):
                end += len(ending)
            protected.append((start, end))
        return sum(
            1 for m in SENTENCE_END.finditer(text) if not any(a <= m.start() < b for a, b in protected)
        )

    def _span(self, tokens: list[Token], i: int, j: int) -> str:
        return " ".join(t.text for t in tokens[i:j])

    # ---- the checks ---------------------------------------------------------------------------------
    def _titles(self, tokens, used) -> list[str]:
        found = self._mask(tokens, used, lambda n: n in self.vocabulary.titles, any_case=False)
        return [
            f"names the movie '{self._span(tokens, i, j)}', which is not among the recommendations"
            for i, j, _ in found
        ]

    def _people(self, tokens, used, grounding: Grounding) -> list[str]:
        found = self._mask(
            tokens, used, lambda n: " " in n and n in self.vocabulary.people, any_case=False, max_len=5
        )
        return [
            f"names {self._span(tokens, i, j)}, who is not credited on {grounding.subject}"
            for i, j, _ in found
        ]

    def _genres(self, tokens, used, grounding: Grounding) -> list[str]:
        forms = self.vocabulary.genres
        found = self._mask(tokens, used, lambda n: n in forms, any_case=True, max_len=3)
        problems = []
        for i, j, norm in found:
            if forms[norm] not in grounding.genres:
                problems.append(
                    f"calls {grounding.subject} '{self._span(tokens, i, j)}', a genre it does not have"
                )
        return problems

    @staticmethod
    def _echo(tokens: list[Token], used: list[bool], grounding: Grounding) -> list[str]:
        """Five words in a row copied from the instructions (allowed titles and names excepted)."""
        words = [
            f"#{i}" if is_used else t.norm for i, (t, is_used) in enumerate(zip(tokens, used, strict=True))
        ]
        grams = {" ".join(words[i : i + _ECHO_WORDS]) for i in range(len(words) - _ECHO_WORDS + 1)}
        for source in grounding.echo:
            src = normalize(source).split()
            if any(" ".join(src[i : i + _ECHO_WORDS]) in grams for i in range(len(src) - _ECHO_WORDS + 1)):
                return ["artefact: copies its instructions"]
        return []

    @staticmethod
    def _repetition(tokens: list[Token], used: list[bool]) -> list[str]:
        """Degenerate repetition: one to three words said twice in a row ("gritty, gritty"), or a run of
        five words said twice anywhere (allowed titles and names may recur: they never match)."""
        words = [
            f"#{i}" if is_used else t.norm for i, (t, is_used) in enumerate(zip(tokens, used, strict=True))
        ]
        for n in (1, 2, 3):
            if any(words[i : i + n] == words[i + n : i + 2 * n] for i in range(len(words) - 2 * n + 1)):
                return ["repeats itself"]
        grams = [" ".join(words[i : i + 5]) for i in range(len(words) - 4)]
        return ["repeats itself"] if len(grams) != len(set(grams)) else []

    @staticmethod
    def _off_subject(
        tokens: list[Token], spans: list[tuple[int, int, str]], grounding: Grounding
    ) -> list[str]:
        """A sentence about another allowed title ("The Shining is ...", "The movie Alien is ...") in a
        text that never names its subject: it explains the wrong movie."""
        if not grounding.subject_titles:
            return []
        named = [
            (i, j, norm)
            for i, j, norm in spans
            if norm in grounding.titles and not (j - i == 1 and OutputGuard._common_start(tokens[i]))
        ]
        if any(norm in grounding.subject_titles for _, _, norm in named):
            return []
        for i, j, _ in named:
            lead = [t.norm for t in tokens[max(0, i - 2) : i]]
            opens = tokens[i].sentence_start or (
                len(lead) == 2
                and tokens[i - 2].sentence_start
                and lead[0] == "the"
                and lead[1] in ("movie", "film")
            )
            if opens:
                other = " ".join(t.text for t in tokens[i:j])
                return [f"talks about {other} but never names {grounding.subject}"]
        return []

    @staticmethod
    def _years(masked: str, grounding: Grounding) -> list[str]:
        problems = []
        for m in _YEAR.finditer(masked):
            year, decade = int(m.group(1)), bool(m.group(2))
            ok = (
                any(y // 10 == year // 10 for y in grounding.years)
                if decade
                else year in grounding.years or m.group(1) in grounding.words
            )
            if not ok:
                problems.append(f"mentions {m.group(0)}, not a year of the facts")
        return problems

    @staticmethod
    def _quotes(text: str, grounding: Grounding) -> list[str]:
        problems = []
        for m in _QUOTED.finditer(text):
            norm = normalize(m.group(1))
            if norm and norm not in grounding.titles and not set(norm.split()) <= grounding.words:
                problems.append(f"quotes '{m.group(1)}', which is neither a recommended title nor a fact")
        return problems

    @staticmethod
    def _names(tokens, used, grounding: Grounding) -> list[str]:
        problems = []
        for token, is_used in zip(tokens, used, strict=True):
            if is_used or not token.capitalised or token.text[:1].isdigit() or token.sentence_start:
                continue
            if token.norm in grounding.words or token.norm == "i":
                continue
            problems.append(f"names '{token.text}', which is not in the facts")
        return problems
