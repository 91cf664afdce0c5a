"""How the LLM runtime runs (`LLMConfig`): the model, its queue, time budgets, threads and dtype, read from
the settings (`LLMConfig.from_settings`). `dialogue.llm.runtime` re-exports it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from dialogue.llm.loading import DISABLED
from recsys.errors import ValidationError
from recsys.settings import Settings, get_settings


@dataclass(frozen=True)
class LLMConfig:
    """How the runtime runs. `model` is the `llm_model` setting; `cache_dir` holds converted weights."""

    model: str = "smollm2"
    cache_dir: Path | None = None  # default: <artifacts_dir>/llm
    queue_size: int = 8  # calls waiting for the worker; one more is refused with Fallback("busy")
    timeout_seconds: float = 20.0  # default per-call budget, queue wait included
    max_new_tokens: int = 64  # default generation length
    max_new_tokens_limit: int = 256  # hard cap on any request
    threads: int | None = None  # torch intra-op threads; default loading.default_threads()
    # weights' dtype in memory; bfloat16 measured on this 2-core machine (scripts/bench_llm.py, 1 thread):
    # first token 294 vs 505 ms, 3 explanations 2.5 vs 4.6 s, guard pass 26/30 vs 25/30
    dtype: Literal["float32", "bfloat16"] = "bfloat16"

    def __post_init__(self) -> None:
        if self.queue_size < 1:
            raise ValidationError(f"queue_size must be >= 1, got {self.queue_size}")
        if self.timeout_seconds <= 0:
            raise ValidationError(f"timeout_seconds must be > 0, got {self.timeout_seconds}")
        if not 1 <= self.max_new_tokens <= self.max_new_tokens_limit:
            raise ValidationError(
                f"max_new_tokens must be in 1..{self.max_new_tokens_limit}, got {self.max_new_tokens}"
            )

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **overrides: Any) -> LLMConfig:
        settings = settings or get_settings()
        values: dict[str, Any] = {
            "model": settings.llm_model,
            "cache_dir": settings.artifacts_dir / "llm",
            "dtype": settings.llm_dtype,
        }
        values.update(overrides)
        return cls(**values)

    @property
    def disabled(self) -> bool:
        return self.model.strip().lower() == DISABLED
