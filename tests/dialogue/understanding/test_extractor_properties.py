"""Property-based tests (hypothesis) of the rule extractor: for any text and any dialogue context, no
exception escapes (a blank or over-long message is the one documented ValidationError), and everything
reported points into the message and into the catalog."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dialogue.understanding import DialogueContext, RuleExtractor, Understanding
from recsys.catalog.types import Catalog, CatalogItem
from recsys.errors import ValidationError
from recsys.models.types import ATTRIBUTE_KINDS

# Titles that stress the title gate: function words, common words, digits, punctuation, accents, articles.
TITLES = [
    ("It", 2017, ("horror",), "Andy Muschietti", "Bill Skarsgard"),
    ("Up", 2009, ("animation",), "Pete Docter", "Ed Asner"),
    ("Her", 2013, ("romance", "sci-fi"), "Spike Jonze", "Joaquin Phoenix"),
    ("Heat", 1995, ("crime",), "Michael Mann", "Al Pacino"),
    ("Love", 2015, ("drama",), "Gaspar Noe", "Karl Glusman"),
    ("1917", 2019, ("war",), "Sam Mendes", "George MacKay"),
    ("What If", 2013, ("comedy", "romance"), "Michael Dowse", "Daniel Radcliffe"),
    ("Matrix, The", 1999, ("sci-fi", "action"), "Lana Wachowski", "Keanu Reeves"),
    ("Alien", 1979, ("sci-fi", "horror"), "Ridley Scott", "Sigourney Weaver"),
    ("Se7en", 1995, ("crime", "thriller"), "David Fincher", "Morgan Freeman"),
    ("M*A*S*H", 1970, ("comedy", "war"), "Robert Altman", "Donald Sutherland"),
    ("Amélie", 2001, ("comedy", "romance"), "Jean-Pierre Jeunet", "Audrey Tautou"),
    ("Spider-Man 2", 2004, ("action",), "Sam Raimi", "Tobey Maguire"),
    ("Rocky II", 1979, ("drama",), "Sylvester Stallone", "Sylvester Stallone"),
    ("Star Wars: Episode IV - A New Hope", 1977, ("sci-fi",), "George Lucas", "Mark Hamill"),
    ("Morgan", 2016, ("horror",), "Luke Scott", "Kate Mara"),
    ("Heat", 1986, ("action",), "Dick Richards", "Burt Reynolds"),
    ("The", 2001, ("drama",), "Nobody Known", "Some One"),
]
CHAT = """I i loved hated liked like not but more less funnier scarier the a movie movies film called seen
    watched it was is great awful something similar to horror comedy sci-fi romance 90s 1990s from first one
    second last that this those no yes please Keanu Reeves Ridley Scott by with without than too long violent
    dark light @ @12 @999999 " ' ( ) , . ! ? : ; - ... 1995 (1995) 2019"""
WORDS = sorted({w for t, *_ in TITLES for w in t.replace(",", " ").split()} | set(CHAT.split()))
N_ITEMS = len(TITLES)


@pytest.fixture(scope="module")
def extractor() -> RuleExtractor:
    items = [
        CatalogItem(
            item_id=i,
            title=t,
            year=y,
            genres=g,
            directors=(d,),
            stars=(s,),
            popularity=float(100 - 3 * i),
            redial_id=12 if i == 0 else None,
        )
        for i, (t, y, g, d, s) in enumerate(TITLES)
    ]
    return RuleExtractor(Catalog(items), use_embeddings=False, max_chars=400)


texts = st.one_of(
    st.text(max_size=120),
    st.lists(
        st.tuples(st.sampled_from(WORDS), st.sampled_from([" ", " ", "", ", ", ". ", "\n", "'", '"', "-"])),
        max_size=25,
    ).map(lambda parts: "".join(w + sep for w, sep in parts)),
    st.lists(st.sampled_from(WORDS), max_size=30).map(lambda ws: " ".join(w.upper() for w in ws)),
    st.lists(st.sampled_from(WORDS), max_size=30).map(lambda ws: " ".join(w.title() for w in ws)),
)
contexts = st.builds(
    DialogueContext,
    last_recommended=st.lists(st.integers(0, N_ITEMS - 1), max_size=6, unique=True).map(tuple),
    last_question_kind=st.sampled_from([None, "item", "genre", "director", "star", "person", "decade"]),
)


def check(u: Understanding, text: str, extractor: RuleExtractor) -> None:
    vocabulary = extractor.attributes.vocabulary
    assert u.text == text and u.intent in u.intents
    for m in u.items:
        assert text[m.start : m.end] == m.surface
        if m.source == "at_id":
            assert m.redial_id is not None and (m.item_id is None or 0 <= m.item_id < N_ITEMS)
        else:
            assert m.item_id is not None and 0 <= m.item_id < N_ITEMS
        assert 0 <= m.score <= 1.0 + 1e-9
    assert len({(m.item_id, m.redial_id) for m in u.items}) == len(u.items)  # one mention per movie
    for a in u.attributes:
        assert text[a.start : a.end] == a.surface
        kind, _, value = a.attribute.partition(":")
        assert kind in ATTRIBUTE_KINDS and value and value == value.strip()
        if a.known:
            assert a.attribute in vocabulary or kind == "decade"
    for c in u.critiques:
        assert c.direction in ("more", "less", "same", "different")
        assert c.reference_item is None or 0 <= c.reference_item < N_ITEMS
        assert text[c.start : c.end] == c.surface


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=texts, context=contexts)
@example(text="It", context=DialogueContext(last_question_kind="item"))
@example(text="'", context=DialogueContext())
@example(text="I loved heat (1995) and heat 1986", context=DialogueContext(last_recommended=(3, 16)))
@example(text="the", context=DialogueContext(last_question_kind="item"))
@example(text="@12 @999999 like @12 but funnier", context=DialogueContext())
def test_no_exception_escapes_and_outputs_point_into_the_catalog(
    extractor: RuleExtractor, text: str, context: DialogueContext
) -> None:
    try:
        u = extractor.extract(text, context)
    except ValidationError as exc:
        assert not text.strip() or len(text) > extractor.max_chars, exc
        return
    check(u, text, extractor)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=texts, context=contexts)
def test_extraction_is_deterministic(extractor: RuleExtractor, text: str, context: DialogueContext) -> None:
    if not text.strip():
        return
    assert extractor.extract(text, context) == extractor.extract(text, context)
