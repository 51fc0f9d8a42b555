"""Every registered transform, cache, dataset and trainer through the conformance kit (models: test_models.py).

Parametrised over the registry, so third-party plugins installed in this environment are checked too. A plugin
whose settings have no defaults the kit can fill in is skipped here (its own tests call the kit with settings).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from asc_bench.plugins import registry
from asc_bench.testing import check_cache, check_dataset, check_trainer, check_transform, example_config


def _config(kind: registry.Kind, name: str, **required: object):  # noqa: ANN202
    cls = registry.load(kind, name)
    config = example_config(cls, **required)
    if config is None:
        pytest.skip(f"the {kind} plugin {name!r} needs settings without defaults; its own tests check it")
    return cls, config


@pytest.mark.parametrize("name", sorted(registry.available("transform")))
def test_transform_conforms(name: str, synth_root: Path) -> None:
    check_transform(*_config("transform", name, folder=synth_root / "microphone_irs"))  # `dir` needs responses


@pytest.mark.parametrize("name", sorted(registry.available("cache")))
def test_cache_conforms(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASC_BENCH_CACHE_DIR", str(tmp_path / "env"))
    cls, config = _config("cache", name, dir=tmp_path / "cache")
    check_cache(cls, config.resolved())


@pytest.mark.parametrize("name", sorted(registry.available("dataset")))
def test_dataset_conforms(name: str, synth_root: Path) -> None:
    check_dataset(*_config("dataset", name, root=synth_root))


@pytest.fixture(scope="module")
def teacher_logits(synth_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Random teacher logits for every clip of the synthetic set (what a distilling trainer needs)."""
    import torch

    from asc_bench.api.logits import LogitsFile, save_logits
    from asc_bench_plugins.datasets.tau22.dataset import TAU22Config, TAU22Dataset

    clips = TAU22Dataset(TAU22Config(root=synth_root)).clips()
    logits = torch.randn(len(clips.ids), len(clips.class_names), generator=torch.Generator().manual_seed(0))
    path = tmp_path_factory.mktemp("teacher") / "teacher.logits.pt"
    return save_logits(path, LogitsFile(tuple(clips.ids), logits, tuple(clips.class_names), ("conformance",)))


@pytest.mark.parametrize("name", sorted(registry.available("trainer")))
def test_trainer_conforms(name: str, synth_root: Path, tmp_path: Path, teacher_logits: Path) -> None:
    cls, config = _config("trainer", name, teacher={"logits": teacher_logits})  # `distill` needs a teacher
    record = check_trainer(cls, config, dataset_root=synth_root, workdir=tmp_path)
    assert [row["epoch"] for row in record.history] == [1, 2]
