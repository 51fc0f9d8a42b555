"""The trainer plugin contract: loss, optimiser and schedule; the framework owns the epoch loop."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import Field

from asc_bench.api.config import PluginConfig
from asc_bench.api.dataset import ClipTable
from asc_bench.api.transform import Batch

if TYPE_CHECKING:
    import torch


class TrainerConfig(PluginConfig):
    """Base of a trainer plugin's config: the framework's epoch loop reads ``epochs`` and ``batch_size``."""

    epochs: int = Field(150, ge=1, description="Training epochs.")
    batch_size: int = Field(256, ge=1, description="Clips per optimisation step.")


class Trainer(ABC):
    """A trainer plugin owns the loss, the optimiser and the schedule; the engine owns the epoch loop.

    The engine constructs it as ``Trainer(config, model, steps_per_epoch=..., clips=..., train_rows=...)``:
    ``clips`` is the dataset's :class:`ClipTable` (``Batch.clip`` indexes its rows, so ``clips.ids[row]``
    is a clip's id) and ``train_rows`` the rows of the training split (e.g. to check up front that a
    teacher covers every training clip). Both are ``None`` when a trainer is built outside a dataset.
    """

    Config: ClassVar[type[TrainerConfig]]

    def __init__(
        self,
        config: TrainerConfig,
        model: torch.nn.Module,
        *,
        steps_per_epoch: int,
        clips: ClipTable | None = None,
        train_rows: np.ndarray | None = None,
    ) -> None:
        self.config = config
        self.model = model
        self.steps_per_epoch = steps_per_epoch
        self.clips = clips
        self.train_rows = train_rows

    @property
    def epochs(self) -> int:
        return int(self.config.epochs)

    @property
    def batch_size(self) -> int:
        return int(self.config.batch_size)

    def use_precision(self, precision: str) -> str:
        """Called by the engine once, after construction, with the spec's resolved ``runtime.precision``
        (``"fp32"``, ``"bf16"`` or ``"fp16"``; always ``"fp32"`` on the CPU unless the spec asks otherwise); return
        the precision the trainer will train at (the record says it). Default: ``"fp32"`` (a trainer that does
        not autocast). The model and every batch are already on the trial's device (``runtime.device``)."""
        return "fp32"

    @abstractmethod
    def train_step(self, batch: Batch) -> float | torch.Tensor:
        """One optimisation step on a transformed batch; returns the loss: a float, or a 0-dim tensor (on a GPU
        this saves a device-to-host sync per step; the engine reads the losses at the end of the epoch)."""
        ...

    @abstractmethod
    def current_lr(self) -> float:
        """The learning rate in use (for logging)."""
        ...

    def end_of_epoch(self, row: dict[str, Any]) -> bool:
        """Called after each epoch's evaluation with its history row (``epoch``, ``train_loss``, ``test_*`` and,
        when the data has a validation split, ``val_*`` scores); return True to stop training early.

        A trainer may change the model here (e.g. restore its best weights). Whatever it keeps must be in
        :meth:`state_dict`, which the engine saves after this call. Default: never stop.
        """
        return False

    @abstractmethod
    def state_dict(self) -> dict[str, Any]: ...

    @abstractmethod
    def load_state_dict(self, state: dict[str, Any]) -> None: ...
