"""Intent rules: keyword patterns over the normalised message, combined with what was extracted.

Every intent whose evidence is present is reported (`Understanding.intents`); the primary one is the
first in this order of precedence: ask why > ask about an item > critique > goodbye > reject > accept >
request a recommendation > state a preference > (weak goodbye: "thanks for the help") > chit-chat.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from dialogue.understanding.text import MessageView, word_set
from dialogue.understanding.types import Intent, Polarity


def _any_of(*patterns: str) -> re.Pattern[str]:
    """One regex matching any of the alternatives (each a regex over the normalised, lower-case text)."""
    return re.compile("|".join(f"(?:{p})" for p in patterns))


_ASK_WHY = _any_of(
    r"^why\b(?! not\b)",
    r"\bwhy (did|do|would|are|is|that|this|those|these|them|it|you|pick|choose|chose|recommend|suggest)\b",
    r"\bwhat makes (it|that|this|you|them)\b",
    r"\bhow (is|are) (it|that|this|they|those) (similar|like|related)\b",
    r"\bwhats the connection\b|\bwhy would i like\b|\breason (for|why)\b",
)
_ASK_ABOUT = _any_of(
    r"\b(what is|whats|what was|what are) (?!up\b)(\w+ ){0,8}about\b",
    r"\bwho (is|s|are|was) in\b|\bwhos in\b",
    r"\bwho (stars|starred|directed|directs|plays|played|made|wrote|acts|is the director)\b",
    r"\btell me (more )?about\b|\bwhat (kind|type|sort|genre) of (movie|film) is\b|\bhow long is\b",
    r"\bwhen (was|did) (\w+ ){1,6}(come out|released|made)\b|\bwhat (year|genre|rating|age rating)\b",
    r"\b(the|its|whats the) (plot|synopsis|storyline|premise|trailer|runtime)\b|\bplot of\b",
    r"\bwhere can i (watch|stream|find|rent)\b",
    r"\bis (it|that|this) (on|streaming)\b|\bwhat happens in\b|\bwhats (it|that|this) (one )?(like|rated)\b",
    r"\b(is|was) (it|that|this|that one|this one) (any |really |very )?(good|similar|scary|funny|worth"
    r"|for kids|long|sad|violent|appropriate|a comedy|new|old|in english|animated|gory)\b",
    r"\bare (they|those|these) (any )?(good|similar|scary|funny|worth)\b",
)
_ASK_ABOUT_ITEM_QUESTION = _any_of(
    r"^(is|was|does|did|are|has) ",
    r"^(have|did) you (ever )?(seen|see|watch|watched|heard)\b",
)
_GOODBYE = _any_of(
    r"\b(bye|goodbye|bye bye|see (you|ya)|cya|farewell|good night|goodnight|take care|signing off)\b",
    r"\bhave a (good|great|nice|wonderful|lovely) (day|night|evening|one|weekend)\b",
    r"\b(thats all|that is all|thats it for (now|today)|that will be all|nothing else)\b",
    r"\b(im (all )?(set|done)|i am done|ill let you go|talk (to you )?later|(gotta|got to|have to) go)\b",
)
_WEAK_GOODBYE = _any_of(
    r"\bthank(s| you)( so much| very much| a lot)? for (the|your|all the|all your|all of the|all) "
    r"(help|suggestions?|recommendations?|recs|ideas|chat|time|assistance)\b",
)
_REJECT = _any_of(
    r"^(nope|nah|naw|not really|no thanks|no thank you)\b(?!.*\b(havent|have not|never|not yet)\b)",
    r"\bnot (that|this) one\b|\bnot interested\b|\bill pass\b|\bpass on (that|this|it)\b",
    r"\bsomething (else|different)\b",
    r"\b(dont|do not|didnt|did not) (really )?(like|want|love|care for) (that|this|it|those|them)\b",
    r"\bnot (for me|my thing|my type|my style|my cup of tea)\b",
    r"\b(doesnt|does not|dont) (sound|look|seem) (good|interesting|great|appealing|fun)\b",
    r"\b(sounds|looks) (boring|bad|awful|terrible|lame|dumb)\b",
)
_ACCEPT = _any_of(
    r"\b(ill|i will|im going to|im gonna|gonna|i am going to|i think ill|i definitely will|i should|i might"
    r"|i may|i must) (definitely |probably |totally |have to )?(watch|check|try|see|give|add|look|put|rent"
    r"|stream|go with|take)\b",
    r"\bsounds (good|great|awesome|perfect|interesting|fun|amazing|cool|nice|like a plan|like a good"
    r"|intriguing|promising|excellent|fantastic|lovely|right)\b",
    r"\b(that|this|it|they|those|both) (sounds|sound|looks|look|seems|seem) (really |very |pretty |so )?"
    r"(good|great|interesting|awesome|fun|amazing|cool|nice|perfect|promising|intriguing)\b",
    r"^perfect\b|\b(thats|that is|sounds|looks) perfect\b|\b(great choice|good choice|great suggestion"
    r"|good suggestion|great pick|good pick|great idea|good idea|exactly what i)\b",
    r"\byes please\b|\bthat works\b|\b(on|to) my (list|watchlist)\b|\bill take it\b|\blets go with\b",
    r"\bthats the one\b|\bwill do\b|\bi like (that|the sound of that)( one| idea)?$",
    r"\b(will|gonna) (definitely |probably )?(check|watch|try|give)\b|\bi think i will\b",
    r"\blooking forward to (seeing|watching)\b|\b(need|want|have) to (see|watch) (it|that|this|them)\b",
    r"\bwould (definitely )?watch (it|that|this|them)\b",
)
_PRONOUN_OPINION = _any_of(
    r"\b(loved|liked|love|like|enjoyed|enjoy|hated|hate|adore|adored) (it|that|that one|this one|them|both"
    r"|those)\b",
    r"\b(it|that|that one|this one|they|those) (was|is|were|are) (\w+ )?(great|good|awesome|amazing|fun|funny"
    r"|boring|bad|terrible|cute|sad|scary|excellent|fantastic)\b",
    r"\b(havent|have not|never|didnt|did not) (seen|see|watched|watch) (it|that|that one|this one|them"
    r"|either)\b",
)
_NOT_SEEN = re.compile(r"\b(havent|have not|never|not yet|didnt see|did not see)\b")
_AGREEING = word_set("yes yeah yep yup sure ok okay definitely absolutely")
_SHORT_ACCEPT = word_set(
    "yes yeah yep yup sure ok okay great awesome cool perfect thanks thank you nice sweet please definitely"
)
_REQUEST = _any_of(
    r"\b(recommend|recommendation|recommendations|recomend|reccomend|recommned|suggest|suggestion"
    r"|suggestions|recs|ideas)\b",
    r"\bwhat (should|could|can|would) (i|we) (watch|see)\b|\b(something|anything|movies?|films?) to watch\b",
    r"\blooking for\b|\bin the mood for\b",
    r"\b(i|we|id|im) (want|wanna|need|would like|d like|feel like|am looking|are looking|would love|d love"
    r"|like to see|like to watch) (to (watch|see|find) )?(something|anything|another|more|movie|movies|film"
    r"|films|to watch|watch|see)\b",
    r"\bid (like|love) (a|an|some|something|to)\b",
    r"\b(any|got any|know of any|know any|have any|do you have) (\w+ ){0,3}(movies|films|ones|comedies"
    r"|options)\b",
    r"\bwhat (are|is|s) (some|a) (good|great)\b",
    r"\b(can|could|would) you (find|give|show|help|tell me|think of|name|suggest|recommend)\b",
    r"\bhelp me (find|pick|choose)\b|\b(find|give|show) me\b|\bwhat else\b",
    r"\banother (one|option|suggestion|movie|film|idea)\b",
    r"\b(how|what) about (something|anything|a|an|some)\b",
    r"\bmore like (that|this|it)\b|\banything (like|similar|else)\b|\bsomething (like|similar|with|for)\b",
    r"\bwhich (movie|film|one) should\b|\bmovie night\b",
    r"\bwhat (movie|movies|film|films) (would|do|should|can)\b",
    r"\bany (good )?(\w+ )?(movies|films)\b",
    r"^(maybe )?(something|anything|any)\b|\bmaybe (a|an|some|something)\b",
    r"\bwould be (nice|great|perfect|good|awesome|ideal|fun)\b",
    r"\b(i|we) (want|wanna|need|would like|d like) (to )?(laugh|cry|be scared|feel good|relax|chill)\b",
)
# "I need a ...", "I'd love a good ...": a request when what follows is a movie or a kind of movie.
_WANT_A = re.compile(
    r"\b(i|we|id|im) (want|wanna|need|would like|d like|would love|d love) (a|an|some|good)\b"
)
_MOVIE_WORD = re.compile(r"\b(movie|movies|film|films|flick|flicks|one|something)\b")
# Refusing what was just recommended (only with recommendations in context: "seen them all" may be
# about Adam Sandler's movies).
_REJECT_SHOWN = _any_of(
    r"(?<!havent )(?<!never )(?<!not )(?<!didnt )\bseen (it|that|that one|this one|them|both|those"
    r"|all of them)\b",
    r"\balready (seen|watched|saw) (it|that|them|both|those|this|that one|this one)\b",
    r"\b(other|different|new) (ones|options|suggestions|picks|titles|movies|films)\b",
    r"\b(show|give) me (some )?others\b|\b(any|some) others\b|\bnone of (those|these|them)\b",
    r"\bnot (those|these|them)\b|\bnot really what i\b",
)


@dataclass(frozen=True)
class IntentEvidence:
    """What the extraction found, as far as intent rules need it."""

    polarities: Sequence[Polarity]  # of all item and attribute mentions
    n_items: int
    n_attributes: int
    has_comparative_critique: bool
    has_critique: bool
    rejected_recommendation: bool  # a recommended item mentioned as disliked or seen
    has_recommendations: bool  # the context has items recommended last turn
    item_question: bool  # an item (or a reference to one) is mentioned in a question


_MEMO_CHARS = 160  # texts up to this long are memoised (short messages repeat; the memo stays small)


def _hit(pattern: re.Pattern[str], text: str) -> bool:
    """Whether `pattern` occurs in the normalised `text`; memoised for short texts: users repeat short
    messages ("why the first one?", "something funnier"), and a turn asks a dozen patterns about one text."""
    if len(text) > _MEMO_CHARS:
        return pattern.search(text) is not None
    return _memo_hit(pattern, text)


@lru_cache(maxsize=8192)
def _memo_hit(pattern: re.Pattern[str], text: str) -> bool:
    return pattern.search(text) is not None


def _without_thanks(text: str) -> str:
    """The text with thanks and weak goodbyes blanked out ("thanks for the suggestions")."""
    return _WEAK_GOODBYE.sub(" ", text) if len(text) > _MEMO_CHARS else _memo_without_thanks(text)


@lru_cache(maxsize=2048)
def _memo_without_thanks(text: str) -> str:
    return _WEAK_GOODBYE.sub(" ", text)


def _refusal_interjection(view: MessageView) -> bool:
    """ "No, ...", "No!", "no thanks": a leading "no" that refuses, not "no horror" or "no, I haven't"."""
    norms = view.norms
    if not norms or norms[0] != "no" or _hit(_NOT_SEEN, " ".join(norms)):
        return False
    if len(norms) == 1 or norms[1] in {"thanks", "thank", "not", "i", "that", "way"}:
        return True
    gap = view.text[view.tokens[0].end : view.tokens[1].start]
    return any(c in gap for c in ",.!;:-")


def detect_intents(view: MessageView, evidence: IntentEvidence) -> tuple[Intent, ...]:
    """All intents detected, primary first (see the module docstring for the order)."""
    text = " ".join(view.norms)
    found: list[Intent] = []
    has_item_ref = evidence.n_items > 0
    if _hit(_ASK_WHY, text):
        found.append(Intent.ASK_WHY)
    if _hit(_ASK_ABOUT, text) or (
        has_item_ref and evidence.item_question and _hit(_ASK_ABOUT_ITEM_QUESTION, text)
    ):
        found.append(Intent.ASK_ABOUT_ITEM)
    if evidence.has_comparative_critique or (evidence.has_critique and evidence.has_recommendations):
        found.append(Intent.CRITIQUE)
    if _hit(_GOODBYE, text):
        found.append(Intent.GOODBYE)
    shown = evidence.has_recommendations and _hit(_REJECT_SHOWN, text)
    if _hit(_REJECT, text) or shown or _refusal_interjection(view) or evidence.rejected_recommendation:
        found.append(Intent.REJECT)
    words = text.split()
    short_ack = (
        evidence.has_recommendations and 0 < len(words) <= 4 and all(w in _SHORT_ACCEPT for w in words)
    )
    agreeing = evidence.has_recommendations and bool(words) and words[0] in _AGREEING
    if (_hit(_ACCEPT, text) or short_ack or agreeing) and Intent.REJECT not in found:
        found.append(Intent.ACCEPT)
    # "horror please" asks; "no horror please" only sets a limit
    asks = words[-1:] == ["please"] and (Polarity.LIKED in evidence.polarities or evidence.has_critique)
    wants = _hit(_WANT_A, text) and (
        evidence.n_attributes or evidence.has_critique or _hit(_MOVIE_WORD, text)
    )
    thanked = _without_thanks(text)  # "thanks for the suggestions" asks for nothing
    if _hit(_REQUEST, thanked) or asks or wants:
        found.append(Intent.REQUEST_RECOMMENDATION)
    stated = any(p is not Polarity.NEUTRAL for p in evidence.polarities) or evidence.has_critique
    if stated or evidence.n_attributes or (evidence.n_items and not found) or _hit(_PRONOUN_OPINION, text):
        found.append(Intent.STATE_PREFERENCE)
    if _hit(_WEAK_GOODBYE, text) and not found:
        found.append(Intent.GOODBYE)
    if not found:
        found.append(Intent.CHIT_CHAT)
    return tuple(found)
