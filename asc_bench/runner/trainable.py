"""The trial side of a Ray Tune experiment: the trainable Tune runs in its workers, and the reporter that sends
each epoch to Tune with a checkpoint and restores from the last one."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from ray.tune.search.repeater import TRIAL_INDEX  # which repeat (seed) of a suggestion

from asc_bench.core.errors import UserError
from asc_bench.core.safe_load import load_tensors
from asc_bench.records.layout import CHECKPOINT_STATE, trial_folder
from asc_bench.search.sweep import concrete_spec
from asc_bench.trial.run import run_trial

CHECKPOINT_FIX = (
    "Run the spec without --resume to start a new experiment (the records of finished trials stay where they are), "
    "or put back an intact copy of that file and resume again."
)


class TuneReporter:
    """Per-epoch ``ray.tune.report`` with a checkpoint; restores from ``ray.tune.get_checkpoint``.

    The last epoch's report is held back until :meth:`flush`, after the trial wrote its record: a
    scheduler that stops a trial on its last report (ASHA at ``max_t``, median stopping) would otherwise
    kill it between its last epoch and its record.
    """

    def __init__(self, metric: str | None = None) -> None:
        self.metric = metric
        self._held: tuple[dict[str, Any], str] | None = None

    def report(self, metrics: dict[str, Any], state: dict[str, Any]) -> None:
        if self.metric and self.metric not in metrics:
            raise UserError(
                f"the search optimises {self.metric}, but the trial's epoch report has only {', '.join(metrics)}.",
                fix="Check that the dataset has the split the metric is measured on.",
            )
        folder = tempfile.mkdtemp(prefix="asc-bench-checkpoint-")
        torch.save(state, Path(folder) / CHECKPOINT_STATE)  # now: the model may change after its last epoch
        self._held = (metrics, folder)
        if not (state.get("stopped") or metrics["epoch"] >= metrics["epochs"]):
            self.flush()

    def flush(self) -> None:
        """Send the held-back report, if any."""
        from ray import tune

        if self._held is None:
            return
        metrics, folder = self._held
        self._held = None
        try:
            tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(folder))
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def restore(self) -> dict[str, Any] | None:
        from ray import tune

        checkpoint = tune.get_checkpoint()
        if checkpoint is None:
            return None
        with checkpoint.as_directory() as folder:
            return load_checkpoint(Path(folder) / CHECKPOINT_STATE)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """A checkpoint's training state, loaded safely (tensors, dicts, lists, numbers, strings: nothing runs)."""
    state = load_tensors(path, what="checkpoint", fix=CHECKPOINT_FIX)
    if not isinstance(state, dict) or not {"model", "trainer", "history", "epoch"} <= state.keys():
        raise UserError(f"the checkpoint {path} is not an asc-bench training state.", fix=CHECKPOINT_FIX)
    return state


def trial_values(config: dict[str, Any]) -> dict[str, Any]:
    """The sampled values (dotted path → value) of a trial's config; empty when nothing is searched."""
    if "sample" in config:
        return json.loads(config["samples_json"])[config["sample"]]
    if "space" in config:
        choices = json.loads(config["choices_json"])
        values = {}
        for i, key in enumerate(config["keys"]):
            value = config["space"][f"p{i}"]
            values[key] = choices[key][value] if key in choices else value
        return values
    return {}


def trial_seed(config: dict[str, Any]) -> int:
    """The seed of a trial: a grid dimension, or the repeat index of a searcher's suggestion."""
    return int(config["seed"]) if "seed" in config else int(config["seeds"][config[TRIAL_INDEX]])


def trainable_function(config: dict[str, Any]) -> None:
    """The Ray Tune trainable: one trial of the experiment, from the sampled config Tune gives it."""
    from ray import tune

    trial_id = tune.get_context().get_trial_id()
    seed = trial_seed(config)
    spec_data = json.loads(config["spec_json"])
    values = trial_values(config)
    if values:  # re-validated as a full spec before anything else happens in the trial
        spec_data = concrete_spec(spec_data, values)
    reporter = TuneReporter(config["metric"])
    run_trial(
        spec_data,
        seed,
        trial_dir=trial_folder(Path(config["experiment_dir"]), seed, trial_id),
        trial_id=trial_id,
        reporter=reporter,
        threads=int(config["threads"]),
    )
    reporter.flush()
