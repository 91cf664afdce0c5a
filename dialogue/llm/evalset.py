"""A small fixed catalog, 30 explanation cases and 8 profile cases, to measure the LLM features
reproducibly.

The catalog holds 24 well-known films with their real genres, directors, stars and a one-line plot, chosen
so that people recur across films (Tom Hanks, Christopher Nolan, Amy Adams...) and some titles are
everyday words ("Up", "It", "Her", "Heat"): both are what the guard must get right. Used by the tests and
by scripts/bench_llm.py (share of LLM explanations that pass the guard).
"""

from __future__ import annotations

from dataclasses import dataclass

from dialogue.llm.facts import ExplanationFacts
from dialogue.llm.profile_text import TypedPreferences
from recsys.catalog.types import Catalog, CatalogItem

# title, year, genres, directors, stars, tags, plot
_Film = tuple[str, int, tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...], str]
_FILMS: tuple[_Film, ...] = (
    ("Inception", 2010, ("sci-fi", "action", "thriller"), ("Christopher Nolan",),
     ("Leonardo DiCaprio", "Joseph Gordon-Levitt", "Elliot Page"), ("mind-bending", "dreams"),
     "A thief who steals corporate secrets through dream-sharing technology is asked to plant an idea "
     "into the mind of an heir."),
    ("Interstellar", 2014, ("sci-fi", "drama", "adventure"), ("Christopher Nolan",),
     ("Matthew McConaughey", "Anne Hathaway", "Jessica Chastain"), ("space", "time travel"),
     "A team of explorers travels through a wormhole in space to find a new home for humanity."),
    ("The Prestige", 2006, ("drama", "mystery", "sci-fi"), ("Christopher Nolan",),
     ("Hugh Jackman", "Christian Bale", "Michael Caine"), ("twist ending", "magic"),
     "Two rival stage magicians sacrifice everything in a battle to create the ultimate illusion."),
    ("Arrival", 2016, ("sci-fi", "drama", "mystery"), ("Denis Villeneuve",),
     ("Amy Adams", "Jeremy Renner", "Forest Whitaker"), ("slow-burn", "aliens"),
     "A linguist works with the military to communicate with aliens after mysterious spacecraft land."),
    ("Blade Runner 2049", 2017, ("sci-fi", "drama", "thriller"), ("Denis Villeneuve",),
     ("Ryan Gosling", "Harrison Ford", "Ana de Armas"), ("slow-burn", "dystopia"),
     "A young replicant hunter uncovers a long-buried secret and tracks down a missing former hunter."),
    ("Sicario", 2015, ("action", "crime", "drama"), ("Denis Villeneuve",),
     ("Emily Blunt", "Josh Brolin", "Benicio Del Toro"), ("tense", "cartel"),
     "An idealistic FBI agent joins a task force fighting a drug cartel on the US-Mexico border."),
    ("Toy Story", 1995, ("animation", "comedy", "family"), ("John Lasseter",),
     ("Tom Hanks", "Tim Allen", "Don Rickles"), ("pixar", "toys"),
     "A cowboy doll feels threatened when a new spaceman action figure becomes the favourite toy."),
    ("Forrest Gump", 1994, ("drama", "romance"), ("Robert Zemeckis",),
     ("Tom Hanks", "Robin Wright", "Gary Sinise"), ("heartwarming",),
     "A kind man with a low IQ witnesses and influences decades of American history."),
    ("Cast Away", 2000, ("adventure", "drama"), ("Robert Zemeckis",), ("Tom Hanks", "Helen Hunt"),
     ("survival", "island"),
     "A courier stranded on a deserted island after a plane crash must learn to survive alone."),
    ("Back to the Future", 1985, ("adventure", "comedy", "sci-fi"), ("Robert Zemeckis",),
     ("Michael J. Fox", "Christopher Lloyd", "Lea Thompson"), ("time travel", "feel-good"),
     "A teenager is sent thirty years into the past in a time machine built by an eccentric scientist."),
    ("The Shining", 1980, ("drama", "horror"), ("Stanley Kubrick",), ("Jack Nicholson", "Shelley Duvall"),
     ("gore", "psychological"),
     "A writer taking care of an isolated hotel over the winter descends into violent madness."),
    ("Alien", 1979, ("horror", "sci-fi"), ("Ridley Scott",),
     ("Sigourney Weaver", "Tom Skerritt", "John Hurt"),
     ("space", "creature"),
     "The crew of a commercial spaceship is hunted by a deadly creature after answering a distress call."),
    ("Get Out", 2017, ("horror", "mystery", "thriller"), ("Jordan Peele",),
     ("Daniel Kaluuya", "Allison Williams"), ("satire", "twist ending"),
     "A young man visits his girlfriend's family estate and uncovers a disturbing secret."),
    ("Amélie", 2001, ("comedy", "romance"), ("Jean-Pierre Jeunet",), ("Audrey Tautou", "Mathieu Kassovitz"),
     ("whimsical", "paris"),
     "A shy waitress in Paris decides to change the lives of the people around her for the better."),
    ("Spirited Away", 2001, ("animation", "adventure", "family", "fantasy"), ("Hayao Miyazaki",),
     ("Rumi Hiiragi", "Miyu Irino"), ("anime", "whimsical"),
     "A girl wanders into a world of spirits and must work in a bathhouse to free her parents."),
    ("The Grand Budapest Hotel", 2014, ("adventure", "comedy", "crime"), ("Wes Anderson",),
     ("Ralph Fiennes", "Tony Revolori", "Saoirse Ronan"), ("quirky", "whimsical"),
     "A legendary hotel concierge and his lobby boy are caught up in the theft of a priceless painting."),
    ("Heat", 1995, ("action", "crime", "drama"), ("Michael Mann",),
     ("Al Pacino", "Robert De Niro", "Val Kilmer"),
     ("heist", "tense"),
     "A detective hunts a team of professional bank robbers led by a meticulous thief."),
    ("Up", 2009, ("animation", "adventure", "comedy"), ("Pete Docter",), ("Ed Asner", "Jordan Nagai"),
     ("pixar", "heartwarming"),
     "An old widower ties thousands of balloons to his house and flies away, with a young scout aboard."),
    ("It", 2017, ("horror",), ("Andy Muschietti",), ("Bill Skarsgard", "Jaeden Martell"), ("gore", "clown"),
     "A group of bullied kids band together to fight a shape-shifting monster that hunts children."),
    ("Her", 2013, ("drama", "romance", "sci-fi"), ("Spike Jonze",),
     ("Joaquin Phoenix", "Scarlett Johansson", "Amy Adams"), ("lonely", "artificial intelligence"),
     "A lonely writer develops an unlikely relationship with an operating system."),
    ("Titanic", 1997, ("drama", "romance"), ("James Cameron",), ("Leonardo DiCaprio", "Kate Winslet"),
     ("epic", "shipwreck"),
     "A young aristocrat falls in love with a poor artist aboard an ill-fated ocean liner."),
    ("The Matrix", 1999, ("action", "sci-fi"), ("Lana Wachowski", "Lilly Wachowski"),
     ("Keanu Reeves", "Laurence Fishburne", "Carrie-Anne Moss"), ("mind-bending", "dystopia"),
     "A hacker learns that the world he lives in is a simulation and joins a rebellion against machines."),
    ("Mad Max: Fury Road", 2015, ("action", "adventure", "sci-fi"), ("George Miller",),
     ("Tom Hardy", "Charlize Theron"), ("dystopia", "chase"),
     "In a desert wasteland, a drifter and a rebel warrior flee a tyrant across the desert in a war rig."),
    ("The Dark Knight", 2008, ("action", "crime", "drama"), ("Christopher Nolan",),
     ("Christian Bale", "Heath Ledger", "Aaron Eckhart"), ("superhero", "dark"),
     "Batman faces the Joker, a criminal mastermind who plunges Gotham City into chaos."),
)  # fmt: skip


