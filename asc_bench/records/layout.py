"""The files of an experiment folder, named once: ``<output.dir>/<spec name>/<timestamp>/`` holds
``experiment.json`` and one folder per trial, ``seed<N>-<trial id>/``, with its record, weights and TensorBoard
events. Tune's checkpoints (``state.pt`` inside each) live in Tune's storage."""

from __future__ import annotations

from pathlib import Path

RECORD_NAME = "record.json"
"""The trial's result record."""
MODEL_NAME = "model.pt"
"""The trained float32 state_dict, beside the record (``asc-bench predict`` loads it)."""
CHECKPOINT_STATE = "state.pt"
"""The training state inside each Tune checkpoint (model, trainer, history, epoch)."""
EXPERIMENT_STATE = "experiment.json"
"""An experiment's status, trial counts and best score (``asc-bench runs``)."""


def trial_folder(experiment: Path, seed: int, trial_id: str) -> Path:
    """The folder of one trial of an experiment."""
    return Path(experiment) / f"seed{seed}-{trial_id}"
