"""Challenge rules beyond the complexity limits, checked before anything trains. ``limits.preset: dcase2025``
(DCASE 2025 Task 1, docs/dcase.md §7): train on the 25 % subset only (split25) and never choose anything on the
development-test split, which is for evaluation only."""

from __future__ import annotations

from asc_bench.core.errors import UserError
from asc_bench.spec.model import Spec

DCASE2025_SPLIT = "split25"


def check_rules(spec: Spec) -> None:
    """Refuse a spec that breaks the rules of its challenge preset, naming the rule."""
    if spec.limits.preset != "dcase2025":
        return
    split = getattr(spec.data.dataset, "split", None)
    if split != DCASE2025_SPLIT:
        raise UserError(
            f"the DCASE 2025 Task 1 rules allow training only on the 25 % subset ({DCASE2025_SPLIT}); this spec "
            f"trains on {split or 'a dataset without a split setting'}.",
            where="data.dataset.split",
            fix=f"Set data.dataset.split: {DCASE2025_SPLIT}, or use limits.preset: dcase outside the 2025 rules.",
        )
    if spec.tune.select_on_test:
        raise UserError(
            "the DCASE 2025 Task 1 rules allow the development-test split only for evaluation, but "
            "tune.select_on_test chooses the configuration on it.",
            where="tune.select_on_test",
            fix="Hold out a validation split (data.dataset.validation.fraction) and set tune.select_on_test: false.",
        )
