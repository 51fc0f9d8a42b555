"""The ``asc-bench data`` commands (registered in :mod:`asc_bench.cli.app`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from asc_bench.cli.common import console, keep_whole
from asc_bench.core.errors import UserError

if TYPE_CHECKING:
    from asc_bench.data.check import DatasetReport


data_app = typer.Typer(
    help="Datasets: check one, or write a synthetic one in the real TAU22 layout.", no_args_is_help=True
)
DatasetOpt = Annotated[str, typer.Option("--dataset", help="The dataset plugin.")]


@data_app.command("synth")
def data_synth(
    root: Annotated[Path, typer.Argument(help="Folder to write the dataset into.")],
    clips: Annotated[int | None, typer.Option(help="At least this many clips (default: 3,000).")] = None,
    full_size: Annotated[bool, typer.Option(help="The full TAU22 size: 230,400 clips, about 30 GB.")] = False,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same files).")] = 0,
    dry_run: Annotated[bool, typer.Option(help="Only print the clip counts it would write.")] = False,
    dataset: DatasetOpt = "tau22",
) -> None:
    """Write a synthetic dataset in the layout a dataset plugin reads.

    For tau22: the real TAU22 layout, WAV files, meta.csv, evaluation_setup/, split_setup/.
    """
    from rich.progress import Progress

    from asc_bench.plugins import registry

    if clips is not None and full_size:
        raise UserError("--clips and --full-size exclude each other.", fix="Give one of them.")
    cls = registry.load("dataset", dataset, where="--dataset")
    if dry_run:
        console.print(cls.synthetic_size(clips=clips, full_size=full_size, seed=seed))
        return
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"writing {root}", total=None)
        summary = cls.synthesize(
            root,
            clips=clips,
            full_size=full_size,
            seed=seed,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    console.print(summary)


@data_app.command("check")
def data_check(
    root: Annotated[Path, typer.Argument(help="The dataset root (for tau22: the folder holding meta.csv).")],
    split: Annotated[
        str | None, typer.Option(help="Alias of --option split=NAME (tau22: fold1 or split5 … split100).")
    ] = None,
    validation: Annotated[
        float | None, typer.Option(help="Alias of --option validation.fraction=F (the hold-out, as in the spec).")
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--option",
            help="A setting of the dataset plugin, as in the spec: key=value (dotted keys nest; repeatable).",
        ),
    ] = None,
    dataset: DatasetOpt = "tau22",
) -> None:
    """Check a dataset root before a long run: tables, splits, every audio file, and the clips per split.

    It prints the clips per split × device × city; the exit status is 2 when it has errors (a run would refuse it
    with the same messages).
    """
    from asc_bench.data.check import DatasetReport, check_dataset
    from asc_bench.plugins import registry

    cls = registry.load("dataset", dataset, where="--dataset")
    options = _options(option or [])
    if split is not None:
        options["split"] = split
    if validation is not None:
        held = options.get("validation")
        options["validation"] = {**(held if isinstance(held, dict) else {}), "fraction": validation}
    config = cls.check_config(root, options)
    with console.status(f"checking {root}"):
        try:
            report = check_dataset(cls(config))
        except UserError as err:  # the root itself is wrong: nothing else can be checked
            from asc_bench.api import Finding

            report = DatasetReport(str(root), [Finding("error", str(err))])
    _show_report(report)
    if report.errors:
        raise typer.Exit(2)


def _options(items: list[str]) -> dict[str, Any]:
    """``key=value`` settings as nested dicts (``a.b=1`` → ``{"a": {"b": 1}}``); values are read as YAML."""
    import yaml

    from asc_bench.core.text import parse_dotted

    options: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        path = parse_dotted(key) if sep and key.strip() else ()
        if not path or any(not isinstance(part, str) or not part for part in path):
            raise UserError(f"--option {item!r} is not of the form key=value.", fix="Use e.g. --option split=split25.")
        try:
            value = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError:
            value = text
        node = options
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise UserError(f"--option {item!r}: {part} was given a value already.", fix="Give it once.")
            node = child
        node[path[-1]] = value
    return options


def _show_report(report: DatasetReport) -> None:
    for finding in report.findings:
        colour = "red" if finding.severity == "error" else "yellow"
        text = " ".join(p for p in (finding.where and f"{finding.where}:", finding.message, finding.fix) if p)
        console.print(f"[bold {colour}]{finding.severity}:[/bold {colour}] {escape(text)}", soft_wrap=True)
    clips = report.clips
    for name in report.splits if clips is not None else ():
        counts = report.counts(name)
        devices = [d for d in range(counts.shape[0]) if counts[d].any()]
        cities = [c for c in range(counts.shape[1]) if counts[:, c].any()]
        table = Table(title=f"{name}: {counts.sum():,} clips per city × device", title_justify="left")
        table.add_column("city")
        for d in devices:
            table.add_column(clips.device_names[d], justify="right")
        table.add_column("total", justify="right", style="bold")
        for c in cities:
            table.add_row(clips.city_names[c], *(f"{counts[d, c]:,}" for d in devices), f"{counts[:, c].sum():,}")
        table.add_row("total", *(f"{counts[d].sum():,}" for d in devices), f"{counts.sum():,}", style="bold")
        console.print(keep_whole(table, *(clips.device_names[d] for d in devices), "total"))
    summary = f"{report.describe}: {len(report.errors)} error(s), {len(report.warnings)} warning(s)"
    if clips is not None:
        summary += f"; {len(clips):,} clips in the metadata"
    console.print(("[red]" if report.errors else "[green]") + escape(summary))
