"""Grid specs, cell ids, and grids run for real: one process per cell."""

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest
from mounts import read_only_view
from terminal import ctrl_c_as_in_a_terminal

from bench import records, schema
from bench.cli import main
from bench.errors import BenchError
from bench.grid.spec import cell_id, expand, load_spec

ROOT = Path(__file__).resolve().parent.parent
TINY = """
name = "tiny grid"
[axes]
seeds = [0, 1]
batch_sizes = [32]
devices = ["cpu"]
xla = [false]
precision = ["float32"]
[budget]
steps = {steps}
log_every = 10
[eval]
final_n = 0
"""


def _spec(tmp_path, text=None, name="tiny.toml"):
    path = tmp_path / name
    path.write_text(TINY.format(steps=20) if text is None else text)
    return path


def _run_grid(*args, env=None):
    return subprocess.run([sys.executable, "-m", "bench", "grid", *map(str, args)],
                          capture_output=True, text=True, env={**os.environ, **(env or {})},
                          cwd=ROOT)


def test_spec_errors_are_listed_together(tmp_path):
    bad = _spec(tmp_path, """
name = "bad"
colour = "red"
[axes]
seeds = []
batch_sizes = [0, 64]
devices = ["cpu", "tpu", "gpu:x"]
xla = [false]
precision = ["float8"]
backend = ["jax"]
[budget]
steps = -5
""")
    with pytest.raises(BenchError) as e:
        load_spec(bad)
    message = str(e.value)
    for expected in ("colour: unknown top-level key", "[axes] seeds: expected a non-empty list",
                     "[axes] batch_sizes: expected a positive integer, found 0",
                     "found 'tpu'", "found 'gpu:x'", "found 'float8'",
                     "steps: expected a positive integer, found -5",
                     # the framework axis' old name: said what it is called now
                     "[axes] backend: renamed frameworks; rename the key"):
        assert expected in message, expected
    assert message.startswith(str(bad))


def test_bad_spec_exits_2_and_writes_nothing(tmp_path, capsys):
    bad = _spec(tmp_path, "name = 'x'\n[axes]\nseeds = [0]\n")
    assert main(["grid", str(bad), "--out", str(tmp_path / "out")]) == 2
    assert "batch_sizes: missing" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_spec_of_a_million_cells_is_refused_from_its_axes_at_once(tmp_path, monkeypatch):
    """1,000 seeds x 1,000 batch sizes: refused by count before one value is checked (it took 15
    minutes and 536 MB before); the bound is stated and moves with DCGAN_BENCH_MAX_CELLS."""
    text = TINY.format(steps=20).replace("seeds = [0, 1]", f"seeds = {list(range(1000))}") \
        .replace("batch_sizes = [32]", f"batch_sizes = {list(range(1, 1001))}")
    with pytest.raises(BenchError, match=r"the axes expand to 1,000,000 cells; at most 10,000 "
                                         r"are expanded \(DCGAN_BENCH_MAX_CELLS raises"):
        load_spec(_spec(tmp_path, text))
    monkeypatch.setenv("DCGAN_BENCH_MAX_CELLS", "1")
    with pytest.raises(BenchError, match="expand to 2 cells; at most 1 are"):
        load_spec(_spec(tmp_path))


@pytest.mark.parametrize("text, expected", [
    ('name = "a\\n"', "name: expected a non-empty string without control characters"),
    ('[[parts]]\nname = "throughput\\n"', "part: expected a name of lowercase letters"),
    ('[[parts]]\nname = "../up"', "part: expected a name of lowercase letters"),
    ('devices = ["cpu\\n"]', "devices: expected cpu, gpu or gpu:N, found 'cpu\\n'"),
])
def test_names_that_would_make_odd_directories_are_refused(tmp_path, text, expected):
    """A newline at the end of a part's name or a device made cell directories with newlines
    (a pattern's `$` matched before a trailing newline)."""
    body = TINY.format(steps=20)
    if text.startswith("[[parts]]"):
        axes = body[body.index("[axes]"):body.index("[budget]")].replace("[axes]", "[parts.axes]")
        body = body[:body.index("[axes]")] + body[body.index("[budget]"):] + text + "\n" + axes
    elif text.startswith("devices"):
        body = body.replace('devices = ["cpu"]', text)
    else:
        body = body.replace('name = "tiny grid"', text)
    with pytest.raises(BenchError) as e:
        load_spec(_spec(tmp_path, body))
    assert expected in str(e.value)


