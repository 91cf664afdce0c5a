"""Catalog items: GET /v1/items (title search or popular items) and GET /v1/items/{item_id}."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.deps import PROTECTED, DialogueService, ManagerDep
from api.schemas import ErrorPublic, ItemDetailPublic, ItemMatchPublic, ItemSearchPublic
from api.search import ItemSearch
from api.views import item_detail, item_public

router = APIRouter(prefix="/v1/items", tags=["items"], dependencies=PROTECTED)


def item_search(request: Request, manager: DialogueService) -> ItemSearch:
    """The search index of the manager's catalog (built once per catalog, using the dialogue's matcher)."""
    searches: dict[int, ItemSearch] = request.app.state.item_searches
    search = searches.get(id(manager.catalog))
    if search is None:
        extractor = getattr(manager, "extractor", None)
        titles = getattr(extractor, "titles", None)
        search = searches[id(manager.catalog)] = ItemSearch(manager.catalog, titles)
    return search


@router.get(
    "",
    response_model=ItemSearchPublic,
    summary="Search titles (typos and partial titles welcome); without q, the most popular items.",
)
def list_items(
    request: Request,
    manager: ManagerDep,
    q: Annotated[str | None, Query(max_length=200, examples=["the matrix"])] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> ItemSearchPublic:
    catalog = manager.catalog
    if q is not None and q.strip():
        hits = item_search(request, manager).search(q)
        page = [
            ItemMatchPublic(**item_public(catalog[h.item_id]).model_dump(), score=h.score, match=h.match)
            for h in hits[offset : offset + limit]
        ]
        return ItemSearchPublic(query=q, total=len(hits), items=page)
    ranked = item_search(request, manager).by_popularity
    page = [ItemMatchPublic(**item_public(catalog[i]).model_dump()) for i in ranked[offset : offset + limit]]
    return ItemSearchPublic(query=None, total=len(ranked), items=page)


@router.get(
    "/{item_id}",
    response_model=ItemDetailPublic,
    summary="One catalog item.",
    responses={404: {"model": ErrorPublic, "description": "No such item."}},
)
def get_item(item_id: int, manager: ManagerDep) -> ItemDetailPublic:
    return item_detail(manager.catalog[item_id])
