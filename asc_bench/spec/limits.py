"""The ``limits:`` section: the complexity limits a spec's model must meet, and the precision it is deployed at."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from asc_bench.core.strict import StrictModel

ParamDtype = Literal["float32", "float16", "int8"]
PARAM_DTYPE_BYTES: dict[str, int] = {"float32": 4, "float16": 2, "int8": 1}
DCASE_MACS = 30_000_000
DCASE_PARAM_BYTES = 128_000
DCASE_PRESETS = ("dcase", "dcase2025")


class Limits(StrictModel):
    """The complexity limits a spec's model must meet (the ``limits:`` section)."""

    preset: Literal["dcase", "dcase2025", "none"] | None = Field(
        "dcase",
        description="Named limits: 'dcase' = 30,000,000 MACs and 128,000 parameter bytes (DCASE 2022-2024 "
        "Task 1); 'dcase2025' = the same limits for each device model on its own, plus the 2025 rules (train on "
        "split25 only, never choose on the test split); 'none' (or null) = no limits, e.g. for a distillation "
        "teacher. Explicit numbers override.",
    )
    macs: int | None = Field(
        None, ge=1, description="Maximum multiply-accumulates for one clip at batch 1 (overrides the preset)."
    )
    param_bytes: int | None = Field(
        None, ge=1, description="Maximum parameter memory in bytes at param_dtype (overrides the preset)."
    )
    param_dtype: ParamDtype = Field(
        "float16",
        description="Precision the parameters are stored and evaluated at: float32 (4 B), float16 (2 B) or "
        "int8 (1 B, post-training static quantisation through PT2E).",
    )

    def max_macs(self) -> int | None:
        """The effective MAC limit, or None for no limit."""
        if self.macs is not None:
            return self.macs
        return DCASE_MACS if self.preset in DCASE_PRESETS else None

    def max_param_bytes(self) -> int | None:
        """The effective parameter-memory limit in bytes, or None for no limit."""
        if self.param_bytes is not None:
            return self.param_bytes
        return DCASE_PARAM_BYTES if self.preset in DCASE_PRESETS else None

    def resolved(self) -> dict[str, Any]:
        """The effective limits, for result records: ``{"macs", "param_bytes", "param_dtype"}``."""
        return {
            "macs": self.max_macs(),
            "param_bytes": self.max_param_bytes(),
            "param_dtype": self.param_dtype,
        }
