"""Ray itself: start a local Ray or join a cluster (refusing an unreachable address at once), keep its
output quiet and bounded, and refuse trial resources that no node of the cluster has."""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from asc_bench.core.allocator import worker_environment
from asc_bench.core.errors import UserError

# Keep Ray quiet and small: no default Tune loggers (asc-bench writes its own records and TensorBoard
# files), rotated and bounded Ray logs, no new-style console reporter, no usage statistics (the one module the
# minimal dashboard process that Ray always starts would run).
_RAY_ENV = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1",
    "RAY_AIR_NEW_OUTPUT": "0",
    "RAY_ROTATION_MAX_BYTES": str(10 * 1024 * 1024),
    "RAY_ROTATION_BACKUP_COUNT": "1",
    "RAY_DEDUP_LOGS": "1",
    "TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S": "60",
}
CONNECT_TIMEOUT_S = 5.0


def check_address(address: str) -> None:
    """Refuse an address whose host and port do not answer (Ray itself would retry for minutes)."""
    if address in ("auto", "local"):
        return
    host, sep, port = address.split("://", 1)[-1].rpartition(":")
    if not sep or not port.isdigit():
        raise UserError(
            f"the Ray address {address!r} is not of the form HOST:PORT.",
            fix="Give the head node's GCS address, e.g. --address 10.0.0.5:6379 (ray start --head prints it).",
        )
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise UserError(
            f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}.",
            fix="Check the address (`ray status` on the head node) and that the port is open, or leave out "
            "--address and $RAY_ADDRESS to run on this machine.",
        ) from None


def start_ray(address: str | None = None, num_cpus: int | None = None) -> None:
    """Join ``address`` (or ``$RAY_ADDRESS``) or start a local Ray without dashboard; reuse a running one.

    Without the dashboard Ray still starts its head process in minimal mode (``dashboard.py --minimal
    --modules-to-load=UsageStatsHead --disable-frontend``: no web server, and usage stats are off) and one
    ``DashboardAgent`` per node, which the raylet needs; neither can be turned off."""
    import ray

    for key, value in _RAY_ENV.items():
        os.environ.setdefault(key, value)
    if ray.is_initialized():
        return
    address = address or os.environ.get("RAY_ADDRESS")
    kwargs: dict[str, Any] = {
        "logging_level": logging.ERROR,
        "log_to_driver": False,
        "configure_logging": True,
        "runtime_env": {"env_vars": worker_environment()},  # trials keep freed memory (asc_bench.core.allocator)
    }
    if address:
        check_address(address)
    try:
        if address:
            ray.init(address=address, **kwargs)
        else:
            ray.init(num_cpus=num_cpus or os.cpu_count(), include_dashboard=False, **kwargs)
    except ConnectionError as exc:
        raise UserError(
            f"cannot connect to the Ray cluster at {address}: {exc}.",
            fix="Check the address (ray status on the head node), or omit --address to run locally.",
        ) from None


def check_resources(cpu: float, gpu: float) -> None:
    """Refuse per-trial resources that no live node of the cluster has (a trial runs on one node), and a GPU share
    Ray cannot give (a fraction of one GPU, or whole GPUs)."""
    import ray

    if gpu > 1 and gpu != int(gpu):
        raise UserError(
            f"each trial asks for {gpu:g} GPUs: Ray gives a trial a fraction of one GPU or whole GPUs, not both.",
            where="tune.resources.gpu",
            fix="Use a fraction up to 1 (0.25 runs four trials per GPU) or a whole number of GPUs.",
        )

    nodes = [node["Resources"] for node in ray.nodes() if node.get("Alive")]
    if any(node.get("CPU", 0) >= cpu and node.get("GPU", 0) >= gpu for node in nodes):
        return
    largest = max(nodes, key=lambda node: (node.get("CPU", 0), node.get("GPU", 0)), default={})
    raise UserError(
        f"each trial asks for {cpu:g} CPU and {gpu:g} GPU, but no node of the Ray cluster has that much "
        f"(the largest has {largest.get('CPU', 0):g} CPU and {largest.get('GPU', 0):g} GPU, over "
        f"{len(nodes)} node(s)).",
        where="tune.resources",
        fix="Lower tune.resources (fractions are allowed), or add a larger node to the cluster.",
    )
