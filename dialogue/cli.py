"""`crs train` and `crs chat`: train (or load) the dialogue's models, and talk to the system in a terminal.

`crs chat` is interactive on a terminal (rich output: the reply, numbered recommendations with years and
explanations, the options of a question). When stdin is not a terminal it reads one user message per line;
with `--json` it prints one JSON object per message (a TurnResult: `reply`, `recommendations` with
`item_id`, `title`, `score`, `explanation`, ..., and the language `profile` text with `profile_info`).
Explanations and the profile come from the LLM unless `--no-llm` or the `llm_model` setting is "none"
(then from templates); the model is loaded before the first message. Heavy imports happen inside the
commands.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from recsys.errors import SessionNotFoundError, ValidationError

_QUIT = {"quit", "exit", ":q"}

ModelsOption = Annotated[
    str | None,
    typer.Option("--models", help="Generators of the fusion, e.g. itemknn,ppr (default: the system's)."),
]
ModelConfigOption = Annotated[
    Path | None, typer.Option("--model-config", help="A JSON / TOML file of ModelConfig fields.")
]


def _model_config(models: str | None, model_config: Path | None) -> Any:
    from dialogue.system import load_model_config

    return load_model_config(model_config, models=models)


def train(
    models: ModelsOption = None,
    model_config: ModelConfigOption = None,
    force: Annotated[bool, typer.Option("--force", help="Train again even if stored.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Train the dialogue's generators and fusion ranker (stored; skipped when already trained)."""
    from dialogue.system import train_models

    trained = train_models(config=_model_config(models, model_config), force=force, progress=True)
    summary = {
        "built": trained.built,
        "generators": list(trained.recommender.generators),
        "fit_seconds": trained.models.fit_seconds,
        "catalog_items": len(trained.catalog),
        "users": trained.train_data.n_users,
        "artifact": str(trained.path),
        "seconds": round(trained.seconds, 2),
    }
    if as_json:
        typer.echo(json.dumps(summary))
        return
    from rich.console import Console

    verb = "trained" if trained.built else "loaded (already trained)"
    fits = ", ".join(f"{n} {s:.1f} s" for n, s in trained.models.fit_seconds.items())
    Console().print(
        f"[bold]{verb}[/bold]: {', '.join(summary['generators'])} over {summary['catalog_items']} items "
        f"and {summary['users']} users ({fits}); {summary['seconds']:.1f} s\n{summary['artifact']}"
    )


def chat(
    user_id: Annotated[
        str | None, typer.Option("--user-id", help="Remember preferences across sessions.")
    ] = None,
    session_id: Annotated[
        str | None, typer.Option("--session-id", help="Resume this session (created if it does not exist).")
    ] = None,
    policy: Annotated[
        str, typer.Option("--policy", help="Policy preset (default, eager, curious, popularity) or a file.")
    ] = "default",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per message on stdout.")] = False,
    models: ModelsOption = None,
    model_config: ModelConfigOption = None,
    embeddings: Annotated[
        bool,
        typer.Option(
            "--embeddings/--no-embeddings",
            help="MiniLM: map unknown mood phrases, and match the profile text against item texts.",
        ),
    ] = True,
    llm: Annotated[
        bool | None,
        typer.Option("--llm/--no-llm", help="LLM explanations and profile (default: the llm_model setting)."),
    ] = None,
    llm_rerank: Annotated[
        bool, typer.Option("--llm-rerank", help="Let the LLM re-rank the fused top-10 (slow: ~0.5 s/item).")
    ] = False,
) -> None:
    """Talk to the recommender: say what you like, ask why, critique ("less violent"), or say bye."""
    from dialogue.policy import load_policy
    from dialogue.system import build_manager

    config = load_policy(policy)  # a bad preset fails before anything is loaded
    manager = build_manager(
        policy=config,
        model_config=_model_config(models, model_config),
        use_embeddings=embeddings,
        progress=True,
        llm=llm,
        llm_rerank=llm_rerank,
    )
    _warm_up(manager)
    sid, resumed = _open_session(manager, session_id, user_id)
    interactive = sys.stdin.isatty() and not as_json
    view = _Console(as_json)
    view.opening(manager, sid, resumed)
    for text in _messages(sys.stdin, interactive):
        if text.strip().lower() in _QUIT:
            break
        try:
            result = manager.turn(sid, text)
        except ValidationError as exc:  # a message the system cannot take: say so, keep talking
            view.error(str(exc))
            continue
        view.turn(result)
        if result.action == "goodbye":
            manager.end_session(sid, reason="goodbye")
            break
    view.closing(sid)