@pytest.mark.parametrize("kind, message", [
    ("dangling link", "which does not exist; create it, or choose another --out"),
    ("a file", "exists and is not a directory"),
    ("lock is a directory", ".grid.lock here is a directory, where the grid's lock file goes"),
    ("read-only", "read-only for this user"),
])
def test_an_out_no_grid_can_write_is_one_line_exit_2_before_anything_runs(tmp_path, capsys,
                                                                          kind, message):
    spec = _spec(tmp_path)
    out = tmp_path / "place" / "out"
    out.parent.mkdir()
    if kind == "dangling link":
        out.symlink_to(tmp_path / "nowhere")
    elif kind == "a file":
        out.write_text("a file\n")
    elif kind == "lock is a directory":
        (out / ".grid.lock").mkdir(parents=True)
    with contextlib.ExitStack() as stack:
        if kind == "read-only":
            out = stack.enter_context(read_only_view(out.parent)) / "out"
        assert main(["grid", str(spec), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "nowhere").exists()


def test_not_toml_is_a_clear_error(tmp_path):
    with pytest.raises(BenchError, match="not valid TOML"):
        load_spec(_spec(tmp_path, "name = [unclosed"))


def test_the_study_program_is_a_coordinate_refused_where_it_cannot_run():
    from bench.config import CellConfig
    from bench.errors import BenchError

    axes = {"seeds": [0], "batch_sizes": [64], "devices": ["cpu"], "precision": ["float32"],
            "frameworks": ["jax"], "programs": ["step", "study"], "xla": [True]}
    spec = expand({"name": "programs", "axes": axes, "budget": {"steps": 5}})
    assert [c.id for c in spec.cells] == ["jax_cpu_float32_xla-on_bs64_seed0",
                                          "jax_cpu_study_float32_xla-on_bs64_seed0"]
    assert [c.config.program for c in spec.cells] == ["step", "study"]
    with pytest.raises(BenchError, match="program: the study program runs under jax, found "
                                         "program = 'study' under framework 'tensorflow'"):
        CellConfig(program="study", xla=True)
    with pytest.raises(BenchError, match="it needs xla on, found xla = false"):
        CellConfig(framework="jax", program="study", xla=False)
    with pytest.raises(BenchError, match="program: expected one of step, study, found 'scan'"):
        CellConfig(framework="jax", program="scan", xla=True)
    # in a grid, each combination of the axes: XLA off beside the study program is refused
    with pytest.raises(BenchError, match=r"1 problem\(s\).*\n.*it needs xla on, found xla = "
                                         "false"):
        expand({"name": "programs", "axes": {**axes, "xla": [False, True]},
                "budget": {"steps": 5}})


def test_cell_ids_are_stable_and_readable():
    spec = expand({"name": "ids", "axes": {"seeds": [0, 1], "batch_sizes": [64, 256],
                                           "devices": ["cpu", "gpu:1"], "xla": [False, True],
                                           "precision": ["float32", "mixed_bfloat16"]},
                   "budget": {"steps": 5}})
    ids = [c.id for c in spec.cells]
    assert len(ids) == len(set(ids)) == 32
    assert ids[0] == "cpu_float32_xla-off_bs64_seed0"
    assert "gpu1_mixed_bfloat16_xla-on_bs256_seed1" in ids
    assert all(cell_id(c.config) == c.id for c in spec.cells)
    assert all(c.config.steps == 5 for c in spec.cells)


PARTS = """
name = "two parts"
[budget]
log_every = 5
[[parts]]
name = "throughput"
[parts.axes]
seeds = [0, 1]
batch_sizes = [16]
devices = ["cpu"]
xla = [false]
precision = ["float32"]
[parts.budget]
steps = 10
[parts.eval]
final_n = 0
[[parts]]
name = "quality"
[parts.axes]
seeds = [0]
batch_sizes = [16]
devices = ["cpu"]
xla = [false]
precision = ["float32"]
[parts.budget]
steps = 20
[parts.eval]
final_n = 200
"""


def test_parts_expand_with_their_own_budgets():
    import tomllib

    spec = expand(tomllib.loads(PARTS))
    by_id = {c.id: c.config for c in spec.cells}
    assert list(by_id) == ["throughput_cpu_float32_xla-off_bs16_seed0",
                           "throughput_cpu_float32_xla-off_bs16_seed1",
                           "quality_cpu_float32_xla-off_bs16_seed0"]
    quality = by_id["quality_cpu_float32_xla-off_bs16_seed0"]
    assert (quality.part, quality.steps, quality.final_eval_n, quality.log_every) == (
        "quality", 20, 200, 5)  # log_every from the top-level defaults
    assert by_id["throughput_cpu_float32_xla-off_bs16_seed0"].final_eval_n == 0


def test_bad_parts_are_listed_together(tmp_path):
    text = PARTS.replace('name = "quality"', 'name = "throughput"').replace(
        "steps = 20", "steps = 0").replace("[parts.eval]\nfinal_n = 200", "[parts.eval]\nwhen = 1")
    with pytest.raises(BenchError) as e:
        load_spec(_spec(tmp_path, text + '[axes]\nseeds = [0]\n'))
    message = str(e.value)
    for expected in ("axes: give [axes] inside each [[parts]]",
                     "[parts.throughput] name: 'throughput' names more than one part",
                     "[parts.throughput.eval] when: unknown key",
                     "[parts.throughput] steps: expected a positive integer, found 0"):
        assert expected in message, expected


@pytest.mark.slow
def test_a_grid_of_parts_runs_into_one_run_directory(tmp_path):
    out = tmp_path / "run"
    r = _run_grid(_spec(tmp_path, PARTS), "--out", out)
    assert r.returncode == 0, r.stderr
    df = pd.read_csv(out / schema.RESULTS_FILE).set_index("cell_id")
    assert list(df["part"]) == ["throughput", "throughput", "quality"]
    assert df.loc["quality_cpu_float32_xla-off_bs16_seed0", "steps"] == 20
    assert df.loc["quality_cpu_float32_xla-off_bs16_seed0", "final_n"] == 200
    from bench.analysis.cells import load_cells

    configs = set(load_cells([out])["config"])
    # only the part differs between the two configurations, so the labels name only the part
    assert configs == {"throughput part", "quality part"}


def test_shipped_specs_are_valid():
    specs = {p.stem: load_spec(p) for p in (ROOT / "runs" / "grids").glob("*.toml")}
    assert {"smoke", "cpu", "gpu", "nightly", "collapse-cpu"} <= set(specs)
    # Quality parts train to the measured digits budget; the GPU's is in steps for every batch size
    quality = [c.config for c in specs["gpu"].cells if c.config.part == "quality"]
    assert {c.batch_size for c in quality} == {64, 256, 1024}
    assert {c.steps for c in quality} == {10000} and {c.epochs for c in quality} == {None}
    for name in ("cpu", "nightly"):
        q = [c.config for c in specs[name].cells if c.config.part == "quality"]
        assert q and all(c.steps >= 8000 and c.final_eval_n == 10000 for c in q), name
    cpu = specs["cpu"]
    assert len({c.config.seed for c in cpu.cells}) >= 2
    assert len({c.config.batch_size for c in cpu.cells}) >= 2
    assert {c.config.xla for c in cpu.cells} == {True, False}
    gpu = specs["gpu"]
    assert len({c.config.seed for c in gpu.cells}) >= 5
    assert min(c.config.batch_size for c in gpu.cells) == 64
    assert max(c.config.batch_size for c in gpu.cells) == 1024
    assert {c.config.precision for c in gpu.cells} > {"float32"}


@pytest.mark.slow
def test_crashing_cell_is_failed_and_the_others_finish(tmp_path):
    out = tmp_path / "run"
    # seed 0 raises inside the cell; seed 1 finishes
    r = _run_grid(_spec(tmp_path), "--out", out, env={"DCGAN_BENCH_FAULT": "crash-if-seed=0"})
    assert r.returncode == 1, r.stderr
    df = pd.read_csv(out / schema.RESULTS_FILE)
    by_seed = df.set_index("seed")
    assert by_seed.loc[0, "status"] == "failed" and "InjectedFault" in by_seed.loc[0, "reason"]
    assert by_seed.loc[1, "status"] == "ok"
    assert "[2/2]" in r.stderr  # one line per finished cell when not on a terminal
    # the failure's reason in the grid's own line and in its closing summary, not only on disk
    line = next(x for x in r.stderr.splitlines() if "cpu_float32_xla-off_bs32_seed0 failed" in x)
    assert "InjectedFault" in line
    summary = r.stderr[r.stderr.index("grid finished in"):]
    assert "failed=1 ok=1" in summary and "InjectedFault" in summary


@pytest.mark.slow
def test_dead_cell_process_is_recorded_as_failed(tmp_path):
    out = tmp_path / "run"
    r = _run_grid(_spec(tmp_path), "--out", out, env={"DCGAN_BENCH_FAULT": "die-if-seed=1"})
    assert r.returncode == 1
    summary = records.read_json_record(out / "cpu_float32_xla-off_bs32_seed1" / schema.SUMMARY_FILE)
    assert summary["status"] == "failed" and "exit code 137" in summary["reason"]
    assert records.read_json_record(
        out / "cpu_float32_xla-off_bs32_seed0" / schema.SUMMARY_FILE)["status"] == "ok"


@pytest.mark.slow
def test_gpu_cells_skipped_without_a_gpu(tmp_path):
    spec = _spec(tmp_path, TINY.format(steps=10).replace('devices = ["cpu"]',
                                                         'devices = ["cpu", "gpu"]'))
    out = tmp_path / "run"
    # CUDA_VISIBLE_DEVICES="" hides any GPU, so this holds on a GPU machine too
    r = _run_grid(spec, "--out", out, env={"CUDA_VISIBLE_DEVICES": ""})
    df = pd.read_csv(out / schema.RESULTS_FILE)
    gpu = df[df.device == "gpu"]
    assert len(gpu) == 2 and (gpu.status == "skipped").all()
    assert gpu.reason.str.contains("no GPU").all()
    assert (df[df.device == "cpu"].status == "ok").all()
    assert r.returncode == 1  # not every cell succeeded


def test_require_gpu_exits_2_before_training(tmp_path):
    out = tmp_path / "run"
    r = _run_grid(_spec(tmp_path), "--out", out, "--require-gpu", env={"CUDA_VISIBLE_DEVICES": ""})
    assert r.returncode == 2
    assert "needs a GPU" in r.stderr and not out.exists()


def test_existing_run_dir_needs_resume(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "something").write_text("x")
    r = _run_grid(_spec(tmp_path), "--out", out)
    assert r.returncode == 2 and "--resume" in r.stderr


@pytest.mark.slow
def test_resume_after_killing_the_grid_mid_cell(tmp_path, machine_pace):
    # each cell trains about 15 s on this machine: long enough to be killed mid-way
    steps = machine_pace.steps_for(15)
    spec = _spec(tmp_path, TINY.format(steps=steps))
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "bench", "grid", str(spec), "--out", str(out)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    first, second = out / "cpu_float32_xla-off_bs32_seed0", out / "cpu_float32_xla-off_bs32_seed1"
    deadline = time.time() + machine_pace.timeout(steps, cells=2)
    while time.time() < deadline and not (second / schema.STEPS_FILE).exists():
        time.sleep(0.5)
    assert (second / schema.STEPS_FILE).exists(), "the second cell never started"
    os.killpg(proc.pid, signal.SIGKILL)  # the machine dies: grid and cell process at once
    proc.wait()
    kept = (first / schema.SUMMARY_FILE).read_bytes()
    assert records.read_json_record(first / schema.SUMMARY_FILE)["status"] == "ok"
    assert records.read_json_record(second / schema.SUMMARY_FILE)["status"] == "running"
    # no grid holds the run any more: read, the cell that says `running` is interrupted
    from bench.analysis.results import load_results

    assert load_results([out]).set_index("cell_id").loc[second.name, "status"] == "interrupted"
    started = records.read_json_record(out / schema.MANIFEST_FILE)["started"]

    r = _run_grid(spec, "--out", out, "--resume")
    assert r.returncode == 0, r.stderr
    manifest = records.read_json_record(out / schema.MANIFEST_FILE)
    assert manifest["started"] == started and len(manifest["resumed"]) == 1  # the first start
    assert (first / schema.SUMMARY_FILE).read_bytes() == kept  # the finished cell was not rerun
    assert "kept from the earlier run" in r.stderr
    steps = records.read_jsonl(second / schema.STEPS_FILE)
    assert [s["step"] for s in steps][:2] == [10, 20]  # rerun from a clean directory
    df = pd.read_csv(out / schema.RESULTS_FILE)
    assert (df.status == "ok").all() and len(df) == 2


@pytest.mark.slow
def test_sigterm_stops_the_grid_keeping_finished_cells(tmp_path, machine_pace):
    steps = machine_pace.steps_for(15)
    spec = _spec(tmp_path, TINY.format(steps=steps))
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "bench", "grid", str(spec), "--out", str(out)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + machine_pace.timeout(steps)
    while time.time() < deadline and not (out / "cpu_float32_xla-off_bs32_seed0" /
                                          schema.STEPS_FILE).exists():
        time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=machine_pace.timeout())
    assert proc.returncode == 130
    assert "--resume" in err
    assert "grid finished" not in err  # interrupted, and said so, not "finished" with nothing
    assert (out / schema.RESULTS_FILE).exists()
    summary = records.read_json_record(out / "cpu_float32_xla-off_bs32_seed0" / schema.SUMMARY_FILE)
    assert summary["status"] == "interrupted" and "stopped by SIGTERM" in summary["reason"]
    assert pd.read_csv(out / schema.RESULTS_FILE)["status"].iloc[0] == "interrupted"


