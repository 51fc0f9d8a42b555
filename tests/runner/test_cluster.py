"""A real multi-node Ray cluster on this machine (a head and a worker node started with `ray start`, on
loopback addresses of their own), a sweep run on it from the command line, and bad cluster input.

Everything talks to the cluster through subprocesses, so the session's in-process Ray is never touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.tune import records, run_cli, sweep_spec, user_error

from asc_bench.core.errors import UserError
from asc_bench.runner.cluster import check_address

RAY = str(Path(sys.executable).with_name("ray"))
HEAD_IP, WORKER_IP = "127.0.0.2", "127.0.0.3"  # loopback, but not "localhost": Ray keeps them as they are
# A loopback test cluster without Ray's token authentication (the token would live in the user's home).
CLUSTER_ENV = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
CLUSTER_ENV.pop("RAY_ADDRESS", None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ports() -> list[str]:
    """Own ports for every service of a node, so that two nodes on one host never collide."""
    names = ("node-manager", "object-manager", "dashboard-agent-listen", "dashboard-agent-grpc", "metrics-export")
    return [f"--{name}-port={_free_port()}" for name in (*names, "runtime-env-agent")]


def _start(args: list[str], temp_dir: str, log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(
            [RAY, "start", "--block", "--num-cpus=1", f"--temp-dir={temp_dir}", *_ports(), *args],
            env=CLUSTER_ENV,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole below
        )


def _stop(process: subprocess.Popen) -> None:
    """Ask a `ray start --block` to shut its node down; kill what is left of its process group."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=60)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def _wait_for_nodes(address: str, count: int, timeout: float = 120) -> None:
    script = (
        "import sys, time, ray\n"
        f"ray.init(address={address!r}, log_to_driver=False, logging_level='ERROR')\n"
        f"deadline = time.time() + {timeout}\n"
        f"while sum(n['Alive'] for n in ray.nodes()) < {count}:\n"
        "    if time.time() > deadline: sys.exit('the nodes did not come up')\n"
        "    time.sleep(0.5)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=CLUSTER_ENV, capture_output=True, text=True, timeout=timeout + 60
    )
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A head node and one worker node (1 CPU each); yields the head's address; always shut down."""
    logs = tmp_path_factory.mktemp("cluster-logs")
    temp_dirs = [tempfile.mkdtemp(prefix="rc", dir="/tmp") for _ in range(2)]  # short: Ray's socket paths
    port = _free_port()
    address = f"{HEAD_IP}:{port}"
    nodes: list[subprocess.Popen] = []
    try:
        head_args = ["--head", f"--port={port}", f"--node-ip-address={HEAD_IP}", "--include-dashboard=false"]
        nodes.append(_start(head_args, temp_dirs[0], logs / "head.log"))
        deadline = time.monotonic() + 120
        while not _reachable(HEAD_IP, port):
            assert nodes[0].poll() is None and time.monotonic() < deadline, (logs / "head.log").read_text()
            time.sleep(0.5)
        nodes.append(_start([f"--address={address}", f"--node-ip-address={WORKER_IP}"], temp_dirs[1], logs / "w.log"))
        _wait_for_nodes(address, 2)
        yield address
    finally:
        for node in reversed(nodes):
            _stop(node)
        for folder in temp_dirs:
            shutil.rmtree(folder, ignore_errors=True)


def _reachable(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.slow
def test_a_sweep_runs_on_both_nodes(ray_cluster: str, tmp_path: Path, synth_root: Path, cache_dir: Path) -> None:
    path = sweep_spec(tmp_path, synth_root, trainer={"type": "supervised", "epochs": 1, "batch_size": 64})
    env = {**CLUSTER_ENV, "ASC_BENCH_CACHE_DIR": str(cache_dir)}
    result = run_cli("run", path, "--address", ray_cluster, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    found = records(tmp_path / "runs")
    assert len(found) == 2  # every trial wrote its record
    nodes = {r["environment"]["node_id"] for r in found.values()}
    ips = {r["environment"]["node_ip"] for r in found.values()}
    assert len(nodes) == 2 and ips == {HEAD_IP, WORKER_IP}  # one trial on each node
    state = json.loads(next((tmp_path / "runs" / "sw").glob("*/experiment.json")).read_text())
    assert state["status"] == "finished" and state["trials"]["finished"] == 2


def test_trials_larger_than_every_node_are_refused(ray_cluster: str, tmp_path: Path, synth_root: Path) -> None:
    path = sweep_spec(tmp_path, synth_root, tune={"resources": {"cpu": 2}})
    result = run_cli("run", path, env={**CLUSTER_ENV, "RAY_ADDRESS": ray_cluster})  # the address from the env
    user_error(result, "tune.resources", "2 CPU", "largest has 1 CPU", "2 node(s)")
    assert not (tmp_path / "runs").exists()


def test_an_unreachable_address_is_refused_at_once(tmp_path: Path, synth_root: Path) -> None:
    path = sweep_spec(tmp_path, synth_root)
    started = time.monotonic()
    result = run_cli("run", path, "--address", f"127.0.0.1:{_free_port()}", env=CLUSTER_ENV)
    user_error(result, "cannot reach the Ray cluster at 127.0.0.1:", "--address")
    assert time.monotonic() - started < 120 and not (tmp_path / "runs").exists()
    with pytest.raises(UserError, match="not of the form HOST:PORT"):
        check_address("head-node")
