"""Ray Tune searches: the space and its checks, the search plan, ranking, experiment state, and real sweeps
through the command line (grid search with ASHA, Optuna, Ctrl-C then --resume, a crashed trial retried)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.shared import made_once
from helpers.tune import CLI, LR, PIPES, records, run_cli, sweep_spec, user_error
from rich.console import Console

from asc_bench.cli.runs import render_experiments
from asc_bench.core.errors import UserError
from asc_bench.runner.experiments import latest_resumable, new_state, write_state
from asc_bench.search.space import expand
from asc_bench.search.sweep import TrialOutcome, best, plan_sweep, rank
from asc_bench.spec.hashing import spec_hash
from asc_bench.spec.resolve import resolve_for_run
from asc_bench.spec.space import Distribution
from asc_bench.spec.validate import load_spec, validate_spec

# ---------------------------------------------------------------------------------------------- the space


@pytest.mark.parametrize(
    ("dimension", "expected"),
    [
        ({"uniform": [1.0, 1.0]}, "low < high"),
        ({"loguniform": [0.0, 0.1]}, "0 < low"),
        ({"randint": [1.5, 4]}, "valid integer"),
        ({"quniform": [0.0, 1.0, 0.0]}, "0 < q"),
        ({"uniform": [0.0, 1.0], "choice": [1]}, "exactly one of"),
        ({"choice": []}, "at least 1 item"),
        ({"normal": [0, 1]}, "unknown field"),
    ],
)
def test_bad_distributions_are_refused_with_their_position(
    tmp_path: Path, dimension: dict[str, Any], expected: str
) -> None:
    path = sweep_spec(tmp_path, tmp_path, tune={"space": {LR: dimension}})
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if LR in text)
    with pytest.raises(UserError) as err:
        load_spec(path)
    where = re.search(rf"sw\.yaml:(\d+):\d+: tune\.space\.{re.escape(LR)}", str(err.value))
    assert where and line <= int(where.group(1)) <= line + 4, str(err.value)  # the dimension or its value
    assert expected in str(err.value)


def test_unknown_path_suggests_the_nearest_field(tmp_path: Path) -> None:
    path = sweep_spec(tmp_path, tmp_path, tune={"space": {"trainer.optimiser.lr": {"uniform": [0.001, 0.01]}}})
    result = run_cli("validate", path)
    user_error(result, "tune.space.trainer.optimiser.lr", "no field `trainer.optimiser.lr`", "`trainer.optimizer.lr`")


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("seeds", "does not describe a configuration"),
        ("data.dataset.root", "does not change results"),
        ("data.transforms.3.n_mels", "no field"),
        ("trainer.optimizer", "overlap"),
    ],
)
def test_paths_that_cannot_be_searched(tmp_path: Path, key: str, expected: str) -> None:
    space = {LR: {"uniform": [0.001, 0.01]}, key: {"choice": [1, 2]}}
    with pytest.raises(UserError, match=expected):
        load_spec(sweep_spec(tmp_path, tmp_path, tune={"space": space}))


def test_expand_crosses_grids_and_draws_reproducibly() -> None:
    space = {
        "a": Distribution(grid=[1, 2, 3]),
        "b": Distribution(loguniform=(1e-4, 1e-2)),
        "c": Distribution(randint=(1, 3)),
        "d": Distribution(quniform=(8, 64, 8)),
        "e": Distribution(choice=[{"type": "x"}, {"type": "y"}]),
    }
    samples = expand(space, num_samples=4, seed=7)
    assert len(samples) == 12 and [s["a"] for s in samples[:3]] == [1, 2, 3]
    assert samples == expand(space, num_samples=4, seed=7) != expand(space, num_samples=4, seed=8)
    assert all(1e-4 <= s["b"] <= 1e-2 and s["c"] in (1, 2) and s["d"] % 8 == 0 for s in samples)
    assert {s["e"]["type"] for s in samples} <= {"x", "y"} and len({s["b"] for s in samples}) == 12


# ---------------------------------------------------------------------------------------------- the plan


def _plan(tmp_path: Path, root: Path, **kwargs: Any):  # noqa: ANN202
    return plan_sweep(resolve_for_run(load_spec(sweep_spec(tmp_path, root, **kwargs))))


def test_plan_draws_and_validates_every_configuration(tmp_path: Path, synth_root: Path) -> None:
    space = {LR: {"loguniform": [0.001, 0.01]}, "model.base_channels": {"grid": [8, 16]}}
    plan = _plan(tmp_path, synth_root, seeds=[1, 2], tune={"space": space, "num_samples": 3})
    assert plan.metric == "val_macro_acc" and plan.mode == "max" and not plan.on_test
    assert len(plan.samples) == 6 and plan.num_trials == 12
    assert sorted({s["model.base_channels"] for s in plan.samples}) == [8, 16]


def test_a_search_without_validation_split_is_refused_unless_opted_in(tmp_path: Path, synth_root: Path) -> None:
    data = {"dataset": {"type": "tau22", "root": str(synth_root)}, "transforms": [{"type": "mel", "n_mels": 64}]}
    with pytest.raises(UserError, match="no validation split") as err:
        _plan(tmp_path, synth_root, data=data)
    assert "select_on_test" in str(err.value)
    plan = _plan(tmp_path, synth_root, data=data, tune={"select_on_test": True, "metric": "log_loss"})
    assert (plan.metric, plan.mode, plan.on_test) == ("test_log_loss", "min", True)


@pytest.mark.parametrize(
    ("tune", "expected"),
    [
        ({"space": {}, "num_samples": 4}, "same configuration"),
        ({"space": {}, "scheduler": {"type": "asha"}}, "only one"),
        ({"scheduler": {"type": "median", "grace_period": 5}}, "longer than the 2 training epochs"),
        ({"space": {"model.base_channels": {"choice": [16, 128]}}}, "base_channels=128"),
        ({"space": {LR: {"choice": [0.01, -1.0]}}}, "greater than 0"),
        ({"mode": "min"}, "needs mode max"),
    ],
)
def test_plan_refuses_bad_searches_before_any_trial(
    tmp_path: Path, synth_root: Path, tune: dict[str, Any], expected: str
) -> None:
    with pytest.raises(UserError, match=expected):
        _plan(tmp_path, synth_root, tune=tune)


def test_optuna_missing_is_a_clear_error(tmp_path: Path, synth_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(UserError, match=r"pip install 'asc-bench\[optuna\]'"):
        _plan(tmp_path, synth_root, tune={"search": {"type": "optuna"}, "space": {LR: {"uniform": [0.001, 0.01]}}})


def test_rank_averages_seeds_and_chooses_only_complete_configurations(tmp_path: Path) -> None:
    def trial(lr: float, seed: int, score: float, status: str = "finished") -> TrialOutcome:
        return TrialOutcome({LR: lr}, seed, status, score, None)

    outcomes = [
        trial(0.1, 1, 0.9, "stopped"),  # the best single score, but stopped: never chosen
        trial(0.1, 2, 0.2),
        trial(0.2, 1, 0.6),
        trial(0.2, 2, 0.4),  # mean 0.5
        trial(0.3, 1, 0.7),
        trial(0.3, 2, 0.2),  # mean 0.45
    ]
    ranked = rank(outcomes, "max")
    assert [c.values[LR] for c in ranked] == [0.2, 0.3, 0.1] and best(ranked).values[LR] == 0.2
    assert [c.values[LR] for c in rank(outcomes, "min")][:2] == [0.3, 0.2]
    assert best(rank(outcomes[:1], "max")) is None


def test_resume_finds_the_latest_interrupted_experiment_of_the_same_spec(tmp_path: Path) -> None:
    spec = {"name": "x", "trainer": {"epochs": 2}}
    root = tmp_path / "x"
    for stamp, status in (("a", "interrupted"), ("b", "finished"), ("c", "failed")):
        state = new_state("x", spec, f"tune/{stamp}", None, 1).model_copy(update={"status": status})
        write_state(root / stamp, state)
        time.sleep(0.01)
    assert latest_resumable(root, spec)[0].name == "c"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    state = new_state("x", spec, "tune/d", None, 1).model_copy(update={"pid": int(dead.stdout)})
    write_state(root / "d", state)  # "running", but its process is gone: interrupted
    assert latest_resumable(root, spec)[0].name == "d"
    with pytest.raises(UserError, match=r"spec changed .* \(in: trainer.epochs\)"):
        latest_resumable(root, {**spec, "trainer": {"epochs": 3}})
    with pytest.raises(UserError, match="no experiment of 'y'"):
        latest_resumable(tmp_path / "y", {"name": "y"})


# ---------------------------------------------------------------------------------------------- real sweeps

RESULT = "result.json"  # the sweep's exit status and output, beside its runs/


@pytest.fixture(scope="module")
def grid_sweep(tmp_path_factory: pytest.TempPathFactory, synth_root: Path, cache_dir: Path):  # noqa: ANN201
    """Two learning rates x two seeds under ASHA, two trials at a time, run from the command line (once per test
    run, even when this module's tests run on two workers: helpers.shared)."""

    def make(folder: Path) -> None:
        asha = {"type": "asha", "grace_period": 2}  # judges at the last epoch: after the records, which must survive
        path = sweep_spec(folder, synth_root, seeds=[1, 2], tune={"scheduler": asha, "max_concurrent_trials": 2})
        result = run_cli("run", path, env={"ASC_BENCH_CACHE_DIR": str(cache_dir)})
        saved = {key: getattr(result, key) for key in ("returncode", "stdout", "stderr")}
        (folder / RESULT).write_text(json.dumps(saved))

    folder = made_once(tmp_path_factory, "sweep", make)
    return folder, subprocess.CompletedProcess(["run"], **json.loads((folder / RESULT).read_text()))


def test_sweep_trains_every_seed_of_every_configuration(grid_sweep) -> None:  # noqa: ANN001
    folder, result = grid_sweep
    assert result.returncode == 0, result.stdout + result.stderr
    found = records(folder / "runs")
    assert len(found) == 4 and sorted({seed for _, seed in found}) == [1, 2]
    by_hash: dict[str, list[dict[str, Any]]] = {}
    for (digest, _), record in found.items():
        by_hash.setdefault(digest, []).append(record)
    assert len(by_hash) == 2  # one spec hash per configuration, shared by its seeds
    for digest, group in by_hash.items():
        spec = group[0]["spec"]
        assert spec["name"] == f"sw.{digest[:6]}" and not spec["tune"]["space"]  # a concrete configuration
        assert spec_hash(validate_spec(spec)) == digest
        assert group[0]["environment"]["node_id"] and group[0]["timings"]["setup_s"] > 0
        assert [row["epoch"] for row in group[0]["history"]] == [1, 2] and "val_macro_acc" in group[0]["history"][-1]
    assert {g[0]["spec"]["trainer"]["optimizer"]["lr"] for g in by_hash.values()} == {0.001, 0.01}


def test_sweep_chooses_the_best_configuration_on_validation_and_reports_its_test_scores(grid_sweep) -> None:  # noqa: ANN001
    folder, result = grid_sweep
    found = records(folder / "runs")
    val: dict[str, list[float]] = {}
    test: dict[str, list[float]] = {}
    for (digest, _), record in found.items():
        val.setdefault(digest, []).append(record["history"][-1]["val_macro_acc"])
        test.setdefault(digest, []).append(record["metrics"]["macro_acc"])
    state = json.loads(next((folder / "runs" / "sw").glob("*/experiment.json")).read_text())
    assert state["status"] == "finished" and state["trials"] == {"total": 4, "finished": 4, "failed": 0, "stopped": 0}
    chosen = state["best"]["spec_hash"]
    assert sum(val[chosen]) == max(sum(v) for v in val.values())  # the best mean over seeds on validation
    assert state["best"]["metric"] == "val_macro_acc" and state["best"]["name"] == f"sw.{chosen[:6]}"
    out = " ".join(result.stdout.split())
    assert "configurations ranked on val_macro_acc" in out
    best_line = out[out.index("best configuration:") :]
    assert chosen in best_line and f"macro acc {100 * sum(test[chosen]) / 2:.2f}" in best_line
    leaderboard = result.stdout.split("wrote 4 result record(s)")[1]
    assert f"sw.{chosen[:6]}" in leaderboard


def test_runs_lists_the_experiment(grid_sweep) -> None:  # noqa: ANN001
    folder, _ = grid_sweep
    result = run_cli("runs", folder / "runs")
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if line.strip().startswith("│ sw"))
    assert "finished" in row and "4/4" in row and "val_macro_acc" in row


