"""A small DCASE 2025 spec (general model, two device models) on the synthetic set, and running the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DEVICES = ["b", "s3"]
"""Training devices of the small synthetic split25 (it has a, b, c, s2, s3) that get a model of their own."""

SPEC = """\
name: t25
seeds: [1]
data:
  dataset: {{type: tau22, root: {root}, split: split25}}
  cache: {{type: memmap}}
  transforms:
    - {{type: roll, max_shift_s: 0.1}}
    - {{type: mel, n_mels: 64}}
    - {{type: freq_mask, max_bins: 8}}
    - {{type: freq_mixstyle, p: 0.4, alpha: 0.3}}
model: {{type: baseline2024, base_channels: 16}}
trainer:
  type: device_finetune
  epochs: 2
  batch_size: 32
  schedule: {{type: cosine, warmup_steps: 5}}
  device_models:
    devices: {devices}
    set: [trainer.epochs=1, trainer.optimizer.lr=0.0005, trainer.schedule.warmup_steps=2, data.transforms.3.p=0]
limits: {{preset: dcase2025, param_dtype: float16}}
output: {{dir: {runs}}}
tune: {{resources: {{cpu: 1}}}}
"""


def asc_bench(*args: str, cache_dir: Path) -> subprocess.CompletedProcess:
    """Run the real CLI in a subprocess with the session's cache folder."""
    env = {**os.environ, "ASC_BENCH_CACHE_DIR": str(cache_dir)}
    command = [sys.executable, "-m", "asc_bench.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=900, env=env)


def spec_2025(folder: Path, root: Path, **fields: str) -> Path:
    """The spec file in ``folder`` (its runs go to ``folder/runs``); ``fields`` replace ``devices``."""
    values = {"root": root, "runs": folder / "runs", "devices": "[" + ", ".join(DEVICES) + "]", **fields}
    path = folder / "spec.yaml"
    path.write_text(SPEC.format(**values))
    return path
