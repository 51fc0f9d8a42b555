"""``asc-bench export dcase2025``: the DCASE 2025 Task 1 inference package of a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from asc_bench.cli.common import OldOutOpt, SeedOpt, console, renamed


def export_dcase2025_cmd(
    run: Annotated[Path, typer.Argument(help="A trial folder (record.json, model.pt) or experiment folder.")],
    label: Annotated[str, typer.Option(help="The package name <LASTNAME>_<INSTITUTE>_task1.")],
    index: Annotated[int, typer.Option(help="The submission index (1-4): the module <label>_<index>.py.")] = 1,
    eval_dir: Annotated[
        Path | None,
        typer.Option(
            "--eval-dir", help="An evaluation set folder with evaluation_setup/fold1_test.csv: write output.csv too."
        ),
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out-dir", help="Folder to write the package into (default: .).")
    ] = None,
    seed: SeedOpt = None,
    old_eval: Annotated[
        Path | None, typer.Option("--evaluation", hidden=True, help="Old spelling of --eval-dir.")
    ] = None,
    old_out: OldOutOpt = None,
) -> None:
    """Write the installable inference package (module, ckpts/, resources/), complexity.json and output.csv."""
    from asc_bench.export.dcase2025 import export_dcase2025

    evaluation = renamed(eval_dir, old_eval, ("--eval-dir", "--evaluation"), None)
    out = renamed(out_dir, old_out, ("--out-dir", "--out"), Path("."))

    with console.status("writing the inference package"):
        package = export_dcase2025(run, out, label=label, index=index, evaluation=evaluation, seed=seed)
    for path in (package.module, package.complexity, package.output):
        if path is not None:
            console.print(f"wrote {path}")
    console.print(f"install it with: pip install {package.root}")
