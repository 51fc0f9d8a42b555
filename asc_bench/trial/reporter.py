"""How a trial reports each epoch and finds the state to resume from: Ray Tune in experiments, a plain object in
tests and in the conformance kit."""

from __future__ import annotations

from typing import Any, Protocol


class Reporter(Protocol):
    """Receives each epoch's scores with the training state to checkpoint; gives back the last saved state."""

    def report(self, metrics: dict[str, Any], state: dict[str, Any]) -> None: ...

    def restore(self) -> dict[str, Any] | None: ...
