import math

import pytest
from record_factory import BASELINE_DEVICE_ACC, CITIES, make_record
from rich.console import Console

from asc_bench.leaderboard import aggregate, collect, tables
from asc_bench.leaderboard_render import render_markdown, render_terminal, write_markdown
from asc_bench.results import write_record

A_MACRO = (0.55, 0.57, 0.56)
A_DEVICE_A = (0.66, 0.69, 0.67)


def hand_stats(values):
    mean = sum(values) / len(values)
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


@pytest.fixture
def results(tmp_path):
    """Spec A: 3 seeds (plus a stale duplicate); spec B: 1 better seed; spec C: another dataset."""
    for seed, macro, dev_a in zip((1, 2, 3), A_MACRO, A_DEVICE_A, strict=True):
        devices = {**BASELINE_DEVICE_ACC, "a": dev_a}
        write_record(
            make_record("cp_mobile", seed, macro, device_acc=devices, minutes=10),
            tmp_path / f"a{seed}/record.json",
        )
    write_record(make_record("cp_mobile", 2, 0.30, minutes=0), tmp_path / "old/a2/record.json")
    write_record(make_record("tf_sepnet", 7, 0.60, spec_hash="5e6f7a8b9c0d"), tmp_path / "b7/record.json")
    other = make_record("baseline2024", 1, 0.4240, spec_hash="0a1b2c3d4e5f", fingerprint="ffee0011", split="split5")
    write_record(other, tmp_path / "c1/record.json")
    return tmp_path


def test_aggregate_mean_and_sample_std():
    stat = aggregate([0.55, None, 0.57, 0.56])
    assert (stat.mean, stat.std, stat.n) == pytest.approx((*hand_stats(A_MACRO), 3))
    assert aggregate([0.5]).std == 0.0
    assert aggregate([None, None]) is None


def test_collect_aggregates_seeds(results):
    entries = collect([results])
    a = next(e for e in entries if e.name == "cp_mobile")
    assert a.seeds == [1, 2, 3]  # the older duplicate of seed 2 is ignored
    mean, std = hand_stats(A_MACRO)
    assert a.macro_acc.mean == pytest.approx(mean) and a.macro_acc.std == pytest.approx(std)
    assert a.macro_acc.std == pytest.approx(0.01)
    mean, std = hand_stats(A_DEVICE_A)
    assert (a.per_device["a"].mean, a.per_device["a"].std) == pytest.approx((mean, std))
    micro = [(sum(BASELINE_DEVICE_ACC.values()) - BASELINE_DEVICE_ACC["a"] + d) / 9 for d in A_DEVICE_A]
    assert (a.micro_acc.mean, a.micro_acc.std) == pytest.approx(hand_stats(micro))
    assert a.per_device["s4"].std == pytest.approx(0.0)
    assert list(a.per_city) == list(CITIES)
    assert a.unseen_acc.mean == pytest.approx((0.5305 + 0.5235 + 0.4858) / 3)
    assert (a.macs, a.params, a.param_bytes, a.param_dtype) == (29_419_156, 61_148, 122_296, "float16")
    assert len(a.records) == 3


def test_newest_duplicate_wins(tmp_path):
    write_record(make_record(seed=1, macro_acc=0.50, minutes=0), tmp_path / "x/record.json")
    write_record(make_record(seed=1, macro_acc=0.52, minutes=5), tmp_path / "y/record.json")
    (entry,) = collect([tmp_path])
    assert entry.seeds == [1] and entry.macro_acc.mean == pytest.approx(0.52)


def test_ranking_and_one_table_per_dataset(results):
    entries = collect([results])
    boards = tables(entries)
    assert len(boards) == 2
    (fold1_title, fold1), (split5_title, split5) = sorted(boards, key=lambda b: b[0])
    assert "fold1" in fold1_title and "split5" in split5_title
    assert [e.name for e in fold1] == ["tf_sepnet", "cp_mobile"]  # ranked by mean macro accuracy
    assert fold1[0].macro_acc.n == 1 and fold1[0].macro_acc.std == 0.0
    assert [e.name for e in split5] == ["baseline2024"]


def test_markdown_has_overall_device_and_city_tables(results, tmp_path):
    text = render_markdown(collect([results]))
    assert text.count("## tau22 · ") == 2
    assert text.count("### Per device") == 2 and text.count("### Per city") == 2
    assert "| # | system | a | b | c | s1 | s2 | s3 | s4 | s5 | s6 |" in text
    assert "| # | system | barcelona | helsinki |" in text
    assert "| 2 | cp_mobile | 1, 2, 3 | 56.00 ± 1.00 |" in text
    assert "| 67.33 ± 1.53 |" in text  # device a of cp_mobile
    assert "| 29.42 | 61,148 | 122.30 | float16 |" in text
    out = tmp_path / "board" / "README.md"
    write_markdown(collect([results]), out)
    assert out.read_text() == text


def test_terminal_render(results):
    console = Console(record=True, width=240)
    render_terminal(collect([results]), console)
    text = console.export_text()
    assert "tf_sepnet" in text and "56.00±1.00" in text and "split5" in text
    assert "per device" in text and "per city" in text and "stoc" in text
    empty = Console(record=True)
    render_terminal([], empty)
    assert "No result records" in empty.export_text()
