import pytest
import torch
import torch.nn.functional as F

from asc_bench.evaluation.metrics import SceneMetrics, named_metrics, seen_unseen

# (label, pred, device, city); device 2 ("s4") has no clips
SAMPLES = [
    (0, 0, 0, 0),
    (0, 0, 0, 1),
    (0, 1, 1, 0),
    (0, 0, 1, 1),
    (1, 1, 0, 0),
    (1, 2, 1, 1),
    (2, 2, 0, 1),
    (2, 0, 1, 0),
]
CLASSES, DEVICES, CITIES = ["bus", "park", "tram"], ["a", "b", "s4"], ["lisbon", "paris"]


def example() -> tuple[torch.Tensor, ...]:
    labels, preds, devices, cities = (torch.tensor(col) for col in zip(*SAMPLES, strict=True))
    gen = torch.Generator().manual_seed(0)
    logits = 3.0 * F.one_hot(preds, 3) + 0.5 * torch.rand(len(SAMPLES), 3, generator=gen)
    return logits, labels, devices, cities


def computed() -> dict:
    metric = SceneMetrics(num_classes=3, num_devices=3, num_cities=2)
    metric.update(*example())
    return metric.compute()


def test_hand_computed_accuracies_and_confusion():
    m = computed()
    assert m["confusion"] == [[3, 1, 0], [0, 1, 1], [1, 0, 1]]
    assert m["class_acc"] == pytest.approx([0.75, 0.5, 0.5])
    assert m["macro_acc"] == pytest.approx((0.75 + 0.5 + 0.5) / 3)
    assert m["micro_acc"] == pytest.approx(5 / 8)  # imbalanced classes: macro != micro
    assert m["device_acc"][:2] == pytest.approx([1.0, 0.25])
    assert m["device_count"] == [4, 4, 0]
    assert m["city_acc"] == pytest.approx([0.5, 0.75])
    assert m["city_count"] == [4, 4]
    assert m["class_count"] == [4, 2, 2]
    assert m["count"] == 8


def test_absent_device_is_none_not_zero():
    m = computed()
    assert m["device_acc"][2] is None
    assert m["device_log_loss"][2] is None


def test_log_loss_matches_cross_entropy():
    logits, labels, devices, cities = example()
    m = computed()
    per_clip = F.cross_entropy(logits.double(), labels, reduction="none")
    assert m["log_loss"] == pytest.approx(per_clip.mean().item())
    class_ll = [per_clip[labels == c].mean().item() for c in range(3)]
    assert m["class_log_loss"] == pytest.approx(class_ll)
    assert m["macro_log_loss"] == pytest.approx(sum(class_ll) / 3)
    assert m["device_log_loss"][:2] == pytest.approx([per_clip[devices == d].mean().item() for d in (0, 1)])
    assert m["city_log_loss"] == pytest.approx([per_clip[cities == k].mean().item() for k in (0, 1)])


def test_batched_updates_equal_one_update():
    gen = torch.Generator().manual_seed(1)
    n = 1000
    logits = torch.randn(n, 10, generator=gen)
    labels, devices, cities = (torch.randint(0, k, (n,), generator=gen) for k in (10, 9, 10))
    whole, batched = SceneMetrics(10, 9, 10), SceneMetrics(10, 9, 10)
    whole.update(logits, labels, devices, cities)
    for i in range(0, n, 64):
        batched.update(logits[i : i + 64], labels[i : i + 64], devices[i : i + 64], cities[i : i + 64])
    assert torch.equal(whole.counts, batched.counts)
    assert torch.allclose(whole.nll, batched.nll, rtol=1e-12)
    a, b = whole.compute(), batched.compute()
    assert a["confusion"] == b["confusion"]
    for key in a.keys() - {"confusion"}:
        assert a[key] == pytest.approx(b[key]), key


def test_float16_logits_and_reset():
    logits, labels, devices, cities = example()
    metric = SceneMetrics(3, 3, 2)
    metric.update(logits.half(), labels, devices, cities)
    assert metric.compute()["micro_acc"] == pytest.approx(5 / 8)
    metric.reset()
    assert metric.counts.sum() == 0 and metric.nll.sum() == 0


def test_out_of_range_index_is_an_error():
    logits, labels, devices, cities = example()
    metric = SceneMetrics(3, 2, 2)
    with pytest.raises(ValueError, match="devices"):
        metric.update(logits, labels, devices + 1, cities)
    with pytest.raises(ValueError, match="logits"):
        metric.update(logits[:, :2], labels, devices, cities)


def test_seen_unseen_is_clip_weighted():
    m = computed()
    split = seen_unseen(m, DEVICES, ["a"])
    assert split == {"seen_acc": pytest.approx(1.0), "unseen_acc": pytest.approx(0.25),
                     "seen_count": 4, "unseen_count": 4}  # fmt: skip
    assert seen_unseen(m, DEVICES, ["a", "b"])["unseen_acc"] is None  # only s4 unseen, and it has no clips
    with pytest.raises(ValueError, match="s9"):
        seen_unseen(m, DEVICES, ["s9"])


def test_named_metrics_layout():
    named = named_metrics(computed(), CLASSES, DEVICES, CITIES, seen_devices=["b", "a"])
    assert named["macro_acc"] == pytest.approx(1.75 / 3)
    assert named["per_class"]["bus"]["acc"] == pytest.approx(0.75)
    assert named["per_class"]["bus"]["count"] == 4
    assert named["per_device"]["s4"] == {"acc": None, "log_loss": None, "count": 0}
    assert list(named["per_city"]) == CITIES
    assert named["per_city"]["paris"]["acc"] == pytest.approx(0.75)
    assert named["seen_devices"] == ["a", "b"]
    assert named["seen_acc"] == pytest.approx(5 / 8)
    assert named["unseen_acc"] is None
    assert named["confusion"] == [[3, 1, 0], [0, 1, 1], [1, 0, 1]]
    without = named_metrics(computed(), CLASSES, DEVICES, CITIES)
    assert without["seen_acc"] is None and without["seen_devices"] is None
    with pytest.raises(ValueError, match="city"):
        named_metrics(computed(), CLASSES, DEVICES, CITIES[:1])


def test_empty_metric_gives_none():
    m = SceneMetrics(3, 2, 2)
    with pytest.warns(UserWarning):  # torchmetrics warns about compute() before update()
        out = m.compute()
    assert out["macro_acc"] is None and out["micro_acc"] is None and out["log_loss"] is None
