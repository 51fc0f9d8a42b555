"""Commands that use finished runs: ``predict`` and ``export dcase``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from asc_bench.cli.common import console
from asc_bench.core.errors import UserError


def predict(
    runs: Annotated[
        list[Path],
        typer.Argument(help="Finished runs: record.json files, trial folders or folders above.", show_default=False),
    ],
    out: Annotated[Path, typer.Option(help="The logits file to write (docs/recipes.md describes the format).")],
    split: Annotated[
        str, typer.Option(help="Clips to predict: train, validation, test or all (every clip in meta.csv).")
    ] = "test",
    folder: Annotated[
        Path | None, typer.Option(help="Predict every WAV under this folder instead (keyed by file name).")
    ] = None,
    precision: Annotated[
        str, typer.Option(help="deployed (each run's limits.param_dtype, as its record) or float32.")
    ] = "deployed",
) -> None:
    """Predict logits with one or several finished runs (averaged as an ensemble) and write a logits file."""
    from rich.progress import Progress

    from asc_bench.api.logits import save_logits
    from asc_bench.evaluation.predict import find_run_records, predict_folder, predict_split, split_accuracy

    if split not in ("train", "validation", "test", "all"):
        raise UserError(
            f"--split {split!r} is not a split asc-bench predicts.", fix="Use --split train, validation, test or all."
        )
    if precision not in ("deployed", "float32"):
        raise UserError(f"--precision {precision!r} is unknown.", fix="Use --precision deployed or float32.")
    records = find_run_records(runs)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"predicting with {len(records)} run(s)", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        if folder is not None:
            logits = predict_folder(records, folder, precision=precision, progress=advance)  # type: ignore[arg-type]
        else:
            logits = predict_split(records, split, precision=precision, progress=advance)  # type: ignore[arg-type]
    save_logits(out, logits)
    what = f"the WAV files under {folder}" if folder is not None else f"the {split} split"
    console.print(
        f"wrote {out}: logits of {len(logits.clip_ids):,} clips ({what}) x {len(logits.class_names)} classes, "
        f"averaged over {len(records)} run(s)"
    )
    if folder is None:
        console.print(f"accuracy of these logits on {what}: {split_accuracy(logits, records[0]):.1%}")


def export_dcase_cmd(
    run: Annotated[Path, typer.Argument(help="A trial folder (record.json, model.pt) or experiment folder.")],
    label: Annotated[str, typer.Option(help="The submission label <LASTNAME>_<INSTITUTE>_task1_<1-4>.")],
    eval_folder: Annotated[
        Path | None, typer.Option(help="The evaluation set's audio folder: predict every WAV under it.")
    ] = None,
    logits: Annotated[
        Path | None, typer.Option(help="Or the logits already predicted on it (asc-bench predict RUN --folder DIR).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder to write the two files into.")] = Path("."),
    seed: Annotated[int | None, typer.Option(help="Which seed, when RUN holds several.")] = None,
    split: Annotated[int | None, typer.Option(help="The training split in % (default: from the record).")] = None,
    name: Annotated[str | None, typer.Option(help="The system name in meta.yaml (default: the spec name).")] = None,
) -> None:
    """Write <label>.output.split_<X>.csv (labels and probabilities per evaluation file) and <label>.meta.yaml."""
    from asc_bench.export.dcase import check_label, export_dcase, find_run_record

    check_label(label)
    if (eval_folder is None) == (logits is None):
        raise UserError("give the evaluation audio as --eval-folder DIR, or its predicted logits as --logits FILE.")
    record = find_run_record(run, seed)
    if eval_folder is not None:
        from asc_bench.evaluation.predict import predict_folder

        with console.status(f"predicting the WAV files under {eval_folder}"):
            predicted = predict_folder([record], eval_folder)
    else:
        from asc_bench.api.logits import load_logits

        predicted = load_logits(logits, where="--logits")  # type: ignore[arg-type]
    paths = export_dcase(record, predicted, label=label, out_dir=out, split=split, name=name)
    for path in paths:
        console.print(f"wrote {path}")
