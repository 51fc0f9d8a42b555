"""Every built-in spec's model, counted on the input its own pipeline makes, gives the published figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from asc_bench.model.build import check_complexity
from asc_bench.spec.validate import load_spec

SPECS = Path(__file__).resolve().parents[2] / "specs"

PUBLISHED = {  # spec: (input shape, parameters, MACs, parameter bytes at the spec's precision) — docs/dcase.md §3
    "baseline2023.yaml": ((1, 40, 51), 46_118, 29_271_638, 46_118),  # torchinfo; published (TFLite) 29,234,920
    "baseline2024.yaml": ((1, 256, 65), 61_148, 29_419_156, 122_296),
    "baseline2025.yaml": ((1, 256, 65), 61_148, 29_419_156, 122_296),  # each of the 7 models (§7: per device)
    "quickstart.yaml": ((1, 256, 65), 61_148, 29_419_156, 122_296),
    "cpjku.yaml": ((1, 256, 64), 126_952, 28_893_268, 126_952),
    "cai.yaml": ((1, 256, 64), 54_270, 29_700_320, 108_540),
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_spec_counts_match_published_figures(name: str) -> None:
    shape, params, macs, param_bytes = PUBLISHED[name]
    report = check_complexity(load_spec(SPECS / name))
    assert (report.input_shape, report.params, report.macs, report.param_bytes) == (shape, params, macs, param_bytes)


def test_cp_mobile_after_fusion_matches_cp_jku_report() -> None:
    report = check_complexity(load_spec(SPECS / "cpjku.yaml"), fused=True, enforce=False)
    assert report.params == 124_862


def test_every_built_in_spec_is_covered() -> None:
    built_in = {p.name for p in SPECS.glob("*.yaml")}
    assert set(PUBLISHED) <= built_in
    teachers_and_sweeps = built_in - set(PUBLISHED)
    assert all("teacher" in n or "sweep" in n for n in teachers_and_sweeps), teachers_and_sweeps
