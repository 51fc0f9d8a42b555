"""What a local Ray started by asc-bench runs: no dashboard web server (Ray keeps a minimal head process with
only its usage-stats module, and usage stats are off), checked on the live processes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import json, os, socket
    import ray
    from asc_bench.runner.cluster import start_ray

    start_ray(num_cpus=1)
    session = ray._private.worker.global_worker.node.get_session_dir_path()
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            args = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace").split("\\0")
            environ = open(f"/proc/{pid}/environ", "rb").read().decode(errors="replace").split("\\0")
        except OSError:
            continue
        if any("dashboard" in a for a in args) and any(session in a for a in args):
            found.append({"args": args, "usage_stats": "RAY_USAGE_STATS_ENABLED=0" in environ})
    with socket.socket() as probe:
        served = probe.connect_ex(("127.0.0.1", 8265)) == 0
    print(json.dumps({"processes": found, "served": served}))
    ray.shutdown()
    """
)


def test_a_local_ray_serves_no_dashboard() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    heads = [p for p in seen["processes"] if any(a.endswith("dashboard.py") for a in p["args"])]
    assert heads, seen  # Ray always starts its head process; it must be the minimal one
    for head in heads:
        assert "--disable-frontend" in head["args"] and "--modules-to-load=UsageStatsHead" in head["args"]
        assert head["usage_stats"], "usage stats, the one module it loads, must be off"
    assert not seen["served"], "something answers on the dashboard port"
