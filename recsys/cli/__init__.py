"""The `crs` command line. Each command group lives in its own module; this one only assembles them."""

from __future__ import annotations

import sys

import typer

from api.cli import serve
from dialogue import cli as dialogue_cli
from dialogue.simulation.cli import simulate
from recsys.cli import data as data_cli
from recsys.cli import eval as eval_cli
from recsys.errors import CRSError

app = typer.Typer(
    name="crs",
    help="Conversational recommender system: data, training, evaluation, chat and serving.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(data_cli.app, name="data", help="Load, summarise, align and download datasets.")
app.add_typer(eval_cli.app, name="eval", help="Offline evaluation (MovieLens, ReDial).")
app.command("train")(dialogue_cli.train)
app.command("chat")(dialogue_cli.chat)
app.command("serve")(serve)
app.command("simulate")(simulate)


def main() -> None:
    """Console entry point: project errors become one clear line on stderr and exit code 2."""
    try:
        app()
    except CRSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
