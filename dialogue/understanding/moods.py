"""Moods: how people describe what they feel like watching ("something light", "feel-good", "scary but
not gory", "mind-bending", "a tearjerker", "date night"), mapped to catalog attributes and critiques.

Each MoodRule has trigger phrases (matched by rules), descriptions (matched by sentence embeddings for
wordings the rules miss, see embeddings.py), attribute slots (see genres.resolve_slots) and optionally the
critique the mood implies when wanted ("light" -> darkness less; when refused the direction flips).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from dialogue.understanding.genres import Slot, resolve_slots
from dialogue.understanding.phrases import AttributeSpan, PhraseTable
from dialogue.understanding.text import MessageView


@dataclass(frozen=True)
class MoodRule:
    name: str
    descriptions: tuple[str, ...]  # what the mood means, for embedding matching
    phrases: tuple[str, ...]
    slots: tuple[Slot, ...]
    critique: tuple[str, str] | None = None  # (dimension, direction) when the mood is wanted


MOOD_RULES: tuple[MoodRule, ...] = (
    MoodRule(
        "light",
        (
            "a light-hearted, easy, relaxing movie that does not need much thought",
            "mindless, easy popcorn fun for a lazy evening",
        ),
        (
            "something light",
            "anything light",
            "light movie",
            "light movies",
            "light film",
            "light hearted",
            "lighthearted",
            "light and fun",
            "fun and light",
            "easy watch",
            "easy watching",
            "easy to watch",
            "popcorn movie",
            "popcorn flick",
            "something fun",
            "fun movie",
            "fun movies",
            "cozy",
            "relaxing",
            "chill",
        ),
        (("genre:comedy",), ("genre:family", "genre:children"), ("genre:animation",)),
        ("darkness", "less"),
    ),
    MoodRule(
        "heavy",
        ("a serious, heavy, deep drama", "a weighty, profound, serious film"),
        (
            "heavy",
            "something heavy",
            "something serious",
            "serious movie",
            "serious drama",
            "something deep",
            "deep movie",
        ),
        (("genre:drama",),),
        ("darkness", "more"),
    ),
    MoodRule(
        "feel-good",
        (
            "an uplifting, heartwarming, happy feel-good movie",
            "a hopeful, joyful movie that leaves you smiling",
        ),
        (
            "feel good",
            "feelgood",
            "uplifting",
            "heartwarming",
            "heart warming",
            "wholesome",
            "happy",
            "cheerful",
            "upbeat",
            "cheer me up",
            "good mood",
            "make me smile",
            "happy movie",
            "something happy",
            "happy ending",
        ),
        (("tag:feel-good", "tag:feel good", "genre:comedy"), ("genre:comedy",)),
        ("darkness", "less"),
    ),
    MoodRule(
        "scary",
        (
            "a scary, creepy, frightening horror movie",
            "a terrifying movie that gives you nightmares and chills down the spine",
        ),
        (
            "scary",
            "scare",
            "scares",
            "frightening",
            "terrifying",
            "creepy",
            "spooky",
            "horrifying",
            "chilling",
            "scary movies",
            "scary movie",
            "scary films",
            "scare me",
            "keep me up at night",
        ),
        (("genre:horror",),),
    ),
    MoodRule(
        "gory",
        ("a gory, bloody, gruesome movie with lots of gore", "a blood-soaked splatter movie"),
        ("gory", "gore", "bloody", "gruesome", "splatter", "blood and guts"),
        (("tag:gore", "tag:gory", "tag:violent", "tag:violence"),),
        ("violence", "more"),
    ),
    MoodRule(
        "violent",
        ("a brutal, violent movie", "a savage movie full of fights and killing"),
        ("violent", "violence", "brutal"),
        (("tag:violent", "tag:violence", "tag:gore"),),
        ("violence", "more"),
    ),
    MoodRule(
        "mind-bending",
        (
            "a mind-bending, thought-provoking, cerebral movie that makes you think",
            "a smart, intelligent, brainy puzzle of a movie",
        ),
        (
            "mind bending",
            "mindbending",
            "mind blowing",
            "mindblowing",
            "mind fuck",
            "trippy",
            "thought provoking",
            "makes you think",
            "make me think",
            "cerebral",
            "brain teaser",
            "complex plot",
        ),
        (("tag:mind-bending", "tag:thought-provoking", "tag:cerebral", "genre:sci-fi"),),
    ),
    MoodRule(
        "twist",
        (
            "a movie with a big plot twist and a surprise ending",
            "a movie with an unexpected ending you never see coming",
        ),
        ("twist", "twists", "plot twist", "plot twists", "twist ending", "twisty", "surprise ending"),
        (("tag:twist ending", "tag:plot twist", "genre:mystery"),),
    ),
    MoodRule(
        "tearjerker",
        ("a sad, emotional tearjerker that makes you cry", "a heartbreaking, moving, gut-wrenching story"),
        (
            "tearjerker",
            "tear jerker",
            "tearjerkers",
            "make me cry",
            "makes you cry",
            "something sad",
            "sad movie",
            "sad movies",
            "sad ending",
            "emotional",
            "bring tissues",
        ),
        (("tag:tearjerker", "tag:sad", "genre:drama"), ("genre:drama",)),
    ),
    MoodRule(
        "date night",
        (
            "a romantic movie to watch on a date night with a partner",
            "a movie for a romantic evening as a couple",
        ),
        (
            "date night",
            "date movie",
            "for a date",
            "on a date",
            "date with my girlfriend",
            "date with my boyfriend",
            "with my girlfriend",
            "with my boyfriend",
            "with my wife",
            "with my husband",
        ),
        (("genre:romance",), ("genre:comedy",)),
    ),
    MoodRule(
        "funny",
        ("a funny, hilarious comedy that makes you laugh", "a witty, silly comedy full of jokes"),
        (
            "funny",
            "hilarious",
            "laugh",
            "make me laugh",
            "comedic",
            "silly",
            "goofy",
            "humor",
            "humour",
            "humorous",
            "laughs",
            "lol funny",
            "witty",
        ),
        (("genre:comedy",),),
    ),
    MoodRule(
        "exciting",
        (
            "an exciting, action-packed movie full of adrenaline and explosions",
            "a fast, thrilling, high-octane action ride",
        ),
        ("action packed", "exciting", "thrilling", "adrenaline", "explosions", "fast paced", "high octane"),
        (("genre:action",),),
    ),
    MoodRule(
        "suspense",
        (
            "a tense, suspenseful movie that keeps you on the edge of your seat",
            "a nerve-wracking, gripping thriller",
        ),
        (
            "suspense",
            "suspenseful",
            "tense",
            "edge of my seat",
            "edge of your seat",
            "nail biting",
            "gripping",
        ),
        (("genre:thriller",),),
    ),
    MoodRule(
        "family",
        (
            "a family-friendly movie to watch with the kids",
            "a wholesome movie children and parents can enjoy together",
        ),
        (
            "with my kids",
            "with the kids",
            "for my kids",
            "for the kids",
            "with my family",
            "whole family",
            "family night",
            "my son",
            "my daughter",
            "my children",
            "kid friendly",
            "family friendly",
        ),
        (("genre:children", "genre:family"),),
    ),
    MoodRule(
        "dark",
        ("a dark, gritty, bleak and disturbing movie", "a grim, depressing, nihilistic film"),
        ("dark", "gritty", "bleak", "grim", "disturbing", "depressing", "dark movies", "twisted"),
        (("tag:dark", "tag:disturbing", "tag:gritty"),),
        ("darkness", "more"),
    ),
    MoodRule(
        "true story",
        ("a movie based on a true story about real events", "a biographical film about real people"),
        ("true story", "true stories", "based on a true story", "real events", "real story", "based on real"),
        (("tag:based on a true story", "tag:true story", "genre:biography", "genre:drama"),),
    ),
    MoodRule(
        "inspiring",
        ("an inspiring, motivational movie about overcoming odds", "an underdog story that lifts you up"),
        ("inspiring", "inspirational", "motivational", "motivating"),
        (("tag:inspirational", "tag:inspiring", "genre:drama"),),
    ),
    MoodRule(
        "epic",
        ("an epic, grand adventure on a big scale", "a sweeping, spectacular saga"),
        ("epic", "epics", "grand adventure", "sweeping"),
        (("tag:epic", "genre:adventure"),),
    ),
    MoodRule(
        "quirky",
        ("a quirky, offbeat, whimsical indie movie", "a weird, surreal, eccentric film"),
        ("quirky", "offbeat", "whimsical", "weird movies", "something weird", "indie", "off beat"),
        (("tag:quirky", "tag:offbeat", "genre:comedy"), ("genre:comedy",)),
    ),
    MoodRule(
        "romantic",
        ("a romantic love story", "a heartfelt movie about falling in love"),
        ("romantic", "love story", "love stories", "swoon", "sappy"),
        (("genre:romance",),),
    ),
)


class MoodMatcher:
    """Rule matcher for mood phrases; resolves each mood's slots against the catalog vocabulary once."""

    def __init__(self, vocabulary: Collection[str], rules: Sequence[MoodRule] = MOOD_RULES) -> None:
        self.rules = tuple(rules)
        self._resolved = {r.name: resolve_slots(r.slots, vocabulary) for r in self.rules}
        self._table: PhraseTable[MoodRule] = PhraseTable()
        for rule in self.rules:
            for phrase in rule.phrases:
                self._table.add(phrase, rule, overwrite=False)

    def words(self) -> set[str]:
        """Every word of every mood phrase."""
        return {w for phrase in self._table.phrases() for w in phrase}

    def span(self, rule: MoodRule, lo: int, hi: int, score: float = 1.0) -> AttributeSpan:
        """The attribute span a mood produces over tokens[lo:hi]."""
        return AttributeSpan(lo, hi, self._resolved[rule.name], score, rule.name, rule.critique)

    def find(self, view: MessageView, taken: Sequence[bool]) -> list[AttributeSpan]:
        return [self.span(h.payload, h.lo, h.hi) for h in self._table.find(view.norms, taken)]
