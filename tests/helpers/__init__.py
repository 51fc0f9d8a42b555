"""Helpers shared by the tests (fixtures live in conftest.py): the repository root and small spec files."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository root."""

SPEC_TEMPLATE = """\
name: {name}
seeds: {seeds}
data:
  dataset: {{type: tau22, root: {root}}}
  cache: {cache}
  transforms:
{transforms}
model: {model}
trainer: {{type: supervised, epochs: {epochs}, batch_size: 64, schedule: {{type: cosine, warmup_steps: 5}}}}
output: {{dir: {runs}}}
{extra}
"""
SPEC_DEFAULTS = {
    "name": "tiny",
    "seeds": "[1]",
    "cache": "{type: memmap}",
    "transforms": "    - {type: roll, max_shift_s: 0.1}\n    - {type: mel, n_mels: 64}\n"
    "    - {type: freq_mask, max_bins: 8}",
    "model": "{type: baseline2024, base_channels: 16}",
    "epochs": "1",
    "extra": "",
}


def spec_file(tmp_path: Path, root: Path, **fields: str) -> Path:
    """A small quickstart-like spec on ``root`` written into ``tmp_path`` (``fields`` replace parts)."""
    values = {**SPEC_DEFAULTS, **fields, "root": root, "runs": tmp_path / "runs"}
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC_TEMPLATE.format(**values))
    return path
