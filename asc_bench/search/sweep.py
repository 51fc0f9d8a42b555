"""A search, planned and judged in the driver.

Before any trial: the tuning metric is chosen (validation scores; test scores only on explicit opt-in),
every configuration of a random/grid search is drawn and validated as a full spec, including the
complexity limits, and an Optuna search's bounds and options are checked the same way. After the
trials: configurations are ranked on the tuning metric averaged over seeds, and the best one's test
scores are reported.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asc_bench.core.errors import UserError
from asc_bench.model.build import check_complexity
from asc_bench.plugins import registry
from asc_bench.records.io import read_record
from asc_bench.search.space import expand
from asc_bench.spec.hashing import spec_hash
from asc_bench.spec.model import Spec
from asc_bench.spec.resolve import resolve_for_run
from asc_bench.spec.space import apply_values, describe, get_value
from asc_bench.spec.validate import SpecModels, validate_spec

SEARCH_FIELDS = ("space", "num_samples", "search", "scheduler", "max_trials")
"""Fields a sampled configuration's spec drops: it is one concrete configuration, re-runnable alone."""
PROGRESS_EVERY = 100
"""Configurations validated between two progress reports."""


@dataclass(frozen=True)
class SweepPlan:
    """What the experiment runs: the metric a search optimises (``None`` without a space), for a
    random/grid search every configuration as sampled values, for Optuna each choice's options; values
    are as trials must see them (relative paths made absolute in the driver)."""

    metric: str | None
    mode: str
    search: str
    seeds: list[int]
    num_trials: int
    samples: list[dict[str, Any]] = field(default_factory=list)
    choices: dict[str, list[Any]] = field(default_factory=dict)
    on_test: bool = False

    @property
    def is_sweep(self) -> bool:
        """Whether configurations are searched (not only seeds repeated)."""
        return self.metric is not None


def concrete_spec(
    base: dict[str, Any], values: dict[str, Any], *, resolve: bool = False, models: SpecModels | None = None
) -> dict[str, Any]:
    """The spec of one sampled configuration: ``values`` written in, search fields dropped, validated as a
    full spec (a clear error naming the sample otherwise), named ``<name>.<first 6 of its hash>`` and, in
    the driver, ``resolve``-d (absolute paths). ``models`` reuses spec models across configurations."""
    data = apply_values(base, values)
    data["tune"] = {k: v for k, v in data.get("tune", {}).items() if k not in SEARCH_FIELDS}
    spec = validate_spec(data, source=f"sampled configuration ({describe(values)})", models=models)
    if resolve:
        spec = resolve_for_run(spec)
    name = f"{base['name']}.{spec_hash(spec)[:6]}"
    return spec.model_copy(update={"name": name}).model_dump(mode="json")


@dataclass
class _Checked:
    """What a plan has validated so far: spec models, configurations (as trials see them), models' sizes."""

    models: SpecModels = field(default_factory=dict)
    configurations: dict[str, dict[str, Any]] = field(default_factory=dict)
    complexity: set[str] = field(default_factory=set)


def _check_sample(base: dict[str, Any], values: dict[str, Any], checked: _Checked) -> dict[str, Any]:
    """Validate one configuration (each distinct one once), check its model against the limits (once per
    distinct model section) and return its values as trials must see them."""
    seen = json.dumps(values, sort_keys=True, default=str)
    if seen in checked.configurations:
        return checked.configurations[seen]
    data = concrete_spec(base, values, resolve=True, models=checked.models)
    key = json.dumps([data["model"], data["data"]["transforms"], data["data"]["sample_rate"], data["limits"]])
    if key not in checked.complexity:
        try:
            check_complexity(validate_spec(data, models=checked.models))
        except UserError as exc:
            raise UserError(f"sampled configuration ({describe(values)}): {exc}") from None
        checked.complexity.add(key)
    return checked.configurations.setdefault(seen, {key: get_value(data, key) for key in values})


def _metric(spec: Spec) -> tuple[str, bool]:
    """The per-epoch key a search optimises, and whether it is a test score."""
    tune = spec.tune
    dataset = registry.build("dataset", spec.data.dataset, where="data.dataset")
    if "validation" in dataset.splits():
        return f"val_{tune.metric}", False
    if tune.select_on_test:
        return f"test_{tune.metric}", True
    raise UserError(
        "tune.space searches over configurations, but the dataset has no validation split, so the best "
        "configuration would be chosen on its test scores.",
        where="data.dataset",
        fix="Hold out part of the training data, e.g. `validation: {fraction: 0.1}` in data.dataset (tau22), "
        "or set `tune.select_on_test: true` to choose on test scores knowingly.",
    )


def _require_optuna() -> None:
    try:
        import optuna  # noqa: F401
    except ImportError:
        raise UserError(
            "tune.search.type optuna needs the Optuna package, which is not installed.",
            where="tune.search.type",
            fix="Install the extra: pip install 'asc-bench[optuna]' (or use type: random).",
        ) from None


