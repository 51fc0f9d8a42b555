"""A third-party plugin package from `plugin new` to a leaderboard, installed outside the project's venv.

One package per kind is scaffolded, installed with pip into a temporary target folder (never into the venv) and
put on PYTHONPATH. Then, as a user would: `asc-bench plugins --check`, the packages' own generated tests (the
conformance kit), `asc-bench schema`, and `asc-bench validate` + a short `asc-bench run` of an example spec.
The five new plugins also train together for one epoch, in-process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from asc_bench.plugins import registry
from asc_bench.plugins.scaffold import scaffold_plugin
from asc_bench.spec.resolve import resolve_for_run
from asc_bench.spec.validate import load_spec
from asc_bench.trial.run import run_trial

CLI = [sys.executable, "-m", "asc_bench.cli"]
pytestmark = pytest.mark.slow
DESCRIPTIONS = {
    "dataset": "10-s recordings per scene class",
    "cache": "Precision the rows are kept at in RAM.",
    "transform": "Highest signal-to-noise ratio in dB",
    "model": "Channels of the first convolution",
    "trainer": "Focal-loss focusing parameter",
}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(folder with the five scaffolded packages, pip --target folder they are installed into)."""
    root = tmp_path_factory.mktemp("plugins")
    for kind in registry.KINDS:
        scaffold_plugin(f"my_{kind}", kind, root)
    target = root / "site"
    packages = sorted(str(p) for p in root.glob("asc-bench-my-*"))
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target", str(target)]
    result = subprocess.run([*pip, *packages], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in target.glob("*.dist-info")) == [
        f"asc_bench_my_{kind}-0.1.0.dist-info" for kind in sorted(registry.KINDS)
    ]
    return root, target


def _env(target: Path, cache_dir: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(target), "ASC_BENCH_CACHE_DIR": str(cache_dir), "COLUMNS": "250"}


def test_installed_plugins_are_listed_checked_and_pass_their_own_tests(installed, cache_dir: Path) -> None:  # noqa: ANN001
    root, target = installed
    env = _env(target, cache_dir)
    check = subprocess.run([*CLI, "plugins", "--check"], capture_output=True, text=True, timeout=300, env=env)
    assert check.returncode == 0, check.stdout + check.stderr
    listing = " ".join(check.stdout.split())
    for kind in registry.KINDS:
        assert f"{kind} │ my_{kind} │ asc-bench-my-{kind} │ 0.1.0" in listing

    tests = sorted(str(p) for p in root.glob("asc-bench-my-*/tests/test_*.py"))
    own = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
        cwd=root,
    )
    assert own.returncode == 0, own.stdout + own.stderr
    assert "5 passed" in own.stdout

    schema_path = root / "asc-bench.schema.json"
    schema = subprocess.run([*CLI, "schema", "--out", str(schema_path)], capture_output=True, text=True, env=env)
    assert schema.returncode == 0, schema.stderr
    text = schema_path.read_text()
    for kind, description in DESCRIPTIONS.items():
        assert f'"const": "my_{kind}"' in text and description in text


def test_example_spec_validates_runs_and_reaches_the_leaderboard(
    installed,  # noqa: ANN001
    synth_root: Path,
    cache_dir: Path,
    tmp_path: Path,
) -> None:
    root, target = installed
    spec = root / "asc-bench-my-model" / "specs" / "example.yaml"
    env = _env(target, cache_dir)
    sets = ["--set", f"data.dataset.root={synth_root}", "--set", f"output.dir={tmp_path / 'runs'}"]
    short = ["trainer.epochs=1", "data.transforms.1.n_mels=64", "model.channels=8"]  # a small model, one epoch
    valid = subprocess.run([*CLI, "validate", str(spec), *sets], capture_output=True, text=True, env=env)
    assert valid.returncode == 0, valid.stderr
    run = subprocess.run(
        [*CLI, "run", str(spec), *sets, *(arg for value in short for arg in ("--set", value))],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "within limits" in run.stdout and "my_model-example" in run.stdout  # the leaderboard row
    (record_path,) = (tmp_path / "runs" / "my_model-example").glob("*/*/record.json")
    record = json.loads(record_path.read_text())
    used = {(p["kind"], p["name"]): p for p in record["environment"]["plugins"]}
    assert used[("model", "my_model")]["distribution"] == "asc-bench-my-model"
    assert used[("model", "my_model")]["version"] == "0.1.0"
    assert used[("dataset", "tau22")]["distribution"] == "asc-bench"


def test_all_five_plugins_train_together(installed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    """The dataset plugin's example spec (it needs no data) with the other four new plugins swapped in."""
    root, target = installed
    monkeypatch.syspath_prepend(str(target))
    registry.discover.cache_clear()
    overrides = [
        "data.cache={type: my_cache}",
        "data.transforms=[{type: my_transform}, {type: mel, n_mels: 64}]",
        "model={type: my_model, channels: 8}",
        "trainer={type: my_trainer, epochs: 1, batch_size: 64}",
        f"output.dir={tmp_path}",
    ]
    spec = resolve_for_run(load_spec(root / "asc-bench-my-dataset" / "specs" / "example.yaml", overrides))
    record = run_trial(spec.model_dump(mode="json"), 1, trial_dir=tmp_path / "trial", trial_id="t", reporter=_Quiet())
    assert record.history[0]["epoch"] == 1 and record.metrics.count == 200  # the generated test split
    assert {(p["kind"], p["name"], p["distribution"]) for p in record.environment["plugins"]} == {
        (kind, f"my_{kind}", f"asc-bench-my-{kind}") for kind in registry.KINDS
    } | {("transform", "mel", "asc-bench")}


class _Quiet:
    """A reporter that keeps nothing (no checkpoints, no resume)."""

    def report(self, metrics: dict, state: dict) -> None:
        pass

    def restore(self) -> None:
        return None
