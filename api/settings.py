"""Settings of the HTTP API, from environment variables with the CRS_ prefix.

They live here until the coordinator merges them into `recsys.settings.Settings`; the field names are the
ones proposed for it. Read them with `get_api_settings()` (cached; tests call `.cache_clear()`).

    CRS_API_KEYS            comma-separated SHA-256 hex digests of the accepted API keys; empty = open API
    CRS_RATE_LIMIT          requests per window per key (per client IP when open); 0 = no limit
    CRS_RATE_LIMIT_WINDOW_SECONDS   length of the sliding window
    CRS_MAX_TEXT_CHARS      longest user message accepted (longer: 413)
    CRS_MAX_BODY_BYTES      largest request body accepted (larger: 413)
    CRS_CORS_ORIGINS        comma-separated origins allowed by CORS ("*" for any); empty = no CORS headers
    CRS_RECOMMEND_MAX_K     largest k of POST /v1/recommendations
    CRS_API_WARM_UP         load the dialogue models in the background at start-up (else on first use)
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def hash_api_key(key: str) -> str:
    """The SHA-256 hex digest under which an API key is configured (`CRS_API_KEYS`)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class ApiSettings(BaseSettings):
    """Every setting of the HTTP layer, typed (environment: CRS_<NAME>)."""

    model_config = SettingsConfigDict(env_prefix="CRS_", extra="ignore")

    api_keys: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), description="SHA-256 hex digests of the accepted API keys; empty = no key required."
    )
    rate_limit: int = Field(default=120, ge=0, description="Requests per window per client; 0 = unlimited.")
    rate_limit_window_seconds: int = Field(default=60, ge=1, le=86_400)
    max_text_chars: int = Field(default=2000, ge=1, le=100_000)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(default=())
    recommend_max_k: int = Field(default=50, ge=1, le=1000)
    api_warm_up: bool = True

    @field_validator("api_keys", "cors_origins", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("api_keys")
    @classmethod
    def _hashes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        out = tuple(v.lower() for v in value)
        bad = [v for v in out if not _SHA256_RE.match(v)]
        if bad:
            raise ValueError(
                f"CRS_API_KEYS holds SHA-256 hex digests (64 hex characters), not keys: "
                f"{bad[0][:12]}... is not one; hash a key with `python -m api.settings KEY` "
                "(or hashlib.sha256(KEY.encode()).hexdigest())"
            )
        return out

    @property
    def auth_required(self) -> bool:
        return bool(self.api_keys)


@lru_cache(maxsize=1)
def get_api_settings() -> ApiSettings:
    """The process-wide API settings, read once."""
    return ApiSettings()


if __name__ == "__main__":  # python -m api.settings KEY: the digest to put in CRS_API_KEYS
    import sys

    if len(sys.argv) != 2:
        sys.exit("usage: python -m api.settings KEY")
    print(hash_api_key(sys.argv[1]))
