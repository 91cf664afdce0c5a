"""Title search over the catalog for GET /v1/items?q=..., with the dialogue's own title matcher.

A query is matched three ways, best first:
1. exact: the normalised title ("the matrix", "matrix", "Matrix, The (1999)"; a year narrows it);
2. mention: the dialogue's `TitleIndex.find` on the query as a message (typos: "godfahter"; parts of
   titles: "a new hope"; roman numerals: "rocky 2") - the same matcher that reads chat messages;
3. fuzzy: rapidfuzz WRatio against every normalised title (partial input: "matr", "lord of the rin");
   a query shorter than 4 characters only matches titles with a word that begins with it ("al" -> Alien).
Ties are broken by popularity, then by item id, so results are deterministic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from dialogue.understanding.text import MessageView, title_tokens
from dialogue.understanding.titles import TitleIndex
from recsys.catalog.types import Catalog

FUZZY_CUTOFF = 70.0
MIN_FUZZY_CHARS = 4  # shorter queries only match title words they begin
SHORT_PREFIX_SCORE = 0.6
_YEAR_RE = re.compile(r"\(?\b((?:18|19|20)\d{2})\)?\s*$")
_RANK = {"exact": 0, "mention": 1, "fuzzy": 2}


@dataclass(frozen=True)
class SearchHit:
    item_id: int
    score: float  # 0..1
    match: str  # "exact", "mention" or "fuzzy"


class ItemSearch:
    """Search the catalog's titles (build once per catalog; thread-safe to query)."""

    def __init__(self, catalog: Catalog, titles: TitleIndex | None = None) -> None:
        self.catalog = catalog
        self.titles = titles if titles is not None else TitleIndex(catalog)
        self._choices = [" ".join(title_tokens(item.title)) for item in catalog]
        self._popularity = [float(item.popularity) for item in catalog]
        self.by_popularity = sorted(range(len(catalog)), key=lambda i: (-self._popularity[i], i))

    def search(self, query: str) -> list[SearchHit]:
        """Every item matching `query`, best first."""
        text = query.strip()
        if not text:
            return []
        year = None
        m = _YEAR_RE.search(text)
        if m and m.start() > 0:
            year, text = int(m.group(1)), text[: m.start()].strip()
        hits: dict[int, SearchHit] = {}

        def add(item_id: int, score: float, kind: str) -> None:
            if year is not None and self.catalog[item_id].year not in (None, year, year - 1, year + 1):
                return
            old = hits.get(item_id)
            if old is None or (_RANK[kind], -score) < (_RANK[old.match], -old.score):
                hits[item_id] = SearchHit(item_id, round(min(score, 1.0), 4), kind)

        for item_id in self.titles.lookup(" ".join(title_tokens(text))):
            add(item_id, 1.0, "exact")
        for match in self.titles.find(MessageView.of(query), relaxed=True):
            for item_id in (match.item_id, *match.alternatives):
                add(item_id, match.score, "mention")
        normalized = " ".join(title_tokens(text))
        if len(normalized) >= MIN_FUZZY_CHARS:
            for _, score, item_id in process.extract(
                normalized, self._choices, scorer=fuzz.WRatio, score_cutoff=FUZZY_CUTOFF, limit=None
            ):
                add(int(item_id), score / 100.0, "fuzzy")
        elif normalized:  # too short to be fuzzy about: titles with a word starting with it
            for item_id, choice in enumerate(self._choices):
                if any(word.startswith(normalized) for word in choice.split()):
                    add(item_id, SHORT_PREFIX_SCORE, "fuzzy")
        return sorted(
            hits.values(),
            key=lambda h: (_RANK[h.match], -h.score, -self._popularity[h.item_id], h.item_id),
        )
