"""TensorBoard event files for a trial: per-epoch scalars and the final per-device/per-city scores."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class TrialBoard:
    """Writes a trial's TensorBoard events into ``<trial_dir>/tensorboard``."""

    def __init__(self, trial_dir: Path) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(trial_dir / "tensorboard"))

    def epoch(self, row: dict[str, Any]) -> None:
        """Scalars of one epoch (loss, learning rate, test scores)."""
        step = int(row["epoch"])
        for key, value in row.items():
            if key != "epoch" and isinstance(value, int | float):
                self.writer.add_scalar(key.replace("_", "/", 1), value, step)

    def final(self, metrics: dict[str, Any], hparams: dict[str, Any], step: int) -> None:
        """Final scores: overall, per device and per city, plus hparams for comparing trials."""
        for group in ("per_device", "per_city", "per_class"):
            for name, score in metrics[group].items():
                if score["acc"] is not None:
                    self.writer.add_scalar(f"{group}/{name}", score["acc"], step)
        finals = {f"final/{k}": metrics[k] for k in ("macro_acc", "micro_acc", "log_loss") if metrics[k] is not None}
        self.writer.add_hparams(hparams, finals, run_name=".")
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