@pytest.mark.slow
def test_ctrl_c_twice_as_a_cell_finishes_stops_cleanly_keeping_it(tmp_path, machine_pace):
    # Once, a Ctrl-C landing in the bookkeeping after a cell (first import of numpy, for
    # results.csv) left numpy half-loaded, and the grid died with a traceback and no results.csv.
    spec = _spec(tmp_path, TINY.format(steps=30).replace("seeds = [0, 1]", "seeds = [0, 1, 2]"))
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "bench", "grid", str(spec), "--out", str(out)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=ctrl_c_as_in_a_terminal)
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.startswith("[1/3]"):  # printed just before the driver writes results.csv
            proc.send_signal(signal.SIGINT)
            time.sleep(0.05)
            proc.send_signal(signal.SIGINT)  # impatient: a second Ctrl-C
            break
    assert seen and seen[-1].startswith("[1/3]"), "".join(seen)
    _, err = proc.communicate(timeout=machine_pace.timeout(30, cells=3))
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "--resume" in err
    df = pd.read_csv(out / schema.RESULTS_FILE).set_index("cell_id")
    assert df.loc["cpu_float32_xla-off_bs32_seed0", "status"] == "ok"
    assert len(df) == 3  # the other two listed, not dropped


def test_a_ray_cell_directory_whose_worker_died_is_removed_by_the_next(tmp_path, monkeypatch):
    from bench.grid import ray_launcher

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.Popen(["true"])
    gone.wait()  # its pid is now free: a worker that died
    dead = tmp_path / f"dcgan-bench-cell-{gone.pid}-abc"
    alive = tmp_path / f"dcgan-bench-cell-{os.getppid()}-def"
    other = tmp_path / "dcgan-bench-cell-notapid"
    for d in (dead, alive, other):
        (d / "cell").mkdir(parents=True)
    fresh = ray_launcher._cell_tmp_dir()
    assert not dead.exists()
    assert alive.is_dir() and other.is_dir()  # a live worker's cell, and a name not ours
    assert fresh.parent == tmp_path and fresh.name.startswith(f"dcgan-bench-cell-{os.getpid()}-")


