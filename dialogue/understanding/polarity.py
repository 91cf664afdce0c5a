"""Polarity of each mention: liked, disliked, seen or neutral.

The message is cut into clauses (sentences, then before "but" / "though" / "however" / "except", but not
in "anything but"), and a mention takes its polarity, in order of precedence, from:

1. a negating word just before it, over fillers and other mentions: "no horror", "not X",
   "nothing with Adam Sandler", "anything but horror", "without gore", "no horror or thrillers";
2. an evaluation just after it: "X was great", "X wasn't that good", "X is one of my favorites",
   "I saw X and loved it" (not in questions: "is X any good?");
3. the nearest cue before it in its clause: "I loved", "I'm not into", "can't stand", "I've seen",
   "something like"; a negator just before a cue flips it ("I don't like" -> disliked, "haven't seen" ->
   neutral); a cue whose subject is "you" is not about the user ("have you seen X?" -> neutral);
4. the default: neutral for items, liked for attributes (people ask for what they want).
"""

from __future__ import annotations

from collections.abc import Sequence

from dialogue.understanding.phrases import PhraseTable
from dialogue.understanding.text import MessageView, word_set
from dialogue.understanding.types import Polarity

LIKE, DISLIKE, SEEN, REQUEST, NEG = "like", "dislike", "seen", "request", "neg"

_CUES: dict[str, str] = {
    **dict.fromkeys(
        word_set(
            """love loved loves loving like liked likes enjoy enjoyed enjoys enjoying adore adored adores
            prefer prefers preferred favorite favourite fave favorites favourites want wanted wanna
            craving need dig appreciate appreciated"""
        ), LIKE),
    **dict.fromkeys(
        ["fan of", "big fan", "huge fan", "looking for", "look for", "searching for", "in the mood for",
         "mood for", "feel like", "feeling", "interested in", "something like", "anything like",
         "movies like", "similar to", "such as", "along the lines of", "in the vein of", "nothing but",
         "fond of", "obsessed with", "hoping for", "into", "care for", "keen on"], LIKE),
    **dict.fromkeys(
        word_set(
            """hate hated hates hating dislike disliked dislikes despise despised detest detested loathe
            loathed avoid overrated"""
        ), DISLIKE),
    **dict.fromkeys(
        ["cant stand", "cannot stand", "couldnt stand", "not a fan", "not a big fan", "not much of a fan",
         "not into", "not my thing", "not for me", "not my cup of tea", "sick of", "tired of", "bored of",
         "rather not", "stay away from", "steer clear of", "enough of", "had enough of", "not big on"],
        DISLIKE),
    **dict.fromkeys(["seen", "saw", "watched", "rewatched", "already seen", "watched it"], SEEN),
    **dict.fromkeys(["see", "watch"], "see"),  # only "didn't see X" / "never watch X" count
    **dict.fromkeys(
        ["recommend", "suggest", "find me", "show me", "give me", "got any", "know any", "how about",
         "what about"], REQUEST),
    **dict.fromkeys(
        ["no", "not", "nothing", "without", "except", "excluding", "anything but", "other than", "instead of",
         "none of", "no more", "besides", "neither", "nor", "minus"], NEG),
}  # fmt: skip
_INTO_AFTER = word_set(
    """im am really so was were are pretty totally also very big more mostly not usually kinda all"""
)

_VERB_NEGATORS = word_set(
    """not dont didnt doesnt never cant cannot wont isnt wasnt arent werent havent hasnt hadnt wouldnt
    couldnt shouldnt aint nt"""
)
_NEG_FILLERS = word_set(
    """really actually particularly much very too usually generally even i a big huge always think ive have
    ever"""
)
_YOU = word_set("you u ya youve youd youll yall")
_YOU_FILLERS = word_set(
    "ever already have do did would might will may could also both dont didnt havent never not really"
)
# Walking left from a mention towards a negating word ("no more scary movies or slashers").
_LEFT_FILLERS = word_set(
    """the a an any too so very really more with by starring of movies films movie film that is are
    anything something stuff or and scary really particularly"""
)
_CLAUSE_BREAKS = word_set("but though although however whereas except")
_QUESTION_STARTS = word_set(
    """is are was were do does did have has can could would will should what who which how whats whos why"""
)

