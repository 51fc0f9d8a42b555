"""``--set`` inside ``tune.space`` (whose keys are dotted paths themselves) and ``--sweep`` as a grid."""

from __future__ import annotations

import datetime

import pytest

from asc_bench.core.errors import UserError
from asc_bench.spec.overrides import apply_overrides, override_positions, parse_override, sweep_overrides


def test_a_dotted_key_inside_tune_space_stays_one_key() -> None:
    text = "tune.space.trainer.optimizer.lr={loguniform: [1e-4, 1e-2]}"
    assert parse_override(text) == (["tune", "space", "trainer.optimizer.lr"], {"loguniform": [1e-4, 1e-2]})
    raw = {"tune": {"space": {"model.base_channels": {"grid": [8, 16]}}}}
    space = apply_overrides(raw, [text, "tune.space.data.transforms.0.n_mels={grid: [64, 128]}"])["tune"]["space"]
    assert space == {
        "model.base_channels": {"grid": [8, 16]},
        "trainer.optimizer.lr": {"loguniform": [0.0001, 0.01]},  # 1e-4 read as the number YAML 1.1 misses
        "data.transforms.0.n_mels": {"grid": [64, 128]},
    }
    assert raw["tune"]["space"] == {"model.base_channels": {"grid": [8, 16]}}  # the input is unchanged
    assert override_positions({}, [text]) == {("tune", "space", "trainer.optimizer.lr"): f"--set {text}"}


def test_sweep_becomes_a_grid_and_commas_inside_brackets_do_not_split() -> None:
    given = ["trainer.optimizer.lr=1e-3,3e-3", "model={type: a, n: [1, 2]},{type: b}", "name='a # b',2024-01-01"]
    sets = sweep_overrides(given)
    raw = apply_overrides({}, sets)
    assert raw["tune"]["space"] == {
        "trainer.optimizer.lr": {"grid": [0.001, 0.003]},
        "model": {"grid": [{"type": "a", "n": [1, 2]}, {"type": "b"}]},
        "name": {"grid": ["a # b", datetime.date(2024, 1, 1)]},  # each value is YAML, as in --set
    }
    positions = override_positions({("tune", "space", "model"): (3, 1)}, sets)
    assert positions[("tune", "space", "model")] == f"--sweep {given[1]}"  # errors name the --sweep as given


@pytest.mark.parametrize("bad", ["trainer.optimizer.lr", "=1,2", "trainer.batch_size="])
def test_a_malformed_sweep_is_a_clear_error(bad: str) -> None:
    with pytest.raises(UserError, match="is not of the form path=value1,value2"):
        sweep_overrides([bad])
