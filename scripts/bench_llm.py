"""Benchmark of the LLM runtime on this machine (real SmolLM2 model, CPU).

Measures: cold load (GGUF de-quantisation into a fresh cache) and cached load (in this process, and a
fresh process including the torch/transformers imports); decode tokens/s; time to first token (raw and
the first streamed chunk through the runtime); latency of 3 explanations (one batch, and one by one);
the runtime's overhead against a raw `model.generate` on the same prompt; and the share of LLM
explanations that pass the guard on the fixed evaluation set (dialogue.llm.evalset, 30 cases), and of
LLM profile sentences accepted (8 cases).

    python scripts/bench_llm.py [--threads N] [--dtype float32|bfloat16] [--skip-cold] [--out PATH]

Results are printed and written as JSON (default <artifacts>/bench/llm.json).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table
from tqdm import tqdm

from dialogue.llm.evalset import eval_catalog, explanation_cases, profile_cases
from dialogue.llm.explain import Explainer
from dialogue.llm.grounding import GuardVocabulary
from dialogue.llm.guard import OutputGuard
from dialogue.llm.hf_model import HFTextModel
from dialogue.llm.loading import configure_torch_threads, load_model, resolve_model_source
from dialogue.llm.profile_text import ProfileWriter
from dialogue.llm.runtime import LLMConfig, LLMRuntime
from dialogue.llm.turn import EXPLAIN_MAX_NEW_TOKENS, EXPLAIN_STOP_SENTENCES
from dialogue.llm.types import ChatPrompt, Generated
from recsys.settings import get_settings

console = Console()


def _load_in_fresh_process(cache_root: Path, dtype: str, threads: int) -> dict[str, float]:
    code = (
        "import time; t0 = time.perf_counter()\n"
        "from dialogue.llm.loading import configure_torch_threads, load_model, resolve_model_source\n"
        f"configure_torch_threads({threads})\n"
        "t1 = time.perf_counter()\n"
        "from pathlib import Path\n"
        f"root = Path({str(cache_root)!r})\n"
        f"m = load_model(resolve_model_source('smollm2'), cache_root=root, dtype={dtype!r})\n"
        "t2 = time.perf_counter()\n"
        "print(t1 - t0, t2 - t1, m.converted)\n"
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    imports, load, converted = out.stdout.split()
    assert converted == "False", "the fresh process should have found the cached conversion"
    return {"imports_s": float(imports), "load_s": float(load), "total_s": float(imports) + float(load)}


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: the runtime's)")
    parser.add_argument("--dtype", default=get_settings().llm_dtype, choices=["float32", "bfloat16"])
    parser.add_argument("--skip-cold", action="store_true", help="do not measure the cold conversion")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    threads = configure_torch_threads(args.threads)
    results: dict[str, object] = {
        "threads": threads,
        "dtype": args.dtype,
        "cpu_count": os.cpu_count(),
        "loadavg_start": os.getloadavg(),
    }
    source = resolve_model_source("smollm2")
    assert source is not None
    cache_root = get_settings().artifacts_dir / "llm"

    # ---- load times ---------------------------------------------------------------------------------
    if not args.skip_cold:
        with tempfile.TemporaryDirectory() as tmp:
            cold = load_model(source, cache_root=Path(tmp), dtype=args.dtype)
            assert cold.converted
            results["cold_load_s"] = cold.seconds
            console.print(f"cold load (GGUF conversion): {cold.seconds:.1f} s")
            del cold
    loaded = load_model(source, cache_root=cache_root, dtype=args.dtype)  # converts once if needed
    cached = load_model(source, cache_root=cache_root, dtype=args.dtype)
    results["cached_load_in_process_s"] = cached.seconds
    results["cached_load_fresh_process"] = _load_in_fresh_process(cache_root, args.dtype, threads)
    fresh = results["cached_load_fresh_process"]
    console.print(f"cached load: {cached.seconds:.2f} s in process; fresh process {fresh}")
    del loaded

    model = HFTextModel(cached.model, cached.tokenizer, cached.name)
    runtime = LLMRuntime(
        LLMConfig(model="smollm2", timeout_seconds=600, max_new_tokens_limit=256, threads=threads),
        model=model,
    )
    catalog = eval_catalog()
    cases = explanation_cases(catalog)
    prompt = Explainer.prompt(*cases[0])
    enc = model.encode([prompt])
    prompt_tokens = int(enc["input_ids"].shape[1])
    results["explanation_prompt_tokens"] = prompt_tokens

    import torch

    def raw_generate(n: int, min_new: int = 0) -> tuple[float, int]:
        start = time.perf_counter()
        with torch.inference_mode():
            out = cached.model.generate(
                **enc,
                max_new_tokens=n,
                min_new_tokens=min_new,
                do_sample=False,
                pad_token_id=cached.tokenizer.pad_token_id,
            )
        return time.perf_counter() - start, int(out.shape[1] - prompt_tokens)

    raw_generate(4)  # warm-up

    # ---- time to first token and decode speed -----------------------------------------------------------
    ttft = _median([raw_generate(1)[0] for _ in range(args.repeats)])
    t64 = _median([raw_generate(64, 64)[0] for _ in range(args.repeats)])
    results["ttft_raw_s"] = ttft
    results["decode_tokens_per_s"] = 63 / (t64 - ttft)
    results["end_to_end_tokens_per_s_64"] = 64 / t64
    first_chunks = []
    unprefixed = ChatPrompt(prompt.system, prompt.user)  # the answer prefix would be the first chunk
    for _ in range(args.repeats):
        stream = runtime.stream(unprefixed, max_new_tokens=8)
        list(stream)
        first_chunks.append(stream.first_chunk_seconds or float("nan"))
    results["first_streamed_chunk_s"] = _median(first_chunks)
    ttft_runtime = []
    for _ in range(args.repeats):
        first = runtime.generate(prompt, max_new_tokens=1)
        assert isinstance(first, Generated)
        ttft_runtime.append(first.seconds)
    results["ttft_runtime_s"] = _median(ttft_runtime)  # system-prompt KV cache reused
    chunk_ms = results["first_streamed_chunk_s"] * 1000
    console.print(f"TTFT raw {ttft * 1000:.0f} ms; first streamed chunk {chunk_ms:.0f} ms")

    # ---- wrapper overhead -----------------------------------------------------------------------------
    raw_times, wrapped_times = [], []
    for _ in range(args.repeats):
        t_raw, n_raw = raw_generate(48)
        wrapped = runtime.generate(prompt, max_new_tokens=48)
        assert isinstance(wrapped, Generated)
        assert wrapped.n_tokens == n_raw or (wrapped.n_tokens == n_raw - 1), (wrapped.n_tokens, n_raw)
        raw_times.append(t_raw / max(n_raw, 1))
        wrapped_times.append(wrapped.seconds / max(wrapped.n_tokens, 1))
    results["raw_s_per_token"] = _median(raw_times)
    results["runtime_s_per_token"] = _median(wrapped_times)
    results["runtime_overhead_pct"] = 100 * (results["runtime_s_per_token"] / results["raw_s_per_token"] - 1)

    # ---- explanations -------------------------------------------------------------------------------
    guard = OutputGuard(GuardVocabulary.from_items(catalog))
    # the settings the dialogue's explanations use (dialogue.llm.turn.LLMTurnExplainer)
    explainer = Explainer(
        runtime, guard, max_new_tokens=EXPLAIN_MAX_NEW_TOKENS, stop_after_sentences=EXPLAIN_STOP_SENTENCES
    )
    results["explainer"] = {
        "max_new_tokens": EXPLAIN_MAX_NEW_TOKENS,
        "stop_after_sentences": EXPLAIN_STOP_SENTENCES,
    }
    three = cases[:3]
    batch_times, single_times = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        explainer.explain_many([f for f, _ in three], profile_text=three[0][1])
        batch_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        for facts, profile in three:
            explainer.explain(facts, profile_text=profile)
        single_times.append(time.perf_counter() - start)
    results["three_explanations_batched_s"] = _median(batch_times)
    results["three_explanations_one_by_one_s"] = _median(single_times)

    # ---- guard pass share on the evaluation set --------------------------------------------------------
    outcomes, problems, examples = Counter(), Counter(), []
    start = time.perf_counter()
    for facts, profile in tqdm(cases, desc="evaluation set"):
        exp = explainer.explain(facts, profile_text=profile)
        outcomes[exp.source] += 1
        problems.update(p.split(",")[0].split("'")[0].strip() for p in exp.problems)
        examples.append(
            {"item": facts.item.title, "source": exp.source, "llm": exp.llm_text, "shown": exp.text}
        )
    writer = ProfileWriter(runtime, OutputGuard(guard.vocabulary, max_chars=220))
    profiles = [writer.write(prefs) for prefs in tqdm(profile_cases(catalog), desc="profile cases")]
    results["profile_eval"] = {
        "cases": len(profiles),
        "passed_llm": sum(p.source == "llm" for p in profiles),
        "examples": [
            {"source": p.source, "llm": p.llm_text, "shown": p.text, "problems": p.problems} for p in profiles
        ],
    }
    results["guard_eval"] = {
        "cases": len(cases),
        "passed_llm": outcomes["llm"],
        "pass_share": outcomes["llm"] / len(cases),
        "problems": dict(problems.most_common()),
        "seconds": time.perf_counter() - start,
        "examples": examples,
    }
    results["loadavg_end"] = os.getloadavg()
    runtime.close()

    table = Table(title="LLM benchmark (SmolLM2-135M-Instruct, CPU)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    rows = [
        ("cold load (conversion)", f"{results.get('cold_load_s', float('nan')):.1f} s", ""),
        ("cached load, in process", f"{results['cached_load_in_process_s']:.2f} s", "< 5 s"),
        ("cached load, fresh process (+imports)", f"{fresh['total_s']:.2f} s", "< 5 s"),
        ("decode speed", f"{results['decode_tokens_per_s']:.1f} tok/s", ""),
        (f"time to first token, raw ({prompt_tokens}-token prompt)", f"{ttft * 1000:.0f} ms", "< 300 ms"),
        (
            "time to first token, runtime (cached system turn)",
            f"{results['ttft_runtime_s'] * 1000:.0f} ms",
            "< 300 ms",
        ),
        ("first streamed word (runtime)", f"{results['first_streamed_chunk_s'] * 1000:.0f} ms", ""),
        ("3 explanations, one batch", f"{results['three_explanations_batched_s']:.2f} s", "< 3 s"),
        ("3 explanations, one by one", f"{results['three_explanations_one_by_one_s']:.2f} s", ""),
        ("runtime overhead vs raw generate", f"{results['runtime_overhead_pct']:+.1f} %", "within 10 %"),
        ("explanations passing the guard (30 cases)", f"{results['guard_eval']['pass_share']:.0%}", ""),
        (
            "LLM profiles accepted (8 cases)",
            f"{results['profile_eval']['passed_llm']}/{results['profile_eval']['cases']}",
            "",
        ),
    ]
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(f"guard problems: {results['guard_eval']['problems']}")
    console.print(f"load average start {results['loadavg_start']} end {results['loadavg_end']}")
    out = args.out or get_settings().artifacts_dir / "bench" / "llm.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    console.print(f"written {out}")


if __name__ == "__main__":
    main()
