"""The ``asc-bench`` command line. Thin: every command calls into the library; torch and Ray load lazily, so
``--help`` is instant. Each command group lives in its own module; this one assembles them."""

from __future__ import annotations

from typing import Annotated

import typer

from asc_bench.cli.cache import cache_app
from asc_bench.cli.common import err_console
from asc_bench.cli.data import data_app
from asc_bench.cli.export2025 import export_dcase2025_cmd
from asc_bench.cli.init_command import init
from asc_bench.cli.leaderboard import leaderboard_cmd
from asc_bench.cli.plugins import plugin_app, plugins
from asc_bench.cli.predict_commands import export_dcase_cmd, predict
from asc_bench.cli.run_commands import reproduce, run, runs
from asc_bench.cli.spec_commands import complexity, docs, schema, show, validate
from asc_bench.core.errors import UserError

app = typer.Typer(
    name="asc-bench",
    help="Config-first benchmark harness for low-complexity acoustic scene classification (DCASE Task 1).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from asc_bench import __version__

        typer.echo(f"asc-bench {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Config-first benchmark harness for low-complexity acoustic scene classification (DCASE Task 1)."""


export_app = typer.Typer(help="Export a run in other formats: the DCASE submission files.", no_args_is_help=True)
for command in (init, validate, show, schema):
    app.command()(command)
app.command()(plugins)
app.add_typer(plugin_app, name="plugin")
for command in (complexity, docs, run, runs):
    app.command()(command)


app.command("leaderboard")(leaderboard_cmd)
app.command()(reproduce)
app.command()(predict)
app.add_typer(data_app, name="data")
app.add_typer(cache_app, name="cache")
app.add_typer(export_app, name="export")
export_app.command("dcase")(export_dcase_cmd)
export_app.command("dcase2025")(export_dcase2025_cmd)


def main() -> None:
    """Console-script entry point: user errors print one paragraph and exit with status 2."""
    from asc_bench.core.allocator import keep_freed_memory

    keep_freed_memory()  # the driver builds caches and predicts: the same large, short-lived buffers as training
    try:
        app()
    except UserError as exc:
        label = "[yellow]interrupted:[/yellow]" if exc.exit_code == 130 else "[bold red]error:[/bold red]"
        err_console.print(f"{label} {exc}", highlight=False, soft_wrap=True)
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/yellow]")
        raise SystemExit(130) from None
    except RuntimeError as exc:
        from asc_bench.runner.tune import TrialFailed

        if not isinstance(exc, TrialFailed):
            raise
        err_console.print(f"[bold red]failed:[/bold red] {exc}", highlight=False, soft_wrap=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