def eval_catalog() -> Catalog:
    """The 24-film catalog (ids 0..23 in the order above)."""
    return Catalog(
        [
            CatalogItem(i, title, year, genres, directors, (), stars, tags, plot)
            for i, (title, year, genres, directors, stars, tags, plot) in enumerate(_FILMS)
        ]
    )


@dataclass(frozen=True)
class ExplanationCase:
    """One explanation to write: the item, what the user liked, their profile text, the generator path."""

    item: str
    liked: tuple[str, ...]
    profile: str
    liked_attributes: tuple[str, ...] = ()
    path: tuple[tuple[str, object], ...] = ()


_CASES = (
    ExplanationCase("Inception", ("Interstellar",), "Loves clever sci-fi and Christopher Nolan.",
                    path=(("generator", "ppr"), ("via", ("director:christopher nolan",)))),
    ExplanationCase("The Prestige", ("Inception", "The Dark Knight"), "Big Nolan fan; likes twists."),
    ExplanationCase("Arrival", ("Interstellar",), "Loves slow-burn sci-fi; finds gore off-putting.",
                    ("tag:slow-burn",)),
    ExplanationCase("Blade Runner 2049", ("Arrival",), "Enjoys moody, slow-burn science fiction.",
                    path=(("generator", "ppr"), ("via", ("director:denis villeneuve",)))),
    ExplanationCase("Sicario", ("Heat",), "Likes tense crime thrillers.", ("genre:crime",)),
    ExplanationCase("Toy Story", ("Up",), "Watches animated films with the kids.", ("genre:animation",)),
    ExplanationCase("Forrest Gump", ("Cast Away",), "Loves Tom Hanks and heartwarming dramas.",
                    ("star:tom hanks",)),
    ExplanationCase("Cast Away", ("Forrest Gump",), "A Tom Hanks fan who likes survival stories."),
    ExplanationCase("Back to the Future", ("Interstellar",), "Likes time travel and feel-good adventure."),
    ExplanationCase("The Shining", ("Get Out",), "Horror fan who likes psychological scares.",
                    ("genre:horror",)),
    ExplanationCase("Alien", ("The Shining",), "Loves horror in space.", path=(("generator", "ease"),)),
    ExplanationCase("Get Out", ("The Shining",), "Wants smart horror with a twist."),
    ExplanationCase("Amélie", ("The Grand Budapest Hotel",), "Loves whimsical, quirky comedies.",
                    ("tag:whimsical",)),
    ExplanationCase("Spirited Away", ("Up", "Toy Story"), "Enjoys animated fantasy; no horror.",
                    ("genre:animation",)),
    ExplanationCase("The Grand Budapest Hotel", ("Amélie",), "Likes quirky comedies with style."),
    ExplanationCase("Heat", ("Sicario",), "Enjoys tense crime dramas with great actors."),
    ExplanationCase("Up", ("Toy Story",), "Wants a heartwarming family film.", ("genre:family",)),
    ExplanationCase("It", ("The Shining",), "Loves horror, the scarier the better.", ("genre:horror",)),
    ExplanationCase("Her", ("Arrival",), "Likes thoughtful sci-fi romance.", path=(("generator", "als"),)),
    ExplanationCase("Titanic", ("Forrest Gump",), "Loves big romantic dramas."),
    ExplanationCase("The Matrix", ("Inception",), "Loves mind-bending action sci-fi.", ("tag:mind-bending",)),
    ExplanationCase("Mad Max: Fury Road", ("The Matrix",), "Wants non-stop action."),
    ExplanationCase("The Dark Knight", ("Inception",), "Christopher Nolan fan.",
                    ("director:christopher nolan",)),
    ExplanationCase("Interstellar", ("Arrival",), "Loves space and emotional sci-fi."),
    ExplanationCase("Inception", ("The Matrix",), "Likes action with big ideas.",
                    path=(("generator", "lightgcn"),)),
    ExplanationCase("Arrival", ("Her",), "Amy Adams fan; likes quiet dramas.", ("star:amy adams",)),
    ExplanationCase("Toy Story", ("Forrest Gump",), "Tom Hanks fan who also likes comedy.",
                    ("star:tom hanks",)),
    ExplanationCase("Heat", (), "Wants a classic 90s crime film.", ("genre:crime", "decade:1990s")),
    ExplanationCase("Her", ("Amélie",), "Likes offbeat love stories.", ("genre:romance",)),
    ExplanationCase("Up", (), "Just wants something popular.", path=(("generator", "popularity"),)),
)  # fmt: skip


