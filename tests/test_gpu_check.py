"""The GPU check's Python (bench.jobs.gpu_check, bench.jobs.gpu_check_summary) on the CPU: the plan
and its specs against the grid's own validation, the knobs, the gate's verdict, the import audit's
verdict and its list of modules, the dry run's TensorFlow block, and the summary and checks on
crafted records (an H200 run's unsteady windows, a packed group cut before any seed ended)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.errors import BenchError
from bench.frameworks import JAX, TENSORFLOW
from bench.grid.spec import load_spec
from bench.jobs import gpu_check as gc
from bench.jobs import gpu_check_summary as gs

ROOT = Path(__file__).resolve().parent.parent
AUDITED = "the JAX cell path imports no TensorFlow, TF-GAN or seaborn"
EVALUATED = "every evaluated cell has its final evaluation in its own record, without TensorFlow"


def test_the_default_plan_is_the_six_minute_check_in_order():
    phases = gc.plan(gc.Settings(), "gpu")
    # the loop at the largest K last, with no cap but the budget: it compiles K copies of the step
    # the study program (issue 44's bars: one seed, 8 packed) before the step program's packing
    assert [(p.name, p.min_s, p.cap_s) for p in phases] == [
        ("gate", 45, 150), ("batches", 60, 300), ("study1", 40, 64), ("study8_vmap", 40, 92),
        ("study8_loop", 40, 92), ("study32_vmap", 40, 188), ("study32_loop", 40, 188),
        ("study32_auto", 40, 218), ("packed8_vmap", 40, 92), ("packed32_vmap", 40, 188),
        ("packed8_loop", 40, 92), ("packed32_loop", 60, gc.NO_CAP)]


def test_each_spec_is_a_grid_of_the_cells_its_phase_names(tmp_path):
    gc.write_plan(tmp_path, gc.plan(gc.Settings(), "gpu"))
    plan = [line.split("\t") for line in (tmp_path / "plan.tsv").read_text().splitlines()]
    specs = {name: load_spec(path) for name, _, _, path in plan}
    coords = {name: sorted((c.config.batch_size, c.config.precision, c.config.seed) for c in spec.cells)
              for name, spec in specs.items()}
    assert coords["gate"] == [(64, "float32", 0)]
    # the gate's configuration not again
    assert coords["batches"] == [(64, "mixed_bfloat16", 0), (256, "float32", 0), (256, "mixed_bfloat16", 0)]
    assert coords["packed32_loop"] == [(64, "float32", s) for s in range(32)]
    cells = [c.config for spec in specs.values() for c in spec.cells]
    assert {(c.framework, c.device, c.xla) for c in cells} == {(JAX.name, "gpu", True)}
    gate, packed = specs["gate"].cells[0].config, specs["packed8_vmap"].cells[0].config
    assert (gate.steps, gate.log_every, gate.final_eval_n, gate.seeds_per_process) == (1000, 100, 10000, 1)
    assert (packed.steps, packed.log_every, packed.final_eval_n) == (400, 50, 1000)
    assert (packed.seeds_per_process, packed.packing) == (8, "vmap")
    assert specs["batches"].cells[0].config.final_eval_n == 0  # only the gate and packed seeds evaluate
    # the study program: the step program's packed budget, a window of 50 steps a dispatch
    study = [c.config for c in specs["study8_vmap"].cells]
    assert {(c.program, c.seeds_per_process, c.packing, c.log_every) for c in study} == {
        ("study", 8, "vmap", 50)}
    assert [c.config.program for c in specs["study1"].cells] == ["study"]
    # "auto" at the largest K: its trial's choice set against the two phases before it
    assert {(c.program, c.seeds_per_process, c.packing) for c in
            (c.config for c in specs["study32_auto"].cells)} == {("study", 32, "auto")}
    assert {c.config.program for name in ("gate", "packed8_vmap") for c in specs[name].cells} == {"step"}


def test_a_plan_with_one_batch_one_precision_and_no_packing_is_the_gate_alone():
    settings = gc.Settings(ks=(1,), study_ks=(), batches=(32,), precisions=("float32",))
    assert [p.name for p in gc.plan(settings, "cpu")] == ["gate"]
    assert 'devices = ["cpu"]' in gc.plan(settings, "cpu")[0].spec


def test_the_knobs_read_as_the_shell_read_them():
    s = gc.settings_from({"DEVCHECK_KS": "2 4", "DEVCHECK_PRECISIONS": "mixed_bfloat16",
                          "DEVCHECK_STEPS": "6", "DEVCHECK_BATCHES": "", "OTHER": "x"})
    assert (s.ks, s.precisions, s.steps) == ((2, 4), ("mixed_bfloat16",), 6)
    assert s.batches == (64, 256) and s.packed_final_n == 1000  # empty or unset: the default
    with pytest.raises(BenchError, match=r"DEVCHECK_KS: expected whole numbers, found '8 x'"):
        gc.settings_from({"DEVCHECK_KS": "8 x"})
    with pytest.raises(BenchError, match="DEVCHECK_BATCHES: expected at least one"):
        gc.settings_from({"DEVCHECK_BATCHES": "  "})


@pytest.mark.parametrize("phases, statuses, failed", [
    ([["gate", "0"]], ["ok"], False),
    ([["gate", "1"]], ["failed"], True),
    ([["gate", "124"]], [], True),  # cut before its cell wrote a summary
    ([["gate", "skipped-budget"]], [], False),  # it never ran: nothing to judge
    ([], [], False),  # not asked for (DEVCHECK_PHASES)
])
def test_the_gate_fails_when_it_ran_and_no_cell_ended_ok(phases, statuses, failed):
    assert gc.gate_failed(phases, statuses) is failed


def test_the_gate_command_prints_the_failed_cells_log(tmp_path, capsys):
    cell = tmp_path / "runs" / "gate" / "gate_jax_gpu_float32_xla-on_bs64_seed0"
    (tmp_path / "runs" / "gate" / "logs").mkdir(parents=True)
    cell.mkdir()
    (cell / "summary.json").write_text(json.dumps({"status": "failed"}))
    (cell / "traceback.txt").write_text("Traceback\nRuntimeError: no GPU\n")
    (tmp_path / "runs" / "gate" / "logs" / f"{cell.name}.log").write_text(
        "".join(f"line {i}\n" for i in range(100)))
    (tmp_path / "phases.tsv").write_text("gate\t1\t30\t150\t-\n")
    assert gc.main(["gate", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "GATE FAILED" in out and "RuntimeError: no GPU" in out
    assert "line 40\n" in out and "line 39\n" not in out  # the log's last 60 lines
    (cell / "summary.json").write_text(json.dumps({"status": "ok"}))
    assert gc.main(["gate", str(tmp_path)]) == 0


def test_the_audit_fails_on_anything_a_jax_process_keeps_out():
    assert set(JAX.keeps_out) <= set(gc.NOT_IN_A_CELL)
    assert gc.audit_verdict({"numpy": 1, "jax": 1, "keras": 1}).startswith("AUDIT-OK")
    assert gc.audit_verdict({"jax": 1, TENSORFLOW.package: 1}) == "AUDIT-FAIL: imports tensorflow"
    assert gc.audit_verdict({"tf_keras": 1, "seaborn": 1}) == "AUDIT-FAIL: imports tf_keras, seaborn"


def test_the_audit_imports_modules_that_exist():
    """A module renamed on main fails here, not in the audit on a borrowed GPU."""
    import importlib.util

    names = gc.audited_modules()
    assert JAX.runtime.split(":")[0] in names and JAX.inference.split(":")[0] in names
    assert [n for n in names if importlib.util.find_spec(n) is None] == []


@pytest.mark.slow
def test_the_audit_on_the_cpu_finds_the_jax_cell_path_free_of_tensorflow():
    pytest.importorskip("jax")
    proc = subprocess.run([sys.executable, "-m", "bench.jobs.gpu_check", "audit", "cpu"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "KERAS_BACKEND": "jax",
                               "HOME": str(ROOT / ".tox"), "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "AUDIT-OK" in proc.stdout and "GPU-FAIL" not in proc.stdout
    assert "runs/grids/gpu-check-jax.toml: " in proc.stdout


def test_the_dry_runs_block_keeps_what_a_jax_process_keeps_out(tmp_path):
    assert gc.main(["block", str(tmp_path)]) == 0
    probe = ("import importlib.util, json, sys\n"
             "for name in sys.argv[1:]:\n"
             "    try:\n"
             "        importlib.util.find_spec(name)\n"
             "    except ImportError as e:\n"
             "        print(name, 'blocked' if 'dry run' in str(e) else e)\n")
    proc = subprocess.run([sys.executable, "-c", probe, *JAX.keeps_out, "tensorflow.keras", "json"],
                          env={"PYTHONPATH": str(tmp_path)}, capture_output=True, text=True)
    assert proc.stdout.splitlines() == [f"{n} blocked" for n in (*JAX.keeps_out, "tensorflow.keras")]


def test_the_environment_lists_each_frameworks_packages_and_says_what_is_absent():
    versions = {"jax": "0.11.2", "keras": "3.15.1"}

    def version(name):
        if name not in versions:
            raise gc.importlib.metadata.PackageNotFoundError(name)
        return versions[name]

    lines = gc.env_lines(version)
    assert lines[0].startswith("python ")
    assert {"  jax 0.11.2", "  keras 3.15.1", "  tensorflow (absent)", "  jaxlib (absent)",
            "  tensorflow_gan (absent)", "  jax-cuda13-plugin (absent)"} <= set(lines)
    assert len(lines) == len(set(lines))  # each package once, however many frameworks name it


# ---------------------------------------------------------------- the summary, on crafted records

def _cell(work, run, name, *, status="ok", k=1, packing=None, ips=None, final=None, device="jax:gpu:0",
          windows=(), first_line="CUDA_VISIBLE_DEVICES=0", program=None, trial=None, **summary):
    cell = work / "runs" / run / name
    cell.mkdir(parents=True)
    (work / "runs" / run / "logs").mkdir(exist_ok=True)
    log = f"{name}.log"
    (work / "runs" / run / "logs" / log).write_text(first_line + "\nmore\n")
    s = {"status": status, "reason": None if status == "ok" else "cut at the phase's limit",
         "placement": {"log": log}, "concurrent_cells": k, "peak_memory_train_bytes": 3 * 2**30,
         "peak_memory_first_step_bytes": 2**30, "preflight": [], **summary}
    if ips:
        s["images_per_sec"] = dict(zip(("median", "overall", "p10", "p90"), ips))
    if k > 1:
        s["packed"] = {"seeds_per_process": k, "packing": packing, "packing_trial": trial}
    if final:
        s["final"] = {"n": final[0], "fid": final[1], "classes_covered": 10, "outcome": final[2],
                      "evaluated_with": {"instrument": "x", "metrics": "numpy"}}
    (cell / "summary.json").write_text(json.dumps(s))
    (cell / "config.json").write_text(json.dumps({"batch_size": 64, "precision": "float32", "seed": 0,
                                                  **({"program": program} if program else {})}))
    (cell / "env.json").write_text(json.dumps({"device": device, "precision": {"support": "native"},
                                               "gpu": {"name": "NVIDIA H200", "compute_capability": "9.0",
                                                       "driver": "580.159.04", "memory_bytes": 1}}))
    (cell / "steps.jsonl").write_text("".join(json.dumps({"images_per_sec": w, "excluded": i == 0}) + "\n"
                                              for i, w in enumerate(windows)))


@pytest.fixture
def work(tmp_path):
    """An H200 run as docs/gpus-and-jax.md reports it (a gate of 27,285 images/s a window, 29,135
    overall, p10/p90 0.74; 8 seeds by vmap at 4,252 a seed and 34,015 the process), and a 32-seed
    loop that the budget cut before any seed ended."""
    _cell(tmp_path, "gate", "gate_a", ips=(27285, 29135, 20000, 27027), final=(10000, 21.5, "digits"),
          compile_seconds=5.0, wall_seconds=40.0)
    for seed in range(8):
        _cell(tmp_path, "packed8_vmap", f"packed8_vmap_s{seed}", k=8, packing="vmap",
              ips=(4200, 4252, 4100, 4300), final=(1000, 60.0 + seed, "digits"), compile_seconds=5.4,
              packed_images_per_sec_process=34015, wall_seconds=60.0)
    for seed in range(2):
        _cell(tmp_path, "packed32_loop", f"packed32_loop_s{seed}", status="failed", k=32, packing="loop",
              windows=(10, 600, 650, 700))
    (tmp_path / "phases.tsv").write_text("gate\t0\t41\t150\t-\npacked8_vmap\t0\t70\t92\t-\n"
                                         "packed32_loop\t124\t200\t200\t-\npacked32_vmap\tskipped-budget\t0\t0\t-\n")
    (tmp_path / "audit.txt").write_text("jax.devices(): [CudaDevice(id=0)]\nAUDIT-OK: none of x\n")
    return tmp_path


def test_packed_groups_are_set_against_the_gate(work):
    rows = gs.read_rows(work, gs.read_phases(work))
    assert [r["run"] for r in rows][:2] == ["gate", "packed8_vmap"]  # in the order the phases ran
    vmap, loop = sorted(gs.packed_groups(rows), key=lambda g: g["k"])
    assert (vmap["k"], vmap["packing"], vmap["ok"], vmap["cells"]) == (8, "vmap", 8, 8)
    assert vmap["process_over_alone"] == pytest.approx(34015 / 29135)  # 1.17, as on the H200
    assert vmap["seed_over_alone"] == pytest.approx(4252 / 29135)
    assert (loop["ok"], loop["ips_a_seed"], loop["process_over_alone"]) == (0, None, None)


def test_study_groups_are_apart_from_the_step_programs_and_set_against_the_gate(tmp_path):
    _cell(tmp_path, "gate", "gate_a", ips=(27285, 29135, 20000, 27027), compile_seconds=5.0)
    _cell(tmp_path, "study1", "study1_a", ips=(90000, 91000, 88000, 92000), program="study",
          steps_per_dispatch=50)
    for seed in range(8):
        for run, ips, program in (("packed8_vmap", 4252, None), ("study8_vmap", 22000, "study")):
            _cell(tmp_path, run, f"{run}_s{seed}", k=8, packing="vmap", ips=(ips,) * 4,
                  program=program, packed_images_per_sec_process=8 * ips)
        _cell(tmp_path, "study8_auto", f"study8_auto_s{seed}", k=8, packing="vmap",
              ips=(21000,) * 4, program="study", packed_images_per_sec_process=8 * 21000,
              trial={"chosen": "vmap", "step_seconds": {"loop": 0.004, "vmap": 0.003}})
    (tmp_path / "phases.tsv").write_text("gate\t0\t41\t150\t-\nstudy1\t0\t20\t64\t-\n"
                                         "study8_vmap\t0\t30\t92\t-\npacked8_vmap\t0\t70\t92\t-\n")
    rows = gs.read_rows(tmp_path, gs.read_phases(tmp_path))
    groups = {(g["k"], g["packing"]): g for g in gs.packed_groups(rows)}
    # the step program's packed group first, then the study program's, K = 1 included
    # "auto" apart from the packing it chose, named with its choice
    assert list(groups) == [(8, "vmap"), (1, "study:alone"), (8, "study:auto=vmap"),
                            (8, "study:vmap")]
    assert groups[(8, "study:auto=vmap")]["ips_a_seed"] == 21000
    assert groups[(1, "study:alone")]["process_over_alone"] == pytest.approx(91000 / 29135)
    assert groups[(8, "study:vmap")]["process_over_alone"] == pytest.approx(8 * 22000 / 29135)
    assert groups[(8, "vmap")]["ips_a_seed"] == 4252  # the two programs' seeds never pooled


def test_the_summary_reads_as_a_table(work):
    text = gs.write_summary(work, work, "gpu", 330, 300)
    assert text == (work / "summary.txt").read_text()
    lines = text.splitlines()
    assert lines[0] == "devcheck summary: mode gpu, 11 cells, 300s of a 330s budget"
    start = lines.index("packed seeds and the study program, the gate's batch and precision (K = 1 "
                        "alone: 29135 images/s):")
    # a group with no seed ended shows what its seeds logged before the cut (the 10 excluded)
    assert lines[start + 1:start + 5] == [
        "    K packing        ok compile_s img/s a seed    process  x K=1 seed/K=1  peak MiB  wall_s",
        "    1 alone         1/1       5.0        29135      29135   1.00     1.00      3072    40.0",
        "    8 vmap         8/8        5.4         4252      34015   1.17     0.15      3072    60.0",
        "   32 loop         0/2          -            -          -      -        -         -       -"
        "  ['failed'] cut at the phase's limit (cut after 3 measured window(s): 650 img/s a seed)"]
    assert "  outcomes: digits 9" in lines
    checks = lines.index("checks (README 'First run on a GPU' and 'The JAX backend', JAX side):")
    assert lines[checks - 3:checks] == ["  phase packed32_loop: cut at its limit",
                                        "  phase packed32_vmap: skipped-budget", ""]
    results = json.loads((work / "results.json").read_text())
    assert (results["budget_s"], results["elapsed_s"], len(results["cells"])) == (330, 300, 11)
    assert results["cells"][0][JAX.package] is None  # env.json's versions, named by the table


def _verdicts(work, mode="gpu"):
    rows = gs.read_rows(work, gs.read_phases(work))
    return {c["check"]: (c["result"], c["detail"]) for c in
            gs.checks_of(rows, gs.read_phases(work), (work / "audit.txt").read_text(), mode)}


def test_the_checks_on_the_h200_run(work):
    v = _verdicts(work)
    # docs/gpus-and-jax.md: every check passed but the gate's windows (p10/p90 0.74)
    assert v["windows steady (p10/p90 of a cell's windows >= 0.8)"] == ("FAIL", "gate_a: 0.74")
    assert v["every cell ended ok"][0] == "FAIL"  # the cut loop
    assert "packed32_loop_s0: failed cut" in v["every cell ended ok"][1]
    for passed in (AUDITED, "JAX sees a GPU (audit process)",
                   "grid --require-gpu accepted (JAX asked, TensorFlow absent)", "every cell on jax:gpu",
                   "single cells say CUDA_VISIBLE_DEVICES first in their log",
                   "packed groups say CUDA_VISIBLE_DEVICES first in their log",
                   EVALUATED,
                   "memory: first step kept apart from training", "concurrent_cells: 1 alone, K packed",
                   "env.json names the GPU, its compute capability, driver and memory"):
        assert v[passed][0] == "PASS", passed
    assert v["packed groups say CUDA_VISIBLE_DEVICES first in their log"][1].startswith("10/10")
    assert v["compile_seconds: the first cell against the later ones"] == ("n/a", "gate_a=5.0s")


def test_the_checks_fail_where_the_records_say_so(work):
    (work / "audit.txt").write_text("jax.devices(): [CpuDevice(id=0)]\nGPU-FAIL: JAX sees no GPU\n"
                                    "AUDIT-FAIL: imports tensorflow\n")
    (work / "phases.tsv").write_text("gate\t2\t3\t150\t-\n")
    _cell(work, "packed8_vmap", "packed8_vmap_late", k=8, packing="vmap", ips=(1, 1, 1, 1),
          final=(1000, 9.0, None), device="jax:cpu:0", first_line="starting", concurrent_cells=1,
          final_eval="failed: RuntimeError")
    v = _verdicts(work)
    for failed in (AUDITED, "JAX sees a GPU (audit process)",
                   "grid --require-gpu accepted (JAX asked, TensorFlow absent)", "every cell on jax:gpu",
                   "packed groups say CUDA_VISIBLE_DEVICES first in their log",
                   EVALUATED,
                   "concurrent_cells: 1 alone, K packed"):
        assert v[failed][0] == "FAIL", failed
    assert v[AUDITED][1] == "AUDIT-FAIL: imports tensorflow"
    assert "packed8_vmap_late: n=1000 outcome=None" in v[EVALUATED][1]


def test_the_dry_run_asks_nothing_of_a_gpu(work):
    v = _verdicts(work, mode="cpu")
    assert not any("GPU" in name or "jax:gpu" in name or "bfloat16" in name for name in v)
    assert v["single cells say CUDA_VISIBLE_DEVICES first in their log"][0] == "PASS"


def test_no_records_no_passes(tmp_path):
    (tmp_path / "phases.tsv").write_text("gate\tskipped-budget\t0\t0\t-\n")
    text = gs.write_summary(tmp_path, tmp_path, "cpu", 30, 29)
    assert "  outcomes: none" in text
    assert "  FAIL every cell ended ok" in text
    assert f"  FAIL {AUDITED}: the audit did not finish" in text
    assert "PASS" not in text


def test_the_summary_shows_the_packed_steps_kernels_against_one_seeds(work):
    """kernels.jsonl as `gpu_check kernels` writes it, its last line cut by the shell's timeout:
    the whole lines are shown, each set against K = 1's count."""
    (work / "kernels.jsonl").write_text(
        '{"k": 1, "packing": "loop", "batch": 64, "kernels": 250, "by_opcode": {"fusion": 250}}\n'
        '{"k": 8, "packing": "vmap", "batch": 64, "kernels": 262, "by_opcode": {"fusion": 262}}\n'
        '{"k": 8, "packing": "loop", "batch": 64, "kern')
    lines = gs.write_summary(work, work, "gpu", 330, 300).splitlines()
    start = lines.index("kernels a dispatch of the packed step (its optimized HLO's entry computation):")
    assert lines[start + 1:start + 3] == ["  K=1   loop     250   1.00 x K=1",
                                          "  K=8   vmap     262   1.05 x K=1"]
    assert [x["k"] for x in json.loads((work / "results.json").read_text())["kernels"]] == [1, 8]