def _wait_for(pattern: str, folder: Path, process: subprocess.Popen, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not list(folder.glob(pattern)):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"nothing matched {pattern} under {folder}"
        time.sleep(0.2)


@pytest.mark.slow
def test_ctrl_c_leaves_a_resumable_experiment_that_finishes_exactly(
    grid_sweep, tmp_path: Path, synth_root: Path, cache_dir: Path
) -> None:  # noqa: ANN001
    path = sweep_spec(tmp_path, synth_root, tune={"max_concurrent_trials": 1})
    env = {**os.environ, "COLUMNS": "200", "ASC_BENCH_CACHE_DIR": str(cache_dir)}
    process = subprocess.Popen([*CLI, "run", str(path)], **PIPES, env=env, start_new_session=True)
    _wait_for("runs/sw/tune/*/*/checkpoint_*", tmp_path, process)  # the first trial finished an epoch
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground process group
    out, err = process.communicate(timeout=300)
    assert process.returncode == 130, out + err
    assert "interrupted" in err and "--resume" in " ".join(err.split())
    assert len(records(tmp_path / "runs")) < 2  # the second configuration had not started
    listing = Console(record=True, width=200)
    render_experiments(tmp_path / "runs", listing)
    assert "interrupted" in listing.export_text()

    resumed = run_cli("run", path, "--resume", env={"ASC_BENCH_CACHE_DIR": str(cache_dir)})
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert len(list((tmp_path / "runs" / "sw").glob("*/experiment.json"))) == 1  # continued, not restarted
    again = records(tmp_path / "runs")
    uninterrupted = records(grid_sweep[0] / "runs")
    assert len(again) == 2
    for key, record in again.items():
        assert record["metrics"] == uninterrupted[key]["metrics"]
        assert [r["train_loss"] for r in record["history"]] == [r["train_loss"] for r in uninterrupted[key]["history"]]
    with pytest.raises(UserError, match="nothing to resume: .* is finished"):
        latest_resumable(tmp_path / "runs" / "sw", {"name": "sw"})


def _descendants(pid: int) -> list[int]:
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # gone meanwhile
        return b""


@pytest.mark.slow
def test_a_crashed_trial_is_retried_from_its_checkpoint(
    grid_sweep, tmp_path: Path, synth_root: Path, cache_dir: Path
) -> None:  # noqa: ANN001
    path = sweep_spec(tmp_path, synth_root, tune={"space": {LR: {"grid": [0.01]}}})
    env = {**os.environ, "COLUMNS": "200", "ASC_BENCH_CACHE_DIR": str(cache_dir)}
    process = subprocess.Popen([*CLI, "run", str(path)], **PIPES, env=env)
    _wait_for("runs/sw/tune/*/*/checkpoint_*", tmp_path, process)
    workers = [pid for pid in _descendants(process.pid) if _cmdline(pid).startswith(b"ray::ImplicitFunc")]
    assert workers, "the trial's worker process was not found"
    os.kill(workers[0], signal.SIGKILL)  # a crash: the worker dies without a word
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, out + err
    ((key, record),) = records(tmp_path / "runs").items()
    uninterrupted = records(grid_sweep[0] / "runs")[key]
    assert record["metrics"] == uninterrupted["metrics"]
    assert [r["epoch"] for r in record["history"]] == [1, 2]
    assert record["timings"]["train_s"] == pytest.approx(record["history"][1]["train_s"])  # only epoch 2 re-ran
    assert list((tmp_path / "runs" / "sw" / "tune").glob("*/*/error.txt"))  # Tune saw the crash


@pytest.mark.slow
def test_optuna_search_runs_every_seed_of_its_suggestion(tmp_path: Path, synth_root: Path, cache_dir: Path) -> None:
    pytest.importorskip("optuna")
    space = {LR: {"loguniform": [0.001, 0.01]}, "model.base_channels": {"choice": [8, 16]}}
    tune = {"search": {"type": "optuna", "seed": 3}, "num_samples": 1, "space": space, "max_concurrent_trials": 2}
    path = sweep_spec(tmp_path, synth_root, seeds=[1, 2], tune=tune, trainer={"type": "supervised", "epochs": 1})
    result = run_cli("run", path, env={"ASC_BENCH_CACHE_DIR": str(cache_dir)})
    assert result.returncode == 0, result.stdout + result.stderr
    found = records(tmp_path / "runs")
    assert len(found) == 2
    assert sorted(seed for _, seed in found) == [1, 2] and len({digest for digest, _ in found}) == 1  # both seeds
    assert {r["spec"]["model"]["base_channels"] for r in found.values()} <= {8, 16}
    assert "best configuration:" in result.stdout
