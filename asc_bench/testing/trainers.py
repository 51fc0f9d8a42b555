"""Conformance of a trainer plugin: a short real training on the synthetic dataset, and exact resume."""

from __future__ import annotations

import io
import math
import tempfile
from pathlib import Path
from typing import Any

import torch

from asc_bench.api import Trainer
from asc_bench.plugins import registry
from asc_bench.records.schema import ResultRecord
from asc_bench.testing._common import check_config, config_for, expect, fail
from asc_bench.testing.synthetic import synthetic_dataset
from asc_bench.trial.run import run_trial

DEFAULT_MODEL = {"type": "baseline2024", "base_channels": 16}
DEFAULT_TRANSFORMS = ({"type": "mel", "n_mels": 64},)


class CheckpointReporter:
    """Collects per-epoch rows and checkpoints (saved and loaded with ``torch.save``, as in a real run)."""

    def __init__(self, start: dict[str, Any] | None = None) -> None:
        self.rows: list[dict[str, Any]] = []
        self.states: list[bytes] = []
        self.start = start

    def report(self, metrics: dict[str, Any], state: dict[str, Any]) -> None:
        self.rows.append(dict(metrics))
        buffer = io.BytesIO()
        torch.save(state, buffer)
        self.states.append(buffer.getvalue())

    def state(self, i: int) -> dict[str, Any]:
        """The checkpoint reported after epoch ``i + 1``."""
        return torch.load(io.BytesIO(self.states[i]), weights_only=True)  # as resume loads it

    def restore(self) -> dict[str, Any] | None:
        return self.start


def check_trainer(
    cls: type,
    config: Any = None,
    *,
    dataset_root: Path | None = None,
    workdir: Path | None = None,
    model: dict[str, Any] | None = None,
    transforms: tuple[dict[str, Any], ...] = DEFAULT_TRANSFORMS,
) -> ResultRecord:
    """Check a trainer plugin the way the built-in trainers are checked; returns the trial's record.

    Runs two epochs of a real trial (the engine's own ``run_trial``, in this process, with ``cls`` standing
    in for its registered name) on the small synthetic dataset (:func:`synthetic_dataset`, or
    ``dataset_root``) with a tiny model, then resumes a second trial from the first epoch's checkpoint.
    Checks:

    - the plugin contract and documented options; ``epochs`` and ``batch_size`` options (overridden to 2
      and 64 here);
    - finite losses and learning rates each epoch; the model's weights change between epochs; its
      checkpoint state survives ``torch.save``/``torch.load``;
    - resuming from the epoch-1 checkpoint gives exactly the uninterrupted run's scores (everything the
      trainer needs, e.g. optimiser and schedule state, is in ``state_dict``).
    """
    name = check_config(cls, "trainer")
    expect(issubclass(cls, Trainer), cls, "must subclass asc_bench.api.Trainer")
    fields = cls.Config.model_fields
    expect({"epochs", "batch_size"} <= set(fields), cls, "its Config needs `epochs` and `batch_size` options")
    trainer = config_for(cls, config).model_copy(update={"epochs": 2, "batch_size": 64})
    root = Path(dataset_root) if dataset_root else synthetic_dataset()
    with tempfile.TemporaryDirectory(prefix="asc-bench-kit-") as tmp:
        folder = Path(workdir) if workdir else Path(tmp)
        spec = {
            "name": "trainer-conformance",
            "seeds": [0],
            "data": {
                "dataset": {"type": "tau22", "root": str(root)},
                "cache": {"type": "memmap", "dir": str(folder / "cache")},
                "transforms": list(transforms),
                "eval_batch_size": 128,
            },
            "model": model or DEFAULT_MODEL,
            "trainer": trainer.model_dump(mode="json"),
            "limits": {"preset": "none"},
        }
        threads = torch.get_num_threads()
        with registry.in_process("trainer", name, cls):
            try:
                first = CheckpointReporter()
                record = _trial(spec, folder / "full", first)
                _check_rows(cls, first)
                resumed = CheckpointReporter(start=first.state(0))
                again = _trial(spec, folder / "resumed", resumed)
            finally:
                torch.set_num_threads(threads)
    expect([row["epoch"] for row in resumed.rows] == [2], cls, "the resumed trial did not start at epoch 2")
    expect(
        again.metrics == record.metrics and again.history[-1]["train_loss"] == record.history[-1]["train_loss"],
        cls,
        "resuming from the epoch-1 checkpoint gave other results than the uninterrupted run: state_dict / "
        "load_state_dict must hold everything the trainer carries between epochs (optimiser, schedule, step)",
    )
    return record


def _trial(spec: dict[str, Any], folder: Path, reporter: CheckpointReporter) -> ResultRecord:
    try:
        return run_trial(spec, 0, trial_dir=folder, trial_id=folder.name, reporter=reporter)
    except Exception as exc:
        fail(spec["trainer"]["type"], f"a short training failed: {type(exc).__name__}: {exc}")


def _check_rows(cls: type, reporter: CheckpointReporter) -> None:
    expect([row["epoch"] for row in reporter.rows] == [1, 2], cls, "expected one report per epoch for 2 epochs")
    for row in reporter.rows:
        expect(math.isfinite(row["train_loss"]), cls, f"epoch {row['epoch']}: training loss {row['train_loss']}")
        expect(math.isfinite(row["lr"]) and row["lr"] >= 0, cls, f"epoch {row['epoch']}: learning rate {row['lr']}")
    before, after = reporter.state(0)["model"], reporter.state(1)["model"]
    changed = any(not torch.equal(before[k], after[k]) for k in before if before[k].is_floating_point())
    expect(changed, cls, "the model's weights did not change during an epoch of training")
