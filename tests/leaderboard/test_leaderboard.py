import csv
import io
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers.records import BASELINE_DEVICE_ACC, CITIES, CLASSES, make_record
from rich.console import Console

from asc_bench.cli.leaderboard import print_leaderboard
from asc_bench.core.errors import UserError
from asc_bench.leaderboard.entries import aggregate, collect, tables
from asc_bench.leaderboard.files import render_csv, render_json
from asc_bench.leaderboard.html import render_html
from asc_bench.leaderboard.markdown import render_markdown, write_markdown
from asc_bench.leaderboard.reported import ReportedEntry
from asc_bench.leaderboard.store import (
    COMMITTED,
    add_entry,
    board_entries,
    committed_folder,
    committed_measured,
    load_board,
    publish,
    write_formats,
)
from asc_bench.records.io import read_record, write_record

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "asc_bench.cli"]
A_MACRO = (0.55, 0.57, 0.56)
A_DEVICE_A = (0.66, 0.69, 0.67)
SYNTH = "synthetic (asc-bench synth v1: seed=0)"


def hand_stats(values):
    mean = sum(values) / len(values)
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def reported_file(folder: Path, name: str = "Published net", split: str = "fold1", acc: float = 0.5) -> Path:
    entry = ReportedEntry(
        name=name,
        citation="A. Author, Some paper (2024)",
        url="https://example.org/paper",
        runs=5,
        dataset={"type": "tau22", "split": split, "identity": "TAU22 development"},
        complexity={"macs": 20_000_000, "params": 100_000, "param_bytes": 100_000, "param_dtype": "int8"},
        metrics={"macro_acc": {"mean": acc, "std": 0.01}, "per_device": {"a": 0.7, "s6": 0.4}},
    )
    path = folder / "reported" / f"{name.replace(' ', '-')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(entry.model_dump_json(indent=2))
    return path


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
    assert a.seeds == [1, 2, 3] and a.runs == 3  # the older duplicate of seed 2 is ignored
    mean, std = hand_stats(A_MACRO)
    assert a.macro_acc.mean == pytest.approx(mean) and a.macro_acc.std == pytest.approx(std)
    assert a.macro_acc.std == pytest.approx(0.01)
    mean, std = hand_stats(A_DEVICE_A)
    assert (a.per_device["a"].mean, a.per_device["a"].std) == pytest.approx((mean, std))
    micro = [(sum(BASELINE_DEVICE_ACC.values()) - BASELINE_DEVICE_ACC["a"] + d) / 9 for d in A_DEVICE_A]
    assert (a.micro_acc.mean, a.micro_acc.std) == pytest.approx(hand_stats(micro))
    assert a.per_device["s4"].std == pytest.approx(0.0)
    assert list(a.per_city) == list(CITIES) and list(a.per_class) == list(CLASSES)
    assert a.unseen_acc.mean == pytest.approx((0.5305 + 0.5235 + 0.4858) / 3)
    assert (a.macs, a.params, a.param_bytes, a.param_dtype) == (29_419_156, 61_148, 122_296, "float16")
    assert a.macs_fused == 29_407_820 and a.seen_devices == ["a", "b", "c", "s1", "s2", "s3"]
    assert len(a.records) == 3 and len(set(a.digests)) == 3 and a.source == str(results)


def test_newest_duplicate_wins(tmp_path):
    write_record(make_record(seed=1, macro_acc=0.50, minutes=0), tmp_path / "x/record.json")
    write_record(make_record(seed=1, macro_acc=0.52, minutes=5), tmp_path / "y/record.json")
    (entry,) = collect([tmp_path])
    assert entry.seeds == [1] and entry.macro_acc.mean == pytest.approx(0.52)


def test_ranking_and_one_table_per_dataset(results):
    boards = tables(collect([results]))
    assert len(boards) == 2
    (fold1_title, fold1), (split5_title, split5) = sorted(boards, key=lambda b: b[0])
    assert "fold1" in fold1_title and "split5" in split5_title and fold1_title.startswith("Measured")
    assert [e.name for e in fold1] == ["tf_sepnet", "cp_mobile"]  # ranked by mean macro accuracy
    assert fold1[0].macro_acc.n == 1 and fold1[0].macro_acc.std == 0.0
    assert [e.name for e in split5] == ["baseline2024"]


def test_identity_ranks_one_dataset_across_machines(tmp_path):
    """Records on the same synthetic data (same identity) but different file times share a table."""
    for i, fingerprint in enumerate(("aaaa", "bbbb")):
        record = make_record(f"m{i}", 1, 0.5 + i / 10, spec_hash=f"h{i}", fingerprint=fingerprint)
        record.dataset.identity = SYNTH
        write_record(record, tmp_path / f"r{i}/record.json")
    other = make_record("m2", 1, 0.9, spec_hash="h2")
    other.dataset.identity = "synthetic (asc-bench synth v1: seed=1)"
    write_record(other, tmp_path / "r2/record.json")
    boards = dict(tables(collect([tmp_path])))
    assert [e.name for e in boards[f"Measured · {SYNTH} · fold1"]] == ["m1", "m0"]
    assert len(boards) == 2


