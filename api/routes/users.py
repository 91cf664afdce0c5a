"""User profiles: GET / PUT / PATCH /v1/users/{user_id}/profile, and DELETE /v1/users/{user_id}."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import PROTECTED, ManagerDep
from api.profiles import edit_profile
from api.schemas import ErrorPublic, ProfilePatch, ProfilePublic, ProfileReplace, UserDeletedPublic
from api.views import profile_public

router = APIRouter(prefix="/v1/users", tags=["users"], dependencies=PROTECTED)

UserIdPath = Annotated[
    str,
    Path(pattern=r"^[A-Za-z0-9_.@:-]{1,128}$", description="1-128 of [A-Za-z0-9_.@:-]", examples=["alice"]),
]
_EDIT_ERRORS = {
    404: {"model": ErrorPublic, "description": "An item id is not in the catalog."},
    409: {"model": ErrorPublic, "description": "`version` is stale: the profile changed since it was read."},
    422: {
        "model": ErrorPublic,
        "description": "Invalid field, or an item / attribute both liked and disliked.",
    },
}


@router.get(
    "/{user_id}/profile", response_model=ProfilePublic, summary="A user's profile (empty if none yet)."
)
def get_profile(user_id: UserIdPath, manager: ManagerDep) -> ProfilePublic:
    return profile_public(manager.store.get_profile(user_id), manager.catalog)


@router.put(
    "/{user_id}/profile",
    response_model=ProfilePublic,
    summary="Replace the profile text and typed preferences.",
    responses=_EDIT_ERRORS,
)
def replace_profile(user_id: UserIdPath, body: ProfileReplace, manager: ManagerDep) -> ProfilePublic:
    changes = body.model_dump(exclude={"version"})
    profile = edit_profile(manager.store, manager.catalog, user_id, changes, body.version)
    return profile_public(profile, manager.catalog)


@router.patch(
    "/{user_id}/profile",
    response_model=ProfilePublic,
    summary="Change some fields of the profile (only the fields sent).",
    responses=_EDIT_ERRORS,
)
def patch_profile(user_id: UserIdPath, body: ProfilePatch, manager: ManagerDep) -> ProfilePublic:
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    profile = edit_profile(manager.store, manager.catalog, user_id, changes, body.version)
    return profile_public(profile, manager.catalog)


@router.delete(
    "/{user_id}",
    response_model=UserDeletedPublic,
    summary="Erase the user: every session, the profile and the session index.",
)
def delete_user(user_id: UserIdPath, manager: ManagerDep) -> UserDeletedPublic:
    return UserDeletedPublic(user_id=user_id, keys_deleted=manager.store.delete_user(user_id))
