"""``block_summary``: the per-layer counts summed per block, deep enough to show at least a few blocks."""

from __future__ import annotations

from asc_bench.model.complexity import ComplexityReport, LayerCount, block_summary


def layer(name: str, params: int, macs: int, note: str = "") -> LayerCount:
    return LayerCount(name, "Conv2d", [1, 4], params, macs, macs, note)


def report(*layers: LayerCount) -> ComplexityReport:
    return ComplexityReport(
        sum(la.macs for la in layers), sum(la.params for la in layers), 0, "float16", False, (1,), 0, list(layers)
    )


def test_blocks_sum_their_layers_and_keep_distinct_notes() -> None:
    rows = [layer("stem.0", 1, 10, "bias"), layer("stem.1", 2, 20, "bias"), layer("body.0", 3, 30, "bn")]
    blocks = block_summary(report(*rows, layer("head", 4, 40), layer("", 0, 5, "functional")))
    assert [(b.name, b.layers, b.params, b.macs) for b in blocks] == [
        ("stem", 2, 3, 30),
        ("body", 1, 3, 30),
        ("head", 1, 4, 40),
        ("(model)", 1, 0, 5),
    ]
    assert blocks[0].notes == ["bias"] and blocks[1].notes == ["bn"] and blocks[2].notes == []


def test_a_single_wrapper_module_is_opened_up() -> None:
    rows = [layer("net.a.0", 1, 1), layer("net.a.1", 1, 1), layer("net.b.0", 1, 1), layer("net.c", 1, 1)]
    assert [b.name for b in block_summary(report(*rows))] == ["net.a", "net.b", "net.c"]
    assert [b.name for b in block_summary(report(*rows), min_blocks=4)] == ["net.a.0", "net.a.1", "net.b.0", "net.c"]
