"""Stateless recommendations: POST /v1/recommendations."""

from __future__ import annotations

from fastapi import APIRouter

from api import metrics
from api.deps import PROTECTED, ManagerDep, SettingsDep
from api.schemas import ErrorPublic, RecommendationPublic, RecommendationsCreate, RecommendationsPublic
from recsys.errors import ValidationError

router = APIRouter(prefix="/v1/recommendations", tags=["recommendations"], dependencies=PROTECTED)


@router.post(
    "",
    response_model=RecommendationsPublic,
    summary="Top-k items for liked / disliked seed items and/or a user's stored profile (no session).",
    responses={
        404: {"model": ErrorPublic, "description": "A seed item is not in the catalog."},
        422: {"model": ErrorPublic, "description": "k out of range, or a malformed body."},
    },
)
def recommend(
    body: RecommendationsCreate, manager: ManagerDep, settings: SettingsDep
) -> RecommendationsPublic:
    if body.k > settings.recommend_max_k:
        raise ValidationError(f"k must be between 1 and {settings.recommend_max_k}, got {body.k}")
    both = set(body.liked) & set(body.disliked)
    if both:
        raise ValidationError(f"items {sorted(both)} are both liked and disliked")
    items = manager.recommend_for(body.liked, body.disliked, body.user_id, body.k)
    recs = [RecommendationPublic.model_validate(it.to_dict()) for it in items]
    metrics.RECOMMENDATIONS.labels("recommendations").inc(len(recs))
    return RecommendationsPublic(recommendations=recs)