def _warm_up(manager: Any) -> None:
    """Load the language model before the first message (else the first turns would use templates
    while it loads in the background); a model that cannot load leaves the templates, said on stderr."""
    runtime = getattr(manager.explainer, "runtime", None)
    if runtime is None:
        return
    from rich.console import Console

    err = Console(stderr=True)
    with err.status("loading the language model ..."):
        try:
            runtime.warm_up()
        except Exception as exc:
            err.print(f"[yellow]language model unavailable, using templates: {exc}[/yellow]")
            return
    err.print(f"[dim]language model ready ({runtime.load_seconds or 0:.1f} s)[/dim]")


def _open_session(manager: Any, session_id: str | None, user_id: str | None) -> tuple[str, bool]:
    """(session id, resumed?): an existing session is resumed, a new id creates one."""
    if session_id is not None:
        try:
            state = manager.store.load_state(session_id)
        except SessionNotFoundError:
            return manager.start_session(user_id, session_id=session_id), False
        if state.ended:
            raise ValidationError(f"session {session_id} has ended; start a new one")
        if user_id is not None and state.user_id != user_id:
            owner = state.user_id or "nobody"
            raise ValidationError(f"session {session_id} belongs to {owner}, not {user_id}")
        return session_id, True
    return manager.start_session(user_id), False


def _messages(stream: TextIO, interactive: bool) -> Any:
    """User messages: prompted on a terminal, else one per non-empty input line."""
    if interactive:
        from rich.prompt import Prompt

        while True:
            try:
                text = Prompt.ask("[bold cyan]you[/bold cyan]")
            except (EOFError, KeyboardInterrupt):
                return
            if text.strip():
                yield text
    else:
        for line in stream:
            if line.strip():
                yield line.rstrip("\n")


def _without_titles(result: Any) -> str:
    """The reply without its trailing list of titles (the table shows them)."""
    from dialogue.nlg import join_words

    shown = [f"{r.title} ({r.year})" if r.year else r.title for r in result.recommendations]
    tail = f": {join_words(shown)}."
    return result.reply[: -len(tail)] + ":" if result.reply.endswith(tail) else result.reply


class _Console:
    """Renders turns as rich text on a terminal, or as one JSON line each."""

    def __init__(self, as_json: bool) -> None:
        from rich.console import Console

        self.as_json = as_json
        self.out = Console(highlight=False)
        self.err = Console(stderr=True, highlight=False)

    def opening(self, manager: Any, sid: str, resumed: bool) -> None:
        if self.as_json:
            return
        transcript = manager.get_session(sid).transcript
        if resumed:
            self.err.print(f"[dim]resuming session {sid} ({len(transcript) - 1} turns so far)[/dim]")
            last = transcript[-1]
            if last.get("bot"):
                self._bot(last["bot"])
        else:
            self._bot(transcript[0]["bot"])
        self.err.print("[dim]say 'bye' to finish, 'quit' to leave the session open[/dim]")

    def turn(self, result: Any) -> None:
        if self.as_json:
            self.out.file.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
            self.out.file.flush()
            return
        from rich.table import Table

        if not result.recommendations:
            self._bot(result.reply)
        else:
            self._bot(_without_titles(result))
            table = Table(show_header=False, box=None, padding=(0, 1))
            for n, rec in enumerate(result.recommendations, start=1):
                year = f" ({rec.year})" if rec.year else ""
                table.add_row(f"{n}.", f"[bold]{rec.title}[/bold]{year}", f"[dim]{rec.explanation}[/dim]")
            self.out.print(table)
        if result.question is not None and result.question.options:
            options = ", ".join(o.partition(":")[2] for o in result.question.options)
            self.out.print(f"   [dim]options: {options}[/dim]")
        if result.profile is not None and result.profile.updated:
            self.out.print(f"   [dim]your profile: {result.profile.text}[/dim]")

    def error(self, message: str) -> None:
        if self.as_json:
            self.out.file.write(json.dumps({"error": message}) + "\n")
        else:
            self.err.print(f"[red]{message}[/red]")

    def closing(self, sid: str) -> None:
        if not self.as_json:
            self.err.print(f"[dim]session {sid}[/dim]")

    def _bot(self, text: str) -> None:
        self.out.print(f"[bold green]crs[/bold green]: {text}")