POSITIVE = word_set(
    """good great awesome amazing fantastic excellent brilliant fun funny hilarious enjoyable incredible
    perfect wonderful beautiful best favorite favourite favorites favourites classic masterpiece cool
    nice epic solid superb outstanding loved liked enjoyed love gorgeous touching underrated clever
    smart entertaining exciting thrilling sweet cute adorable spectacular phenomenal fabulous terrific
    decent genius hysterical riveting gripping legendary iconic stunning fave better greatest funniest
    scariest coolest fav favs faves"""
)
NEGATIVE = word_set(
    """bad terrible awful boring horrible overrated dumb stupid worst lame meh disappointing mediocre slow
    annoying garbage trash hated disliked weak bland predictable cheesy pointless forgettable dull
    sucked sucks crap crappy ridiculous painful confusing gross cringe cringey cringy unwatchable"""
)
_SUBJECT_PRONOUNS = word_set("it its they theyre thats")
_EVAL_VERBS = word_set("loved liked enjoyed love hated disliked")
_LIKE_VERBS = word_set("like enjoy adore adored")
# Descriptions that are no opinion, skipped when looking for one: "X was creepy but really good".
_DESCRIPTIVE = word_set(
    "creepy scary sad dark long short weird intense violent gory disturbing emotional different strange crazy"
)
_POST_FILLERS = word_set(
    """is was are were its it s so really very pretty quite just totally absolutely such a an the one of my
    all time and which that thats also has been truly kinda super honestly definitely fairly rather
    extremely incredibly i thought think found felt movie film movies films seriously actually both them
    those these they theyre ones absolute as well am personally still my our way"""
)


