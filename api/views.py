"""Domain objects -> response models (catalog items, profiles). Turn results: see `api.turns`."""

from __future__ import annotations

from collections.abc import Iterable

from api.schemas import ItemDetailPublic, ItemPublic, ProfilePublic
from dialogue.state.profile import UserProfile
from recsys.catalog.types import Catalog, CatalogItem
from recsys.errors import UnknownItemError


def item_public(item: CatalogItem) -> ItemPublic:
    return ItemPublic(
        item_id=item.item_id,
        title=item.title,
        year=item.year,
        genres=list(item.genres),
        directors=list(item.directors),
        stars=list(item.stars),
        popularity=float(item.popularity),
    )


def item_detail(item: CatalogItem) -> ItemDetailPublic:
    return ItemDetailPublic(
        **item_public(item).model_dump(),
        writers=list(item.writers),
        tags=list(item.tags),
        plot=item.plot,
        movielens_id=item.movielens_id,
        redial_id=item.redial_id,
        imdb_id=item.imdb_id,
    )


def _items(catalog: Catalog, ids: Iterable[int]) -> list[ItemPublic]:
    out = []
    for item_id in ids:
        try:
            out.append(item_public(catalog[int(item_id)]))
        except UnknownItemError:  # a profile written against a bigger catalog: keep the id visible
            out.append(ItemPublic(item_id=int(item_id), title=f"(unknown item {item_id})"))
    return out


def profile_public(profile: UserProfile, catalog: Catalog) -> ProfilePublic:
    return ProfilePublic(
        user_id=profile.user_id,
        profile_text=profile.profile_text,
        profile_version=profile.profile_version,
        edited_by_user=profile.edited_by_user,
        liked_items=_items(catalog, profile.liked_items),
        disliked_items=_items(catalog, profile.disliked_items),
        seen_items=_items(catalog, profile.seen_items),
        accepted_items=_items(catalog, profile.accepted_items),
        liked_attributes=list(profile.liked_attributes),
        disliked_attributes=list(profile.disliked_attributes),
        version=profile.version,
        updated_at=profile.updated_at,
    )
