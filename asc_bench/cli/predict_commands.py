"""Commands that use finished runs: ``predict`` and ``export dcase``."""

from __future__ import annotations

import sys
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from asc_bench.cli.common import OldOutOpt, SeedOpt, choice, console, err_console, is_stdout, renamed
from asc_bench.core.errors import UserError

if TYPE_CHECKING:
    from asc_bench.api.logits import LogitsFile


class Subset(StrEnum):
    """The clips ``asc-bench predict --subset`` predicts: a split of the run's dataset, or every clip."""

    train = "train"
    validation = "validation"
    test = "test"
    all = "all"


class Precision(StrEnum):
    """How ``asc-bench predict`` runs the models: as deployed (each record's param_dtype) or in float32."""

    deployed = "deployed"
    float32 = "float32"


AudioDirOpt = Annotated[
    Path | None, typer.Option("--audio-dir", help="Predict every WAV file under this folder (keyed by file name).")
]


def predict(
    runs: Annotated[
        list[Path],
        typer.Argument(help="Finished runs: record.json files, trial folders or folders above.", show_default=False),
    ],
    out: Annotated[
        Path, typer.Option(help="The logits file to write (docs/recipes.md describes the format; -: standard output).")
    ],
    subset: Annotated[
        Subset | None, typer.Option(help="Clips to predict: a split of the run's dataset, or all of meta.csv.")
    ] = None,
    audio_dir: AudioDirOpt = None,
    precision: Annotated[
        Precision, typer.Option(help="deployed: as each run's record (limits.param_dtype); float32: unrounded.")
    ] = Precision.deployed,
    old_split: Annotated[str | None, typer.Option("--split", hidden=True, help="Old spelling of --subset.")] = None,
    old_folder: Annotated[
        Path | None, typer.Option("--folder", hidden=True, help="Old spelling of --audio-dir.")
    ] = None,
) -> None:
    """Predict logits with one or several finished runs (averaged as an ensemble) and write a logits file."""
    from rich.progress import Progress

    from asc_bench.evaluation.predict import find_run_records, predict_folder, predict_split, split_accuracy

    old = None if old_split is None else choice(Subset, old_split, "--split")
    split = renamed(subset, old, ("--subset", "--split"), Subset.test).value
    folder = renamed(audio_dir, old_folder, ("--audio-dir", "--folder"), None)
    records = find_run_records(runs)
    report = err_console if is_stdout(out) else console
    with Progress(console=err_console, transient=True) as progress:
        task = progress.add_task(f"predicting with {len(records)} run(s)", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        if folder is not None:
            logits = predict_folder(records, folder, precision=precision.value, progress=advance)  # type: ignore[arg-type]
        else:
            logits = predict_split(records, split, precision=precision.value, progress=advance)  # type: ignore[arg-type]
    _save(out, logits)
    what = f"the WAV files under {folder}" if folder is not None else f"the {split} split"
    report.print(
        f"wrote {'standard output' if is_stdout(out) else out}: logits of {len(logits.clip_ids):,} clips ({what}) x "
        f"{len(logits.class_names)} classes, averaged over {len(records)} run(s)"
    )
    if folder is None:
        report.print(f"accuracy of these logits on {what}: {split_accuracy(logits, records[0]):.1%}")


def _save(out: Path, logits: LogitsFile) -> None:
    """Write the logits file to ``out``, or (``-``) its bytes to standard output."""
    from asc_bench.api.logits import save_logits

    if not is_stdout(out):
        save_logits(out, logits)
        return
    with tempfile.TemporaryDirectory() as tmp:
        data = save_logits(Path(tmp) / "logits.pt", logits).read_bytes()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def export_dcase_cmd(
    run: Annotated[Path, typer.Argument(help="A trial folder (record.json, model.pt) or experiment folder.")],
    label: Annotated[str, typer.Option(help="The submission label <LASTNAME>_<INSTITUTE>_task1_<1-4>.")],
    audio_dir: Annotated[
        Path | None, typer.Option("--audio-dir", help="The evaluation set's audio folder: predict every WAV under it.")
    ] = None,
    logits: Annotated[
        Path | None,
        typer.Option(help="Or the logits already predicted on it (asc-bench predict RUN --audio-dir DIR)."),
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out-dir", help="Folder to write the two files into (default: .).")
    ] = None,
    seed: SeedOpt = None,
    split_percent: Annotated[
        int | None, typer.Option("--split-percent", help="The training split in % (default: from the record).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="The system name in meta.yaml (default: the spec name).")] = None,
    old_eval: Annotated[
        Path | None, typer.Option("--eval-folder", hidden=True, help="Old spelling of --audio-dir.")
    ] = None,
    old_out: OldOutOpt = None,
    old_split: Annotated[
        int | None, typer.Option("--split", hidden=True, help="Old spelling of --split-percent.")
    ] = None,
) -> None:
    """Write <label>.output.split_<X>.csv (labels and probabilities per evaluation file) and <label>.meta.yaml."""
    from asc_bench.export.dcase import check_label, export_dcase, find_run_record

    check_label(label)
    eval_folder = renamed(audio_dir, old_eval, ("--audio-dir", "--eval-folder"), None)
    out = renamed(out_dir, old_out, ("--out-dir", "--out"), Path("."))
    split = renamed(split_percent, old_split, ("--split-percent", "--split"), None)
    if (eval_folder is None) == (logits is None):
        raise UserError("give the evaluation audio as --audio-dir DIR, or its predicted logits as --logits FILE.")
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
