"""The facts that justify a recommendation, derived from typed data only (never from model output).

An item's attributes use the project's "kind:value" names (genre:sci-fi, director:christopher nolan,
decade:2010s). `ExplanationFacts.build` keeps only facts the item really has: an attribute it shares with
the user's liked items or liked attributes, and the generator path that proposed it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from recsys.catalog.types import CatalogItem

PERSON_KINDS = ("director", "writer", "star")
_ROLE_WORDS = {"director": "directed by", "writer": "written by", "star": "starring"}


def item_attributes(item: CatalogItem) -> dict[str, str]:
    """The item's attribute names ("kind:value", lower-case) -> display value ("Christopher Nolan")."""
    attrs: dict[str, str] = {}
    for genre in item.genres:
        attrs[f"genre:{genre.lower()}"] = genre
    for kind, people in (("director", item.directors), ("writer", item.writers), ("star", item.stars)):
        for person in people:
            attrs.setdefault(f"{kind}:{person.lower()}", person)
    for tag in item.tags:
        attrs.setdefault(f"tag:{tag.lower()}", tag)
    if item.year:
        decade = f"{item.year // 10 * 10}s"
        attrs[f"decade:{decade}"] = decade
    return attrs


def main_generator(provenance: Mapping[str, Any]) -> str | None:
    """The generator that ranked an item best in a fused list's provenance (name -> Trace(score, rank))."""
    if not provenance:
        return None
    return min(provenance, key=lambda name: (getattr(provenance[name], "rank", 0), name))


@dataclass(frozen=True)
class Reason:
    """One fact linking the item to the user: an attribute and the liked items that share it."""

    attribute: str  # "director:christopher nolan"
    display: str  # "Christopher Nolan"
    liked_titles: tuple[str, ...] = ()  # liked items that have it too
    origin: str = "shared"  # "shared" (liked items have it), "liked" (a liked attribute), "path" (generator)

    @property
    def kind(self) -> str:
        return self.attribute.split(":", 1)[0]

    def phrase(self) -> str:
        """ "directed by Christopher Nolan", "sci-fi", "tagged 'dark'", "from the 2010s"."""
        if self.kind in _ROLE_WORDS:
            return f"{_ROLE_WORDS[self.kind]} {self.display}"
        if self.kind == "tag":
            return f"tagged '{self.display}'"
        if self.kind == "decade":
            return f"from the {self.display}"
        return self.display


@dataclass(frozen=True)
class ExplanationFacts:
    """Why `item` is recommended: reasons (shared attributes), the generator path, the user's liked items."""

    item: CatalogItem
    reasons: tuple[Reason, ...] = ()
    generator: str | None = None
    via_items: tuple[CatalogItem, ...] = ()  # liked items on the path that proposed it
    liked_items: tuple[CatalogItem, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        item: CatalogItem,
        *,
        liked_items: Sequence[CatalogItem] = (),
        liked_attributes: Iterable[str] = (),
        path: Mapping[str, Any] | None = None,
        max_reasons: int = 4,
    ) -> ExplanationFacts:
        """Facts from typed data. `path` is a generator's provenance, e.g. {"generator": "ppr", "via":
        ["director:christopher nolan", "item:12"]}; "via" attributes the item lacks and items that are not
        among `liked_items` are ignored, so every fact kept is true of the item."""
        own = item_attributes(item)
        path = dict(path or {})
        via = [str(v).lower() for v in path.get("via", ()) or ()]
        liked_attrs = {a.lower() for a in liked_attributes}
        by_id = {it.item_id: it for it in liked_items}
        via_items = tuple(
            by_id[int(v.split(":", 1)[1])]
            for v in via
            if v.startswith("item:") and v.split(":", 1)[1].isdigit() and int(v.split(":", 1)[1]) in by_id
        )
        liked_own = [(it, item_attributes(it)) for it in liked_items if it.item_id != item.item_id]
        reasons: list[Reason] = []
        # Path attributes first, then people, then the rest; an attribute counts when shared or liked.
        order = {
            kind: rank for rank, kind in enumerate(("director", "star", "writer", "genre", "tag", "decade"))
        }
        candidates = sorted(own, key=lambda a: (a not in via, order.get(a.split(":", 1)[0], 9)))
        for attr in candidates:
            sharing = tuple(it.title for it, attrs in liked_own if attr in attrs)
            if sharing or attr in liked_attrs or attr in via:
                origin = "shared" if sharing else "liked" if attr in liked_attrs else "path"
                reasons.append(Reason(attr, own[attr], sharing[:2], origin))
        extra = {k: v for k, v in path.items() if k not in ("generator", "via")}
        return cls(
            item=item,
            reasons=tuple(reasons[:max_reasons]),
            generator=str(path["generator"]) if path.get("generator") else None,
            via_items=via_items,
            liked_items=tuple(liked_items),
            extra=extra,
        )

    def people(self) -> tuple[str, ...]:
        """Everyone credited on the item (the only people an explanation may name)."""
        return (*self.item.directors, *self.item.writers, *self.item.stars)

    def reason_lines(self) -> list[str]:
        """The reasons as short phrases for a prompt: "directed by Christopher Nolan, like Interstellar"."""
        lines = []
        for reason in self.reasons:
            line = reason.phrase()
            if reason.liked_titles:
                line += f", like {' and '.join(reason.liked_titles)}"
            lines.append(line)
        for liked in self.via_items:
            if not any(liked.title in r.liked_titles for r in self.reasons):
                lines.append(f"often enjoyed by fans of {liked.title}")
        return lines