def test_reported_entries_get_their_own_tables(results, tmp_path):
    entries_dir = tmp_path / "entries"
    reported_file(entries_dir, "Published net", split="fold1", acc=0.99)  # better, but never ranked with ours
    entries = load_board([results], entries_dir=entries_dir)
    boards = tables(entries)
    kinds = [{e.kind for e in group} for _, group in boards]
    assert kinds == [{"measured"}, {"measured"}, {"reported"}]  # measured first, one kind per table
    title, (pub,) = boards[-1]
    assert title.startswith("Reported figures (published, not measured here) · TAU22 development")
    assert pub.macro_acc.mean == 0.99 and pub.macro_acc.std == 0.01 and pub.runs == 5
    assert load_board([results], entries_dir=entries_dir, reported=False) == collect([results])
    text = render_markdown(entries)
    assert "[Published net](https://example.org/paper)" in text and "A. Author, Some paper (2024)" in text
    assert "| 1 | [Published net](https://example.org/paper) | 5 runs | 99.00 ± 1.00 |" in text


def test_markdown_has_overall_class_device_and_city_tables(results, tmp_path):
    out = tmp_path / "board" / "README.md"
    write_markdown(collect([results]), out)
    text = out.read_text()
    assert text.count("## Measured · tau22 · ") == 2
    assert text.count("### Per device") == 2 and text.count("### Per city") == 2 and "### Per class" in text
    assert "| # | system | a | b | c | s1 | s2 | s3 | s4 † | s5 † | s6 † |" in text
    assert "| # | system | barcelona | helsinki |" in text
    assert "| 2 | [cp_mobile](../a1/record.json) | 1, 2, 3 | 56.00 ± 1.00 |" not in text  # links the seeds' folder
    assert "| 2 | [cp_mobile](..) | 1, 2, 3 | 56.00 ± 1.00 |" in text
    assert "| 67.33 ± 1.53 |" in text  # device a of cp_mobile
    assert "| 29.42 | 61,148 | 122.30 | float16 |" in text
    assert "† device not in the training split (unseen)." in text


def test_terminal_render(results):
    console = Console(record=True, width=240)
    print_leaderboard(collect([results]), console)
    text = console.export_text()
    assert "tf_sepnet" in text and "56.00±1.00" in text and "split5" in text
    assert "per device" in text and "per city" in text and "stoc" in text
    empty = Console(record=True)
    print_leaderboard([], empty)
    assert "No result records" in empty.export_text()


def test_csv_and_json_parse_back(results, tmp_path):
    entries = load_board([results], entries_dir=None)
    paths = write_formats(entries, ["csv", "json", "csv"], tmp_path / "out")  # duplicates are written once
    assert [p.name for p in paths] == ["leaderboard.csv", "leaderboard.json"]
    rows = list(csv.DictReader(io.StringIO(paths[0].read_text())))
    assert [(r["name"], r["rank"]) for r in rows] == [("tf_sepnet", "1"), ("cp_mobile", "2"), ("baseline2024", "1")]
    cp = rows[1]
    assert float(cp["macro_acc_mean"]) == pytest.approx(hand_stats(A_MACRO)[0])
    assert float(cp["macro_acc_std"]) == pytest.approx(hand_stats(A_MACRO)[1])
    assert float(cp["device_a"]) == pytest.approx(hand_stats(A_DEVICE_A)[0])
    assert cp["seeds"] == "1 2 3" and cp["macs"] == "29419156" and cp["param_dtype"] == "float16"
    assert cp["records"].split() == ["../a1/record.json", "../a2/record.json", "../a3/record.json"]
    assert cp["macro_acc_float32_mean"] == ""  # the factory records have no float32 metrics
    data = json.loads(paths[1].read_text())
    assert data["format"] == "asc-bench leaderboard" and len(data["tables"]) == 2
    first = data["tables"][0]
    assert first["kind"] == "measured" and first["dataset"]["split"] == "fold1"
    entry = first["entries"][1]
    assert entry["name"] == "cp_mobile" and entry["seeds"] == [1, 2, 3]
    assert entry["macro_acc"]["mean"] == pytest.approx(0.56) and entry["macro_acc"]["n"] == 3
    assert entry["per_device"]["a"]["std"] == pytest.approx(hand_stats(A_DEVICE_A)[1])
    assert render_json(entries) == render_json(entries) and render_csv(entries).count("\n") == 4


