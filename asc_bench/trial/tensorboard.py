"""TensorBoard event files for a trial: per-epoch scalars, the final per-device/per-city scores, a confusion-matrix
figure and hparams (spec fields vs final metrics) for the HParams tab."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

CELL = 44  # pixels per confusion-matrix cell
_LOW = np.array([247, 251, 255], dtype=np.float64)  # colour of an empty row share
_HIGH = np.array([8, 48, 107], dtype=np.float64)  # colour of a full row share


def confusion_image(confusion: Sequence[Sequence[int]], class_names: Sequence[str]) -> np.ndarray:
    """The confusion matrix as an ``(H, W, 3)`` uint8 picture: true classes as rows, predictions as columns,
    each cell shaded by its share of the row and labelled with that share in percent; rows are labelled with
    the class name and its number, columns with the number."""
    from PIL import Image, ImageDraw, ImageFont

    counts = np.asarray(confusion, dtype=np.float64)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    font = ImageFont.load_default(size=12)
    labels = [f"{name} {i}" for i, name in enumerate(class_names)]
    left = 12 + max(int(font.getlength(label)) for label in labels)
    top, n = 40, len(class_names)
    image = Image.new("RGB", (left + n * CELL + 8, top + n * CELL + 28), "white")
    draw = ImageDraw.Draw(image)
    draw.text((left, 4), "predicted class", fill="black", font=font)
    for j in range(n):
        draw.text((left + j * CELL + CELL // 2, top - 8), str(j), fill="black", font=font, anchor="ms")
    for i, label in enumerate(labels):
        y = top + i * CELL
        draw.text((left - 6, y + CELL // 2), label, fill="black", font=font, anchor="rm")
        for j in range(n):
            share = shares[i, j]
            colour = tuple(int(c) for c in _LOW + (_HIGH - _LOW) * share)
            x = left + j * CELL
            draw.rectangle((x, y, x + CELL - 1, y + CELL - 1), fill=colour, outline=(200, 200, 200))
            text = "white" if share > 0.5 else "black"
            draw.text((x + CELL // 2, y + CELL // 2), f"{100 * share:.0f}", fill=text, font=font, anchor="mm")
    draw.text((left, top + n * CELL + 8), "rows: true class; cells: % of the row", fill="black", font=font)
    return np.asarray(image)


def confusion_markdown(confusion: Sequence[Sequence[int]], class_names: Sequence[str]) -> str:
    """The confusion matrix as a Markdown table of counts (TensorBoard's Text tab)."""
    header = "| true \\ predicted | " + " | ".join(class_names) + " |"
    rule = "|" + "---|" * (len(class_names) + 1)
    rows = [
        f"| {name} | " + " | ".join(str(int(c)) for c in row) + " |"
        for name, row in zip(class_names, confusion, strict=True)
    ]
    return "\n".join([header, rule, *rows])


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
        """Final scores: overall, per device and per city, the confusion matrix, and hparams for comparing trials."""
        for group in ("per_device", "per_city", "per_class"):
            for name, score in metrics[group].items():
                if score["acc"] is not None:
                    self.writer.add_scalar(f"{group}/{name}", score["acc"], step)
        class_names = list(metrics["per_class"])
        self.writer.add_image(
            "confusion_matrix", confusion_image(metrics["confusion"], class_names), step, dataformats="HWC"
        )
        self.writer.add_text("confusion_matrix", confusion_markdown(metrics["confusion"], class_names), step)
        finals = {f"final/{k}": metrics[k] for k in ("macro_acc", "micro_acc", "log_loss") if metrics[k] is not None}
        self.writer.add_hparams(hparams, finals, run_name=".")
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