def explanation_cases(catalog: Catalog | None = None) -> list[tuple[ExplanationFacts, str]]:
    """The 30 cases as (facts, profile text), built against `eval_catalog()`."""
    catalog = catalog or eval_catalog()
    by_title = {item.title: item for item in catalog}
    cases = []
    for case in _CASES:
        facts = ExplanationFacts.build(
            by_title[case.item],
            liked_items=[by_title[t] for t in case.liked],
            liked_attributes=case.liked_attributes,
            path=dict(case.path),
        )
        cases.append((facts, case.profile))
    return cases


def profile_cases(catalog: Catalog | None = None) -> list[TypedPreferences]:
    """Eight typed preference sets (with the user's own words) for the profile writer."""
    catalog = catalog or eval_catalog()
    t = {item.title: item for item in catalog}
    return [
        TypedPreferences(
            liked_items=(t["Arrival"], t["Interstellar"]),
            disliked_items=(t["It"],),
            liked_attributes=("tag:slow-burn", "genre:sci-fi", "director:denis villeneuve"),
            disliked_attributes=("tag:gore",),
            utterances=("I loved Arrival", "nothing gory please"),
        ),
        TypedPreferences(
            liked_items=(t["Forrest Gump"], t["Cast Away"]),
            liked_attributes=("star:tom hanks",),
            utterances=("Tom Hanks is the best",),
        ),
        TypedPreferences(
            liked_items=(t["Up"], t["Toy Story"]),
            disliked_attributes=("genre:horror",),
            utterances=("something for the kids, no horror",),
        ),
        TypedPreferences(
            liked_items=(t["Heat"], t["Sicario"]),
            liked_attributes=("genre:crime",),
            disliked_attributes=("genre:romance",),
            utterances=("tense crime please", "not a romance"),
        ),
        TypedPreferences(
            liked_items=(t["Amélie"],), liked_attributes=("tag:whimsical",), utterances=("whimsical stuff",)
        ),
        TypedPreferences(
            liked_items=(t["The Dark Knight"], t["Inception"]),
            liked_attributes=("director:christopher nolan",),
            utterances=("anything by Nolan",),
        ),
        TypedPreferences(
            disliked_attributes=("genre:horror", "tag:gore"), utterances=("I scare easily, nothing bloody",)
        ),
        TypedPreferences(
            liked_items=(t["Titanic"],),
            liked_attributes=("genre:romance", "decade:1990s"),
            disliked_attributes=("genre:action",),
            utterances=("a big 90s love story", "no action please"),
        ),
    ]