def test_write_formats_single_file_and_unknown_format(results, tmp_path):
    entries = collect([results])
    (path,) = write_formats(entries, ["html"], tmp_path / "page.html")
    assert path == tmp_path / "page.html" and path.read_text().startswith("<!DOCTYPE html>")
    with pytest.raises(UserError, match="unknown --format pdf"):
        write_formats(entries, ["md", "pdf"], tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_add_entry_and_board_beside_runs(results, tmp_path):
    entries_dir = tmp_path / "lb" / "entries"
    target = add_entry([results / "a1", results / "a2", results / "a3"], entries_dir, "cp-mobile-short")
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*.json")) == [
        "seed1/record.json",
        "seed2/record.json",
        "seed3/record.json",
    ]
    assert (target / "seed1" / "record.json").read_bytes() == (results / "a1" / "record.json").read_bytes()
    (committed,) = committed_measured(entries_dir)
    assert committed.name == "cp-mobile-short" and committed.source == COMMITTED and committed.seeds == [1, 2, 3]

    # The same records in runs/ are not counted twice; a new run of the same spec is its own row.
    write_record(make_record("cp_mobile", 4, 0.58, minutes=20), results / "a4/record.json")
    entries = load_board([results], entries_dir=entries_dir)
    fold1 = next(group for title, group in tables(entries) if "fold1" in title)
    assert [(e.name, e.source, e.seeds) for e in fold1] == [
        ("tf_sepnet", str(results), [7]),
        ("cp_mobile", str(results), [4]),
        ("cp-mobile-short", COMMITTED, [1, 2, 3]),
    ]
    assert "| source |" in render_markdown(entries)

    with pytest.raises(UserError, match="already has an entry named cp-mobile-short"):
        add_entry([results / "b7"], entries_dir, "cp-mobile-short")
    add_entry([results / "b7"], entries_dir, "cp-mobile-short", replace=True)
    assert [e.name for e in committed_measured(entries_dir)] == ["cp-mobile-short"]
    assert committed_measured(entries_dir)[0].seeds == [7]
    with pytest.raises(UserError, match="form 3"):
        add_entry([results], entries_dir, "all")
    with pytest.raises(UserError, match="not a folder name"):
        add_entry([results / "b7"], entries_dir, "../escape")
    assert sorted(p.name for p in (entries_dir / "measured").iterdir()) == ["cp-mobile-short"]  # nothing partial


def test_an_entry_folder_holds_one_spec(results, tmp_path):
    entries_dir = tmp_path / "entries"
    shutil.copytree(results / "a1", entries_dir / "measured" / "mixed" / "seed1")
    shutil.copytree(results / "b7", entries_dir / "measured" / "mixed" / "seed7")
    with pytest.raises(UserError, match="holds records of 2 different specs"):
        committed_measured(entries_dir)


def test_publish_renders_only_the_entries(results, tmp_path):
    entries_dir = tmp_path / "lb" / "entries"
    add_entry([results / "b7"], entries_dir, "sepnet")
    reported_file(entries_dir)
    readme, page = publish(entries_dir)
    assert (readme, page) == (tmp_path / "lb" / "README.md", tmp_path / "lb" / "index.html")
    text = readme.read_text()
    assert "[sepnet](entries/measured/sepnet/seed7/record.json)" in text and "cp_mobile" not in text
    assert "Published net" in text and 'href="entries/measured/sepnet/seed7/record.json"' in page.read_text()


def test_committed_leaderboard_is_current():
    """leaderboard/README.md and index.html are exactly what the committed entries render to."""
    entries_dir = ROOT / "leaderboard" / "entries"
    entries = load_board([], entries_dir=entries_dir)
    assert any(e.kind == "measured" for e in entries) and any(e.kind == "reported" for e in entries)
    base = ROOT / "leaderboard"
    for name, render in (("README.md", render_markdown), ("index.html", render_html)):
        assert (base / name).read_text(encoding="utf-8") == render(entries, base=base), (
            f"leaderboard/{name} is stale: run `asc-bench leaderboard --publish`"
        )
    measured = [e for e in entries if e.kind == "measured"]
    assert all(e.dataset.identity and e.dataset.identity.startswith("synthetic") for e in measured)
    specs = {path.stem: yaml.safe_load(path.read_text()) for path in (ROOT / "specs").glob("*.yaml")}
    systems = {  # one system each: DCASE-constrained (no teachers) and no search over configurations
        name
        for name, spec in specs.items()
        if spec.get("limits", {}).get("preset", "dcase") != "none" and not spec.get("tune", {}).get("space")
    }
    committed = {read_record(e.records[0]).name for e in measured}
    assert systems <= committed, f"built-in specs without a committed entry: {sorted(systems - committed)}"