@pytest.mark.slow
def test_table_prints_every_cell(tmp_path, capsys):
    out = tmp_path / "run"
    assert _run_grid(_spec(tmp_path, TINY.format(steps=10)), "--out", out).returncode == 0
    assert main(["table", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "cpu_float32_xla-off_bs32_seed0" in printed and "cpu_float32_xla-off_bs32_seed1" in printed
    assert main(["table", str(tmp_path / "nothing-here")]) == 2


def test_too_small_evaluations_are_refused_before_training(tmp_path):
    spec = TINY.format(steps=5).replace("final_n = 0", "every = 2\nn = 50\nfinal_n = 20")
    with pytest.raises(BenchError) as e:
        load_spec(_spec(tmp_path, spec))
    assert "eval_n: expected at least 128" in str(e.value)
    assert "final_eval_n: expected 0 (off) or at least 128" in str(e.value)


def test_the_launcher_is_chosen_in_one_function_and_refuses_options_it_does_not_take():
    from bench.grid.launchers import make_launcher
    from bench.grid.local import LocalProcesses

    assert isinstance(make_launcher(), LocalProcesses)
    with pytest.raises(BenchError, match="--address and --retries are for --launcher ray"):
        make_launcher("local", address="10.0.0.5:6379")
    with pytest.raises(BenchError, match="expected one of local, ray, found 'slurm'"):
        make_launcher("slurm")
    with pytest.raises(BenchError, match="--retries: expected 0 or more, found -1"):
        make_launcher("ray", retries=-1)


def test_resume_without_out_is_refused_before_ray_starts(tmp_path):
    # the Ray launcher joins its cluster on first use: bad input costs no cluster start
    r = _run_grid(_spec(tmp_path), "--resume", "--launcher", "ray")
    assert r.returncode == 2 and "--resume needs --out" in r.stderr
    assert "ray" not in r.stderr.lower().replace("--launcher ray", "")


PACKED = """
name = "packed"
[axes]
seeds = [0, 1, 2, 3, 4]
batch_sizes = [32, 64]
devices = ["cpu"]
xla = [true]
precision = ["float32"]
frameworks = {frameworks}
[budget]
steps = 20
seeds_per_process = 2
"""


def test_seeds_packed_in_one_process_are_grouped_by_configuration():
    import tomllib

    from bench.grid.local import process_groups

    spec = expand(tomllib.loads(PACKED.format(frameworks='["jax"]')))
    groups = [[c.config.seed for c in group] for group in process_groups(spec.cells)]
    sizes = [[c.config.batch_size for c in group] for group in process_groups(spec.cells)]
    # five seeds in twos: the last seed alone, and never two batch sizes in one program
    assert groups == [[0, 1], [2, 3], [4], [0, 1], [2, 3], [4]]
    assert sizes == [[32, 32], [32, 32], [32], [64, 64], [64, 64], [64]]
    unpacked = expand(tomllib.loads(TINY.format(steps=20)))
    assert [len(g) for g in process_groups(unpacked.cells)] == [1, 1]


def test_packed_seeds_outside_jax_or_on_ray_are_refused_before_anything_is_written(tmp_path):
    r = _run_grid(_spec(tmp_path, PACKED.format(frameworks='["tensorflow", "jax"]')),
                  "--out", tmp_path / "out")
    assert r.returncode == 2
    assert ("seeds_per_process: more than one seed in one program needs a framework that packs "
            "seeds (jax), found 2 under framework 'tensorflow'") in r.stderr
    r = _run_grid(_spec(tmp_path, PACKED.format(frameworks='["jax"]')), "--out", tmp_path / "out",
                  "--launcher", "ray")
    assert r.returncode == 2, r.stderr
    assert "seeds packed in one program run on the local launcher only" in r.stderr
    assert not (tmp_path / "out").exists()


def test_a_packing_without_packed_seeds_or_unknown_is_refused():
    import tomllib

    for budget, expected in (('packing = "vmap"\nseeds_per_process = 1',
                              "packing: says how seeds packed in one program are stepped, and "
                              "seeds_per_process is 1; found packing = 'vmap'"),
                             ('packing = "pmap"', "packing: expected one of auto, loop, vmap, "
                              "found 'pmap'")):
        text = PACKED.format(frameworks='["jax"]').replace("seeds_per_process = 2", budget)
        with pytest.raises(BenchError) as e:
            expand(tomllib.loads(text))
        assert expected in str(e.value)


@pytest.mark.parametrize("code, status, said", [
    (-signal.SIGKILL, "interrupted", "SIGKILL: a person, a job's limit or the kernel's "
                                     "out-of-memory killer"),
    (-signal.SIGTERM, "interrupted", "SIGTERM"),
    (-signal.SIGSEGV, "failed", "cell process ended with signal 11"),
])
def test_a_cell_process_ended_by_a_signal_reads_interrupted_or_failed_by_the_signal(
        tmp_path, code, status, said):
    from bench.grid.cellrecord import finished_status

    cell = tmp_path / "run" / "cell"
    cell.mkdir(parents=True)
    records.write_json_record(cell / schema.SUMMARY_FILE, {"status": "running", "reason": None,
                                                           "steps_planned": 500})
    records.append_jsonl(cell / schema.STEPS_FILE, {"step": 40, "images_per_sec": 100.0})
    assert finished_status(cell, f"signal {-code}", tmp_path / "no.log", code) == status
    summary = records.read_json_record(cell / schema.SUMMARY_FILE)
    assert summary["status"] == status and said in summary["reason"]
    if status == "interrupted":  # where it stopped, and what it had planned, kept
        assert summary["reason"].startswith("interrupted at step 40:")
        assert summary["steps_planned"] == 500