class PolarityResolver:
    """Polarity for spans of one message; build once per message, query per mention."""

    def __init__(self, view: MessageView) -> None:
        self.view = view
        norms = view.norms
        self._norms = norms
        self._cue_at: dict[int, tuple[int, str]] = {}  # token -> (cue end, kind), for the cue starting there
        cue_tokens = [False] * len(norms)
        for hit in _CUE_TABLE.find(norms):
            kind = hit.payload
            if (
                norms[hit.lo] == "into"
                and hit.hi - hit.lo == 1
                and (hit.lo == 0 or norms[hit.lo - 1] not in _INTO_AFTER)
            ):
                continue
            self._cue_at[hit.lo] = (hit.hi, kind)
            for j in range(hit.lo, hit.hi):
                cue_tokens[j] = True
        # Clauses: new sentence, or a contrast word that is not part of a cue ("anything but").
        self._clause: list[int] = []
        self._sentence: list[int] = []
        clause = sentence = -1
        for i, _ in enumerate(norms):
            if view.sentence_start[i]:
                sentence += 1
                clause += 1
            elif norms[i] in _CLAUSE_BREAKS and not cue_tokens[i]:
                clause += 1
            self._clause.append(clause)
            self._sentence.append(sentence)
        self._question = self._question_sentences()
        # "Is X any good?", "Did you like X?": an evaluation after the item is asked, not stated.
        self._inverted = {
            self._sentence[i] for i, w in enumerate(norms) if view.sentence_start[i] and w in _QUESTION_STARTS
        }

    def _question_sentences(self) -> set[int]:
        text, tokens = self.view.text, self.view.tokens
        questions: set[int] = set()
        for i, tok in enumerate(tokens):
            last_of_sentence = i + 1 == len(tokens) or self._sentence[i + 1] != self._sentence[i]
            if last_of_sentence:
                tail = text[tok.end : tokens[i + 1].start if i + 1 < len(tokens) else len(text)]
                if "?" in tail:
                    questions.add(self._sentence[i])
            if self.view.sentence_start[i] and tok.norm in _QUESTION_STARTS:
                nxt = self._norms[i + 1] if i + 1 < len(tokens) else ""
                if nxt in _YOU or tok.norm in {"what", "who", "whats", "whos", "which", "how"}:
                    questions.add(self._sentence[i])
        return questions

    def is_question(self, i: int) -> bool:
        return self._sentence[i] in self._question

    def _starts_with(self, i: int, word: str) -> bool:
        """Whether the sentence of token i starts with `word`, ignoring interjections ("Hmm, why ...")."""
        sentence = self._sentence[i]
        for j, w in enumerate(self._norms):
            if self._sentence[j] == sentence and w not in {"hmm", "ok", "okay", "so", "well", "oh", "but"}:
                return w == word
        return False

    def is_copula_question(self, i: int) -> bool:
        """ "Is X too scary?", "Was it long?": the sentence of token i asks about a movie's qualities."""
        return any(self._starts_with(i, w) for w in ("is", "was", "are", "were", "isnt"))

    def same_sentence(self, i: int, j: int) -> bool:
        return self._sentence[i] == self._sentence[j]

    def resolve(self, lo: int, hi: int, *, is_item: bool, others: Sequence[tuple[int, int]] = ()) -> Polarity:
        """Polarity of the mention at tokens[lo:hi]; `others` are the other mentions' spans (skipped over)."""
        if is_item and lo > 0 and self._norms[lo - 1] == "than":
            return Polarity.NEUTRAL  # "scarier than X": a yardstick, not an opinion
        if is_item and self._starts_with(lo, "why"):
            return Polarity.NEUTRAL  # "why would I like X?"
        in_other = self._mask(others, exclude=(lo, hi))
        neg = self._negated_before(lo, in_other)
        if neg is not None:
            return self._elliptic(neg, lo)
        if not (is_item and self._sentence[lo] in self._inverted):
            post = self._evaluation_after(hi, in_other)
            if post is not None:
                return post
        cue = self._cue_before(lo)
        if is_item and cue in (None, Polarity.SEEN) and self._sentence[lo] not in self._inverted:
            later = self._anaphoric(hi, in_other)
            if later is not None:
                return later
        if cue is not None:
            return cue
        return Polarity.NEUTRAL if is_item else Polarity.LIKED

    def evaluates(self, lo: int, spans: Sequence[tuple[int, int]], *, single: bool = True) -> bool:
        """Whether the phrase at `lo` evaluates one of `spans` ("X was funny": "funny" evaluates X), or
        a pronoun when the phrase is one word ("it was hilarious"; not "it's date night")."""
        clause = self._clause[lo]
        j = lo - 1
        ends = {hi for _, hi in spans}
        while j >= 0 and self._clause[j] == clause:
            if j + 1 in ends and j + 1 != lo:
                return True
            if self._norms[j] in _SUBJECT_PRONOUNS and (j < lo - 1 or self._norms[j] != "it") and single:
                # "it was hilarious", "that's funny": describes something, is no wish ("it's not gory" is)
                return not any(self._norms[k] in _VERB_NEGATORS for k in range(j + 1, lo))
            if self._norms[j] not in _POST_FILLERS and self._norms[j] not in _VERB_NEGATORS:
                return False
            j -= 1
        return j + 1 in ends and j + 1 != lo

    # -------------------------------------------------------------- the three rules
    def _mask(self, spans: Sequence[tuple[int, int]], exclude: tuple[int, int]) -> list[bool]:
        mask = [False] * len(self._norms)
        for lo, hi in spans:
            if (lo, hi) != exclude:
                for j in range(lo, hi):
                    mask[j] = True
        return mask

    def _negated_before(self, lo: int, in_other: Sequence[bool]) -> int | None:
        """Token index of a negating word governing the mention ("no horror"), if any."""
        clause = self._clause[lo]
        j = lo - 1
        while j >= 0 and self._clause[j] == clause:
            cue = self._cue_ending_at(j)
            if cue is not None and cue[1] == NEG:
                # "No, horror!" answers a question: the comma ends the negation.
                gap = self.view.text[self.view.tokens[j].end : self.view.tokens[j + 1].start]
                return None if ("," in gap and self._norms[j] == "no") else cue[0]
            if not (in_other[j] or self._norms[j] in _LEFT_FILLERS):
                return None
            j -= 1
        return None

    def _elliptic(self, neg: int, lo: int) -> Polarity:
        """ "I've seen A but not B": B is not seen (neutral); "I hate A but not B": not hated (neutral);
        "I like A but not B", "no B": disliked."""
        if self._norms[neg] == "not" and neg > 0 and self._norms[neg - 1] == "but":
            earlier = self._scan_cues(neg - 2, self._clause[neg - 2]) if neg >= 2 else None
            if earlier in (Polarity.SEEN, Polarity.DISLIKED):
                return Polarity.NEUTRAL
        return Polarity.DISLIKED

    def _evaluation_after(self, hi: int, in_other: Sequence[bool]) -> Polarity | None:
        norms = self._norms
        if hi >= len(norms) or hi == 0:
            return None
        clause = self._clause[hi - 1]
        negated = too = crossed = False
        j = hi
        while j < len(norms) and j < hi + 10:
            word = norms[j]
            if self._clause[j] != clause:
                # "X was creepy but really good": one contrast may be crossed if no other mention follows.
                rest = [k for k in range(j, len(norms)) if self._clause[k] == self._clause[j]]
                if crossed or word not in {"but", "though"} or any(in_other[k] for k in rest):
                    return None
                crossed, clause, negated, too = True, self._clause[j], False, False
                j += 1
                continue
            if word in POSITIVE or word in NEGATIVE:
                if word in _EVAL_VERBS and j + 1 < len(norms) and in_other[j + 1]:
                    return None  # "I've seen X and I hated Y": the verb is about Y
                positive = word in POSITIVE
                if too:
                    return Polarity.DISLIKED
                return Polarity.LIKED if positive != negated else Polarity.DISLIKED
            if word in _VERB_NEGATORS:
                negated = True
            elif word == "too":
                too = True
            elif too:
                return Polarity.DISLIKED  # "X was too long"
            elif not (in_other[j] or word in _POST_FILLERS or word in _DESCRIPTIVE):
                return None
            j += 1
        return None

    def _anaphoric(self, hi: int, in_other: Sequence[bool]) -> Polarity | None:
        """ "X scared me, I love it", "I watched X and it was hilarious": an opinion about "it" later in
        the sentence, with no other mention in between."""
        norms = self._norms
        sentence = self._sentence[hi - 1]
        j = hi
        while j < len(norms) and self._sentence[j] == sentence and not in_other[j]:
            word = norms[j]
            nxt = norms[j + 1] if j + 1 < len(norms) else ""
            prev = norms[j - 1] if j > 0 else ""
            as_preposition = word == "like" and prev in {"sounds", "looks", "seems", "feels", "sound", "look"}
            if word in _EVAL_VERBS | _LIKE_VERBS and nxt in {"it", "that", "them"} and not as_preposition:
                negated = self._negated_cue(j)
                positive = word in POSITIVE or word in _LIKE_VERBS
                return Polarity.LIKED if positive != negated else Polarity.DISLIKED
            if word in {"it", "its"}:
                found = self._evaluation_after(j + 1, in_other)
                if found is not None:
                    return found
            j += 1
        return None

    def _cue_ending_at(self, j: int) -> tuple[int, str] | None:
        """The cue whose last token is j, as (start, kind)."""
        for start in range(j, max(-1, j - 5), -1):
            found = self._cue_at.get(start)
            if found is not None and found[0] == j + 1:
                return start, found[1]
        return None

    def _cue_before(self, lo: int) -> Polarity | None:
        return self._scan_cues(lo - 1, self._clause[lo])

    def _scan_cues(self, j: int, clause: int) -> Polarity | None:
        """The polarity given by the nearest cue at or before token j, within `clause`."""
        while j >= 0 and self._clause[j] == clause:
            cue = self._cue_ending_at(j)
            if cue is not None and cue[1] != NEG:
                start, kind = cue
                if kind == REQUEST:
                    return Polarity.LIKED
                if self._about_you(start):
                    return Polarity.NEUTRAL
                negated = self._negated_cue(start)
                if kind == "see":
                    if negated:  # "didn't see X" -> not seen; "I'd rather not watch X" -> disliked
                        refusal = self._cue_ending_at(start - 1) if start > 0 else None
                        return Polarity.DISLIKED if refusal and refusal[1] == DISLIKE else Polarity.NEUTRAL
                    j -= 1
                    continue
                if kind == LIKE:
                    return Polarity.DISLIKED if negated else Polarity.LIKED
                if kind == DISLIKE:
                    return Polarity.LIKED if negated else Polarity.DISLIKED
                return Polarity.NEUTRAL if negated else Polarity.SEEN
            j -= 1
        return None

    def _negated_cue(self, start: int) -> bool:
        clause = self._clause[start]
        for j in range(start - 1, max(-1, start - 4), -1):
            if self._clause[j] != clause:
                return False
            if self._norms[j] in _VERB_NEGATORS or self._norms[j] == "never":
                return True
            if self._norms[j] not in _NEG_FILLERS:
                return False
        return False

    def _about_you(self, start: int) -> bool:
        for j in range(start - 1, max(-1, start - 4), -1):
            if self._norms[j] in _YOU:
                return True
            if self._norms[j] not in _YOU_FILLERS:
                return False
        return False


_CUE_TABLE: PhraseTable[str] = PhraseTable(_CUES.items())