def test_cli_leaderboard_formats_add_and_errors(results, tmp_path):
    env = {**os.environ, "COLUMNS": "160"}

    def cli(*args, cwd=tmp_path):
        return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)

    entries_dir = tmp_path / "lb" / "entries"
    reported_file(entries_dir)
    done = cli("leaderboard", results, "--entries", entries_dir, "--format", "csv", "--format", "md", "--out", "o")
    assert done.returncode == 0, done.stderr
    assert "tf_sepnet" in done.stdout and "Published net" in done.stdout and "wrote o/leaderboard.csv" in done.stdout
    assert "Published net" in (tmp_path / "o" / "leaderboard.md").read_text()
    quiet = cli("leaderboard", results, "--no-entries", "--markdown", "m.md")
    assert quiet.returncode == 0 and "Published net" not in (tmp_path / "m.md").read_text()

    added = cli("leaderboard", results / "b7", "--entries", entries_dir, "--add", "sepnet")
    assert added.returncode == 0, added.stderr
    assert "added entry sepnet" in added.stdout and (tmp_path / "lb" / "index.html").is_file()

    for args, message in (
        (("leaderboard", tmp_path / "missing"), "no such file or folder"),
        (("leaderboard", results, "--format", "pdf"), "'pdf' is not one of 'md', 'csv'"),
        (("leaderboard", "--add", "x", "--entries", entries_dir), "--add needs the run"),
        (("leaderboard", results / "b7", "--entries", entries_dir, "--add", "sepnet"), "already has an entry"),
        (("leaderboard", "--no-entries"), "no result records found"),
    ):
        failed = cli(*args)
        assert failed.returncode == 2, (args, failed.stdout, failed.stderr)
        assert message in " ".join(failed.stderr.split()) and "Traceback" not in failed.stderr


def test_board_entries_and_committed_folder_return_data(results, tmp_path, monkeypatch):
    entries_dir = tmp_path / "lb" / "entries"
    reported_file(entries_dir)
    entries = board_entries([results], entries_dir=entries_dir, reported=True)
    assert [e.name for e in entries] == ["tf_sepnet", "cp_mobile", "baseline2024", "Published net"]
    assert board_entries([results], entries_dir=tmp_path / "none", reported=True) == collect([results])
    monkeypatch.chdir(results)  # no sources: runs/ when it holds records
    write_record(make_record("cp_mobile", 1, 0.5), results / "runs" / "x" / "record.json")
    assert [e.name for e in board_entries([], entries_dir=None, reported=True)] == ["cp_mobile"]
    with pytest.raises(UserError, match="no result records found under"):
        board_entries([tmp_path / "lb"], entries_dir=None, reported=True)

    assert committed_folder(entries_dir, formats=[], sources=[results], add="x") == entries_dir
    assert committed_folder(entries_dir, formats=[], sources=[], add=None) == entries_dir  # --publish
    for folder, formats in ((None, []), (entries_dir, ["md"])):
        with pytest.raises(UserError, match="neither --no-entries nor --format"):
            committed_folder(folder, formats=formats, sources=[results], add="x")
    with pytest.raises(UserError, match="--add needs the run"):
        committed_folder(entries_dir, formats=[], sources=[], add="x")


def test_cli_files_keep_the_umask_modes(results, tmp_path):
    """Leaderboard files come out 0644 and their folders 0755 under umask 022 (not tempfile's 0600 / 0700)."""

    def cli(*args):
        return subprocess.run(
            [*CLI, *map(str, args)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=300,
            preexec_fn=lambda: os.umask(0o022),
        )

    def mode(path):
        return oct(path.stat().st_mode & 0o777)

    board = tmp_path / "board" / "nested"
    done = cli("leaderboard", results, "--no-entries", "--format", "md", "--format", "html", "--out", board)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in board.iterdir()) == ["leaderboard.html", "leaderboard.md"]
    assert {mode(p) for p in board.iterdir()} == {"0o644"}
    assert mode(board) == mode(board.parent) == "0o755"

    entries_dir = tmp_path / "lb" / "entries"
    added = cli("leaderboard", results / "a1", results / "a2", "--entries", entries_dir, "--add", "cp")
    assert added.returncode == 0, added.stderr
    entry = entries_dir / "measured" / "cp"
    folders = [entries_dir, entry.parent, entry, entry / "seed1", entry / "seed2"]
    files = [entry / "seed1" / "record.json", entry / "seed2" / "record.json"]
    files += [tmp_path / "lb" / "README.md", tmp_path / "lb" / "index.html"]
    assert [mode(p) for p in folders] == ["0o755"] * len(folders)
    assert [mode(p) for p in files] == ["0o644"] * len(files)
