"""Knowledge distillation: the KD loss against a hand computation, the logits file, alignment by clip id."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from asc_bench.api import Batch, ClipTable, TransformContext
from asc_bench.api.logits import FORMAT, LogitsFile, load_logits, logits_for_clips, save_logits
from asc_bench.core.errors import UserError
from asc_bench_plugins.trainers.distill import DistillConfig, DistillTrainer, distillation_loss
from asc_bench_plugins.transforms.mixup import MixUp, MixUpConfig

CLASSES = ("x", "y", "z")


def _softmax(v: list[float]) -> list[float]:
    e = [math.exp(a) for a in v]
    return [a / sum(e) for a in e]


def test_kd_loss_equals_a_hand_computation() -> None:
    student = [[1.0, 2.0, 0.0], [0.5, -1.0, 2.0]]
    teacher = [[0.0, 1.0, 3.0], [2.0, 0.0, 0.0]]
    labels = [1, 2]
    t, lam = 2.0, 0.25
    expected = 0.0
    for s, te, y in zip(student, teacher, labels, strict=True):
        ce = -math.log(_softmax(s)[y])
        p = _softmax([a / t for a in te])
        q = _softmax([a / t for a in s])
        kl = sum(pi * math.log(pi / qi) for pi, qi in zip(p, q, strict=True))
        expected += (lam * ce + (1 - lam) * t * t * kl) / len(student)
    got = distillation_loss(
        torch.tensor(student),
        F.one_hot(torch.tensor(labels), 3).float(),
        torch.softmax(torch.tensor(teacher) / t, dim=1),
        temperature=t,
        kd_lambda=lam,
    )
    assert float(got) == pytest.approx(expected, rel=1e-6)
    # λ = 1 is plain cross-entropy; a student equal to the teacher has no KL term
    assert float(
        distillation_loss(torch.tensor(student), F.one_hot(torch.tensor(labels), 3).float(),
                          torch.softmax(torch.tensor(student) / t, dim=1), temperature=t, kd_lambda=0.0)
    ) == pytest.approx(0.0, abs=1e-6)  # fmt: skip


def _clips(ids: list[str]) -> ClipTable:
    n = len(ids)
    zeros = np.zeros(n, dtype=np.int64)
    return ClipTable(
        ids=tuple(ids),
        paths=tuple(Path(i) for i in ids),
        labels=np.arange(n, dtype=np.int64) % 3,
        devices=zeros,
        cities=zeros,
        recordings=np.arange(n, dtype=np.int64),
        class_names=CLASSES,
        device_names=("a",),
        city_names=("c",),
    )


def test_logits_file_round_trip_and_safe_loading(tmp_path: Path) -> None:
    logits = LogitsFile(("audio/b.wav", "audio/a.wav"), torch.tensor([[1.0, 2, 3], [4, 5, 6]]), CLASSES, ("run1",))
    path = save_logits(tmp_path / "t.pt", logits)
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == FORMAT and raw["clip_ids"] == ["audio/b.wav", "audio/a.wav"]
    back = load_logits(path)
    assert back.clip_ids == logits.clip_ids and torch.equal(back.logits, logits.logits)
    assert back.class_names == CLASSES and back.sources == ("run1",)
    assert not list(tmp_path.glob(".*partial*"))


def test_foreign_and_damaged_files_are_refused(tmp_path: Path) -> None:
    torch.save(torch.zeros(3, 10), tmp_path / "cpjku.pt")  # logits by row index
    with pytest.raises(UserError, match="not an asc-bench logits file.*by row index"):
        load_logits(tmp_path / "cpjku.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(UserError, match="cannot be read as a logits file"):
        load_logits(tmp_path / "junk.pt")
    torch.save({"format": FORMAT, "clip_ids": ["a"], "logits": torch.zeros(2, 3)}, tmp_path / "short.pt")
    with pytest.raises(UserError, match="malformed"):
        load_logits(tmp_path / "short.pt")
    with pytest.raises(UserError, match="does not exist"):
        load_logits(tmp_path / "missing.pt")


def test_alignment_is_by_clip_id_with_columns_in_dataset_order() -> None:
    clips = _clips(["audio/a.wav", "audio/b.wav", "audio/c.wav"])
    # file order differs from the dataset's, and so does the class order (z, x, y)
    file = LogitsFile(("audio/c.wav", "audio/a.wav"), torch.tensor([[3.0, 1, 2], [30, 10, 20]]), ("z", "x", "y"), ())
    table = logits_for_clips(file, clips)
    assert table[0].tolist() == [10, 20, 30] and table[2].tolist() == [1, 2, 3]
    assert torch.isnan(table[1]).all()
    with pytest.raises(UserError, match=r"no logits for 1 of the 2 training clips, e\.g\. audio/b\.wav"):
        logits_for_clips(file, clips, np.array([0, 1]))


def test_unknown_clips_and_other_classes_are_refused() -> None:
    clips = _clips(["audio/a.wav"])
    with pytest.raises(UserError, match=r"1 of the 2 clips .* not in the dataset, e\.g\. audio/q\.wav"):
        logits_for_clips(LogitsFile(("audio/a.wav", "audio/q.wav"), torch.zeros(2, 3), CLASSES, ()), clips)
    with pytest.raises(UserError, match="classes"):
        logits_for_clips(LogitsFile(("audio/a.wav",), torch.zeros(1, 3), ("x", "y", "w"), ()), clips)


def test_trainer_looks_teacher_up_by_clip_and_mixes_it_like_the_targets(tmp_path: Path) -> None:
    ids = [f"audio/{i}.wav" for i in range(6)]
    clips = _clips(ids)
    teacher = torch.randn(6, 3, generator=torch.Generator().manual_seed(0))
    order = [5, 3, 1, 0, 2, 4]  # stored out of order: alignment must not depend on it
    path = save_logits(tmp_path / "t.pt", LogitsFile(tuple(ids[i] for i in order), teacher[order], CLASSES, ()))
    model = torch.nn.Linear(4, 3)
    config = DistillConfig(teacher={"logits": path}, epochs=1, batch_size=6, temperature=2.0, kd_lambda=0.3)
    trainer = DistillTrainer(config, model, steps_per_epoch=1, clips=clips, train_rows=np.arange(6))
    rows = torch.tensor([4, 0, 2, 1])
    labels = torch.from_numpy(clips.labels[rows.numpy()])
    x = torch.randn(4, 4, generator=torch.Generator().manual_seed(1))
    batch = Batch(x, F.one_hot(labels, 3).float(), labels, labels * 0, labels * 0, rows)
    mixed = MixUp(MixUpConfig(alpha=0.4), sample_rate=1)(batch, TransformContext(torch.Generator(), True, 1))
    (partner, weight) = mixed.mixes[0]
    assert torch.allclose(mixed.target, mixed.remix(batch.target))
    probs = torch.softmax(teacher[rows] / 2.0, dim=1)
    expected_probs = weight[:, None] * probs + (1 - weight[:, None]) * probs[partner]
    logits = model(mixed.x).detach()
    expected = distillation_loss(logits, mixed.target, expected_probs, temperature=2.0, kd_lambda=0.3)
    assert float(trainer.loss(logits, mixed)) == pytest.approx(float(expected), rel=1e-6)


def test_trainer_refuses_a_teacher_missing_training_clips(tmp_path: Path) -> None:
    clips = _clips(["audio/a.wav", "audio/b.wav"])
    path = save_logits(tmp_path / "t.pt", LogitsFile(("audio/a.wav",), torch.zeros(1, 3), CLASSES, ()))
    config = DistillConfig(teacher={"logits": path}, epochs=1, batch_size=2)
    with pytest.raises(UserError, match="trainer.teacher.logits: the logits file has no logits for 1 of the 2"):
        DistillTrainer(config, torch.nn.Linear(4, 3), steps_per_epoch=1, clips=clips, train_rows=np.arange(2))
