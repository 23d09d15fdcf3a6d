"""What the record says reaches results.csv, `dcgan-bench table` and the report: no field lost,
no two kinds of memory in one column, no FIDs of different n or instruments side by side."""

import csv
import json
import shutil
from pathlib import Path

import pytest

from bench.analysis.results import load_results
from bench.cli import main
from bench.report.render import render_report

GOLDEN = Path(__file__).parent / "data" / "runs" / "golden"
RETRACED = "cpu_float32_xla-off_bs256_seed0"


def _edit_summary(cell: Path, **changes):
    path = cell / "summary.json"
    summary = json.loads(path.read_text())
    for key, value in changes.items():
        if "." in key:
            outer, inner = key.split(".")
            summary[outer][inner] = value
        else:
            summary[key] = value
    path.write_text(json.dumps(summary))


def test_results_carry_best_fid_n_warnings_rank_deficiency_retraces_and_instrument():
    df = load_results([GOLDEN]).set_index("cell_id")
    row = df.loc[RETRACED]
    assert row["best_fid_n"] == 500 and row["retraces"] == 1 and row["warnings_count"] == 1
    assert row["warnings"].startswith("step retraced 1 time(s)")
    assert row["final_rank_deficient"] == False  # noqa: E712 (a record value, not a truth test)
    assert row["classifier_sha256"] == "f" * 64
    assert row["images_per_sec_overall"] > 0 and json.loads(row["windows_excluded"]) == {
        "warmup": 1}
    assert row["final_kid_blocks"] == 5 and row["final_kid_block_size_fake"] == 200
    header = (GOLDEN / "results.csv").read_text().splitlines()[0].split(",")
    for column in ("best_fid_n", "warnings", "warnings_count", "final_rank_deficient", "retraces",
                   "classifier_sha256", "peak_memory_train_bytes", "peak_memory_process_kind"):
        assert column in header, column


def test_report_cell_table_shows_the_new_fields(tmp_path):
    out = render_report([GOLDEN], tmp_path / "r")
    with open(out.parent / "cells.csv", newline="") as f:
        rows = {(r["batch size"], r["xla"], r["seed"]): r for r in csv.DictReader(f)}
    row = rows[("256", "off", "0")]
    assert float(row["best FID n"]) == 500 and float(row["retraces"]) == 1
    assert float(row["warnings"]) == 1 and row["warning text"].startswith("step retraced")
    assert row["instrument"] == "f" * 12 and row["rank deficient"] == "False"
    assert float(row["train peak MiB (process RSS)"]) == pytest.approx(
        (800_000_000 + 2_000_000 * 256) / 2**20)


def test_two_memory_kinds_never_share_a_column(tmp_path, capsys):
    run = tmp_path / "golden"
    shutil.copytree(GOLDEN, run)
    _edit_summary(run / "cpu_float32_xla-on_bs64_seed0", peak_memory_train_kind="gpu_allocator",
                  peak_memory_process_kind="gpu_allocator")
    assert main(["table", str(run), "--wide"]) == 0
    printed = capsys.readouterr().out
    for name in ("train peak MiB (GPU allocator)", "train peak MiB (process RSS)",
                 "process peak MiB (GPU allocator)", "process peak MiB (process RSS)"):
        assert name in printed
    out = render_report([run], tmp_path / "r")
    with open(out.parent / "cells.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    gpu_kind = [r for r in rows if r["train peak MiB (GPU allocator)"]]
    assert len(gpu_kind) == 1 and gpu_kind[0]["train peak MiB (process RSS)"] == ""


def test_schema_1_memory_is_migrated_to_the_process_peak(tmp_path):
    cell = tmp_path / "old"
    shutil.copytree(GOLDEN / RETRACED, cell)
    summary = json.loads((cell / "summary.json").read_text())
    for key in ("peak_memory_train_bytes", "peak_memory_train_kind", "peak_memory_process_bytes",
                "peak_memory_process_kind"):
        summary.pop(key)
    summary.update(schema_version=1, peak_memory_bytes=123_000_000,
                   peak_memory_kind="process_peak_rss")
    (cell / "summary.json").write_text(json.dumps(summary))
    row = load_results([cell]).iloc[0]
    assert row["peak_memory_process_bytes"] == 123_000_000
    assert row["peak_memory_process_kind"] == "process_rss"
    assert row["peak_memory_train_bytes"] is None  # never measured in schema 1


def test_cells_measured_differently_are_split_and_said_so(tmp_path, capsys):
    run = tmp_path / "golden"
    shutil.copytree(GOLDEN, run)
    _edit_summary(run / "cpu_float32_xla-on_bs64_seed1", **{"final.n": 10000,
                                                           "final.classifier_sha256": "e" * 64})
    assert main(["table", str(run)]) == 0
    printed = capsys.readouterr().out
    assert f"## final n = 1000, instrument {'f' * 12} (7 cells)" in printed
    assert f"## final n = 10000, instrument {'e' * 12} (1 cell)" in printed
    page = (render_report([run], tmp_path / "r")).read_text()
    assert "These cells were evaluated in 2 different ways" in page
    with open(tmp_path / "r" / "final_metrics.csv", newline="") as f:
        configs = {r["config"] for r in csv.DictReader(f)}
    assert f"cpu · float32 · XLA on · bs 64 · final n 10000 · instrument {'e' * 8}" in configs
    assert f"cpu · float32 · XLA on · bs 64 · final n 1000 · instrument {'f' * 8}" in configs