def plan_sweep(spec: Spec, progress: Callable[[int, int], None] | None = None) -> SweepPlan:
    """Check a spec's search and draw its configurations; every problem is a :class:`UserError` here,
    before any trial starts. ``progress(done, total)`` follows the validation of the configurations."""
    tune = spec.tune
    seeds = list(spec.seeds)
    if not tune.space:
        if tune.num_samples != 1:
            raise UserError(
                "without tune.space every sample would be the same configuration.",
                where="tune.num_samples",
                fix="Add a tune.space, or repeat runs with more seeds (seeds: [1, 2, 3]).",
            )
        if tune.scheduler is not None:
            raise UserError(
                "a scheduler stops poor configurations early, but without tune.space there is only one.",
                where="tune.scheduler",
                fix="Add a tune.space or remove the scheduler.",
            )
        return SweepPlan(None, tune.best_mode, "none", seeds, len(seeds))
    epochs = spec.trainer.epochs
    if tune.scheduler is not None and tune.scheduler.grace_period > epochs:
        raise UserError(
            f"grace_period {tune.scheduler.grace_period} is longer than the {epochs} training epochs.",
            where="tune.scheduler.grace_period",
            fix="Lower it, or train for more epochs.",
        )
    metric, on_test = _metric(spec)
    base = spec.model_dump(mode="json")
    checked = _Checked()
    if tune.search.type == "optuna":
        _require_optuna()
        grid = [key for key, dim in tune.space.items() if dim.kind == "grid"]
        if grid:
            raise UserError(
                f"Optuna cannot search a grid dimension ({', '.join(grid)}).",
                where="tune.space",
                fix="Use `choice` for those dimensions, or search.type random for a grid search.",
            )
        choices = {}
        for key, dim in tune.space.items():
            probed = [_check_sample(base, {key: value}, checked)[key] for value in dim.probes()]
            if dim.kind == "choice":
                choices[key] = probed
        trials = tune.num_samples * len(seeds)
        return SweepPlan(metric, tune.best_mode, "optuna", seeds, trials, choices=choices, on_test=on_test)
    drawn = expand(tune.space, tune.num_samples, tune.search.seed)
    samples = []
    for i, values in enumerate(drawn, 1):
        samples.append(_check_sample(base, values, checked))
        if progress and (i % PROGRESS_EVERY == 0 or i == len(drawn)):
            progress(i, len(drawn))
    return SweepPlan(metric, tune.best_mode, "random", seeds, len(samples) * len(seeds), samples, on_test=on_test)


# ---------------------------------------------------------------------------------------------- after the trials


@dataclass(frozen=True)
class TrialOutcome:
    """One finished, stopped, failed or unfinished trial of a search."""

    values: dict[str, Any]
    seed: int
    status: str  # finished | stopped | failed | unfinished
    score: float | None  # the tuning metric at the trial's last report
    record: Path | None


@dataclass
class ConfigResult:
    """One configuration over its seeds."""

    values: dict[str, Any]
    trials: list[TrialOutcome] = field(default_factory=list)
    name: str = ""
    spec_hash: str = ""
    test_macro_acc: list[float] = field(default_factory=list)
    test_log_loss: list[float] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every seed finished and wrote its record."""
        return all(t.status == "finished" for t in self.trials)

    @property
    def scores(self) -> list[float]:
        return [t.score for t in self.trials if t.score is not None]

    @property
    def status(self) -> str:
        states = [t.status for t in self.trials]
        return next((s for s in ("failed", "unfinished", "stopped") if s in states), "finished")


def rank(outcomes: list[TrialOutcome], mode: str) -> list[ConfigResult]:
    """Configurations, best first: complete ones by mean score over seeds, then the others."""
    configs: dict[str, ConfigResult] = {}
    for outcome in outcomes:
        key = json.dumps(outcome.values, sort_keys=True)
        config = configs.setdefault(key, ConfigResult(outcome.values))
        config.trials.append(outcome)
        if outcome.record is not None:
            record = read_record(outcome.record)
            config.name, config.spec_hash = record.name, record.spec_hash
            if record.metrics.macro_acc is not None and record.metrics.log_loss is not None:
                config.test_macro_acc.append(record.metrics.macro_acc)
                config.test_log_loss.append(record.metrics.log_loss)
    sign = -1 if mode == "max" else 1

    def order(config: ConfigResult) -> tuple[bool, float]:
        scores = config.scores
        return not (config.complete and scores), sign * statistics.fmean(scores) if scores else 0.0

    return sorted(configs.values(), key=order)


def best(configs: list[ConfigResult]) -> ConfigResult | None:
    """The chosen configuration: the first of :func:`rank` if every one of its seeds finished."""
    return configs[0] if configs and configs[0].complete and configs[0].scores else None


def best_summary(configs: list[ConfigResult], plan: SweepPlan) -> dict[str, Any] | None:
    """The chosen configuration as stored in the experiment's state file (``asc-bench runs``)."""
    chosen = best(configs)
    if chosen is None:
        return None
    return {
        "values": chosen.values,
        "name": chosen.name,
        "spec_hash": chosen.spec_hash,
        "metric": plan.metric,
        "score": statistics.fmean(chosen.scores),
        "test_macro_acc": statistics.fmean(chosen.test_macro_acc),
        "on_test": plan.on_test,
    }
