"""A part's estimate: the model's arithmetic against hand-worked values, the sources it names, and
a real two-part grid that prints it before each part and records it against the actual time.

No test here judges how close an estimate came (that depends on the machine and its load): the
closing notes and the README give measured estimate-against-actual figures.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import records, schema
from bench.config import CellConfig
from bench.grid import estimate
from bench.grid.spec import Cell

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "data" / "runs" / "golden"


def test_evaluation_sizes_follow_the_periodic_schedule_and_the_final_n():
    cfg = CellConfig(steps=8000, log_every=100, eval_every=1000, eval_n=2000, final_eval_n=10000)
    # evaluations at 1000, 2000, ..., 7000 (none at the last step: the final one is there)
    assert estimate.evaluation_sizes(cfg) == [2000] * 7 + [10000]
    assert estimate.evaluation_sizes(CellConfig(epochs=2, final_eval_n=0)) == []
    assert estimate.total_steps(CellConfig(epochs=2, batch_size=64)) == 2 * (5000 // 64)


def test_a_cells_seconds_worked_by_hand():
    cfg = CellConfig(steps=101, batch_size=64, log_every=10, eval_every=50, eval_n=500,
                     final_eval_n=1000)
    cost = estimate.ConfigCost(fixed_seconds=10.0, images_per_sec=640.0, source="x")
    evals = estimate.EvalCost(fixed_seconds=0.5, per_sample_seconds=0.001, load_seconds=2.0,
                              source="y")
    # 100 steps after the compiled first: 6400 images / 640 = 10 s; evaluations at 50 and 100
    # (500 each) and the final 1000: 2 + (0.5 + 0.5) * 2 + (0.5 + 1.0) = 5.5 s
    assert estimate.cell_seconds(cfg, cost, evals) == pytest.approx(10 + 10 + 5.5)
    part = estimate.estimate_part("q", [Cell("a", cfg), Cell("b", cfg)],
                                  {estimate.config_key(cfg): cost}, evals)
    assert part.seconds == pytest.approx(51.0)
    assert part.sources["mnist-5k cpu float32 XLA off bs 64"] == \
        "640 images/s, 10.0 s fixed a cell: x"
    assert part.sources["evaluation"] == "0.50 s + 1.00 ms a sample: y"
    two_gpus = estimate.estimate_part("q", [Cell("a", cfg), Cell("b", cfg)],
                                      {estimate.config_key(cfg): cost}, evals, parallel=2)
    assert two_gpus.seconds == pytest.approx(25.5)


def test_evaluation_cost_is_fit_from_measured_evaluations():
    fit = estimate.fit_evaluations([(500, 1.5), (1000, 2.0), (500, 1.5)], "m")
    assert (fit.fixed_seconds, fit.per_sample_seconds) == pytest.approx((1.0, 0.001))
    one = estimate.fit_evaluations([(1000, 2.0)], "m")
    assert (one.fixed_seconds, one.per_sample_seconds) == pytest.approx((0.0, 0.002))
    assert estimate.fit_evaluations([], "m") is None


def test_a_finished_cell_gives_its_configuration_s_cost(tmp_path):
    """A golden cell, its phases set by hand: 200 steps at batch 64, training 12.4375 s."""
    cell = tmp_path / "cpu_float32_xla-off_bs64_seed0"
    cell.mkdir()
    (cell / schema.CONFIG_FILE).write_bytes((GOLDEN / cell.name / schema.CONFIG_FILE).read_bytes())
    for step, seconds in ((50, 1.5), (100, 1.25)):
        records.append_jsonl(cell / schema.EVALS_FILE, {"step": step, "n": 500,
                                                        "eval_seconds": seconds})
    summary = records.read_json_record(GOLDEN / cell.name / schema.SUMMARY_FILE)
    summary.pop("schema_version")
    summary["phase_seconds"] = {"train": 12.4375, "setup": 1.0}
    summary["final"]["eval_seconds"] = 3.0
    records.write_json_record(cell / schema.SUMMARY_FILE, summary)
    cost, points = estimate.measured_cell(cell, grid_seconds=30.0)
    assert cost.images_per_sec == pytest.approx(199 * 64 / 12.4375)  # 1024 images/s
    assert points == [(500, 1.5), (500, 1.25), (1000, 3.0)]
    assert cost.fixed_seconds == pytest.approx(30.0 - 12.4375 - 5.75)
    assert cost.source == f"measured by {cell.name}"


def test_durations_read_like_a_person_says_them():
    assert [estimate.duration_text(s) for s in (42.4, 65, 3599.6, 7260)] == \
        ["42 s", "1 min 05 s", "1 h 00 min", "2 h 01 min"]


TWO_PARTS = """
name = "two parts, estimated"
data = "mnist-5k"
[budget]
log_every = 10
[[parts]]
name = "throughput"
[parts.axes]
seeds = [0]
batch_sizes = [32]
devices = ["cpu"]
xla = [false]
precision = ["float32"]
[parts.budget]
steps = 30
[parts.eval]
final_n = 0
[[parts]]
name = "quality"
[parts.axes]
seeds = [0]
batch_sizes = [32]
devices = ["cpu"]
xla = [false]
precision = ["float32"]
[parts.budget]
steps = 40
[parts.eval]
final_n = 128
"""


def _grid(*args, env=None):
    return subprocess.run([sys.executable, "-m", "bench", "grid", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, env={**os.environ, **(env or {})})


@pytest.mark.slow
def test_each_part_is_estimated_before_it_runs_and_recorded_against_its_time(tmp_path):
    spec = tmp_path / "two.toml"
    spec.write_text(TWO_PARTS)
    r = _grid(spec, "--out", tmp_path / "run", env={"DCGAN_BENCH_ESTIMATE": "on"})
    assert r.returncode == 0, r.stderr[-3000:]
    lines = [line for line in r.stderr.splitlines() if line.startswith(("part ", "  ", "["))]
    starts = [i for i, line in enumerate(lines) if "cell to run, estimated" in line]
    cells = [i for i, line in enumerate(lines) if line.startswith("[")]
    assert len(starts) == 2 and starts[0] < cells[0] < starts[1] < cells[1]  # before each part
    assert "calibrated here" in lines[starts[0] + 1]
    # the quality part's rate is the throughput part's cell; its evaluation is calibrated
    assert "measured by throughput_cpu_float32_xla-off_bs32_seed0" in lines[starts[1] + 1]
    assert "evaluation:" in lines[starts[1] + 2] and "calibrated here" in lines[starts[1] + 2]
    assert sum("took" in line and "estimated" in line and "%" in line
               for line in lines if line.startswith("part ")) == 2
    saved = json.loads((tmp_path / "run" / "estimates.json").read_text())
    assert [p["part"] for p in saved["parts"]] == ["throughput", "quality"]
    for part in saved["parts"]:
        assert part["estimated_seconds"] > 0 and part["actual_seconds"] > 0
        assert all(c["actual_seconds"] > 0 for c in part["cells"].values())
    calibration = json.loads((tmp_path / "run" / "calibration" / "throughput.json").read_text())
    assert calibration["configs"][0]["windows"] >= 3 and calibration["process_start_seconds"] > 0
    assert "evaluation" in json.loads((tmp_path / "run" / "calibration" / "quality.json")
                                      .read_text())


def test_without_calibration_the_grid_says_it_has_no_estimate(tmp_path):
    """--parts runs one part; with the calibration off there is no estimate, and it says so."""
    spec = tmp_path / "two.toml"
    spec.write_text(TWO_PARTS.replace("steps = 30", "steps = 12"))
    r = _grid(spec, "--out", tmp_path / "run", "--parts", "throughput",
              env={"DCGAN_BENCH_ESTIMATE": "off"})
    assert r.returncode == 0, r.stderr[-3000:]
    assert "part throughput: 1 cell to run; no estimate: no rate measured yet on this machine " \
           "for 1 configuration(s), and DCGAN_BENCH_ESTIMATE=off skips the calibration" in r.stderr
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert [c["id"] for c in manifest["cells"]] == ["throughput_cpu_float32_xla-off_bs32_seed0"]
    assert manifest["parts"] == ["throughput"]
    bad = _grid(spec, "--out", tmp_path / "other", "--parts", "qualty")
    assert bad.returncode == 2
    assert "--parts: no part 'qualty' in this spec; its parts: throughput, quality" in bad.stderr


def test_an_emulated_part_that_says_skip_is_recorded_skipped(tmp_path):
    """oneDNN capped to AVX2 imitates a CPU without bfloat16 instructions: the bfloat16 cells
    of a part that says emulated = "skip" never run, and their records say why."""
    spec = tmp_path / "bf16.toml"
    spec.write_text(TWO_PARTS.replace('precision = ["float32"]', 'precision = ["mixed_bfloat16"]')
                    .replace('name = "quality"', 'name = "quality"\nemulated = "skip"')
                    .replace('name = "throughput"', 'name = "throughput"\nemulated = "skip"'))
    r = _grid(spec, "--out", tmp_path / "run", env={"ONEDNN_MAX_CPU_ISA": "AVX2"})
    assert r.returncode == 1  # no cell ran ok
    summary = records.read_json_record(
        tmp_path / "run" / "quality_cpu_mixed_bfloat16_xla-off_bs32_seed0" / schema.SUMMARY_FILE)
    assert summary["status"] == "skipped"
    # the reason is this host's: its own lack of bfloat16 instructions on the slow class (AVX2
    # only), the cap on the fast one
    from bench import machine

    host = {**machine.host_machine(), "env": {"ONEDNN_MAX_CPU_ISA": "AVX2"}}
    why = machine.precision_support("mixed_bfloat16", "cpu", host)["why"]
    assert "bfloat16" in why and ("AVX2" in why or not set(host["cpu"]["flags"]) & {
        "avx512_bf16", "amx_bf16"})
    assert summary["reason"].startswith(f"mixed_bfloat16 is emulated on this machine ({why})")


def test_packed_and_unpacked_arms_are_calibrated_and_estimated_apart():
    """A packed cell reads batch x m images a step at its own rate: its key, its label and its
    modelled training time say so (2 x 100 images a step at 1,000 images/s: 0.2 s a step)."""
    from bench.config import CellConfig

    plain = CellConfig(model="unrolled-dcgan", data="stacked-mnist", batch_size=100, steps=11,
                       final_eval_n=0)
    packed = CellConfig(model="unrolled-dcgan", data="stacked-mnist", batch_size=100, steps=11,
                        final_eval_n=0, packing_m=2)
    assert estimate.config_key(plain) != estimate.config_key(packed)
    assert "packed 2" in estimate.config_label(estimate.config_key(packed))
    assert "packed" not in estimate.config_label(estimate.config_key(plain))
    cost = estimate.ConfigCost(fixed_seconds=5.0, images_per_sec=1000.0, source="crafted")
    assert estimate.cell_seconds(plain, cost, None) == pytest.approx(5.0 + 10 * 100 / 1000)
    assert estimate.cell_seconds(packed, cost, None) == pytest.approx(5.0 + 10 * 200 / 1000)
