"""The DCGAN under Keras 3's JAX backend: the same step as TensorFlow's, a cell with no TensorFlow
on its path that evaluates itself as TensorFlow would, and packed seeds.

JAX's first step compiles for 15-35 s on a 2-core CPU: these tests train a handful of steps.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("jax", reason="JAX is not installed (the jax extra: pip install "
                                  "'dcgan-bench[jax]'; tox -e py installs it)")

from bench import records, schema  # noqa: E402

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
STEP = ROOT / "tests" / "backend_step.py"
LEARNING_RATE = 1e-4


def _step(backend, precision, inputs, outputs):
    proc = subprocess.run([sys.executable, str(STEP), backend, precision, str(inputs),
                           str(outputs)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return np.load(outputs)


@pytest.mark.parametrize("precision, outputs_rtol, weights_atol, flipped, mean_apart", [
    # float32: the same arithmetic in another order, every update within 1e-6 (1% of the
    # learning rate). bfloat16 (8 bits of mantissa): Adam's first step moves a weight by the
    # learning rate in its gradient's sign, so a gradient near zero may flip sign between the
    # backends and move it up to 2 x 1e-4 the other way: a few percent of a weight's elements
    # do (4.7% at most when measured), the rest agree. Where bfloat16 is emulated (the AVX2
    # class: oneDNN converts to float32, XLA rounds its own way) the mean distance of the
    # generator's first weights was 0.113 x the learning rate, under 0.1 on the AVX-512 class:
    # a bound of 0.2 still holds the flips to their 8% (8% x 2 learning rates = 0.16).
    ("float32", 1e-5, 1e-6, 0.0, 0.1),
    ("mixed_bfloat16", 2e-2, 2.05 * LEARNING_RATE, 0.08, 0.2),
])
def test_one_jax_step_is_one_tensorflow_step(tmp_path, precision, outputs_rtol, weights_atol,
                                             flipped, mean_apart):
    """From the same initial weights, real batch, noise and Dropout masks, one step under each
    backend: the same losses and D(x), D(G(z)), and the same updates."""
    inputs = tmp_path / "inputs.npz"
    tf_out = _step("tensorflow", precision, inputs, tmp_path / "tf.npz")
    jax_out = _step("jax", precision, inputs, tmp_path / "jax.npz")
    given = np.load(inputs)
    np.testing.assert_allclose(jax_out["outputs"], tf_out["outputs"], rtol=outputs_rtol)
    weights = [k for k in tf_out.files if k != "outputs"]
    assert len(weights) == 16 + 6  # every generator and discriminator weight
    for key in weights:
        moved = np.abs(tf_out[key].astype("float64") - given[key]).max()
        assert moved > 0, key  # the step did update it
        np.testing.assert_allclose(jax_out[key], tf_out[key], rtol=0, atol=weights_atol,
                                   err_msg=key)
        apart = np.abs(jax_out[key].astype("float64") - tf_out[key])
        assert (apart > LEARNING_RATE / 2).mean() <= flipped, key  # moved the other way
        assert apart.mean() <= mean_apart * LEARNING_RATE, key


# Installed as sitecustomize in every process of a grid: TensorFlow unimportable throughout, as
# on the GPU machines that have only JAX.
BLOCK_EVERYWHERE = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "tensorflow":
            raise ImportError(f"{name} is blocked in this test")
sys.meta_path.insert(0, Block())
"""


BLOCKED = BLOCK_EVERYWHERE + """
from bench.cli import main
code = main(sys.argv[1:])
assert "tensorflow" not in sys.modules, "tensorflow was imported"
sys.exit(code)
"""


def test_a_jax_cell_evaluates_itself_without_tensorflow_as_tensorflow_would(tmp_path):
    """A JAX cell with TensorFlow unimportable has its final evaluation in its own record (the
    instrument under Keras' JAX backend, the metrics' NumPy twins); a TensorFlow process
    evaluating the same saved generator (TF-GAN, the reference) gives the same numbers within
    1e-4 relative."""
    cell = tmp_path / "cell"
    proc = subprocess.run([sys.executable, "-c", BLOCKED, "train", "--framework", "jax",
                           "--steps", "12", "--log-every", "5", "--batch-size", "16",
                           "--eval-every", "10", "--eval-n", "128",
                           "--final-eval-n", "256", "--out", str(cell)],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # the record reads like a TensorFlow cell's: the same files and fields, the framework named
    for name in (schema.CONFIG_FILE, schema.ENV_FILE, schema.SUMMARY_FILE, schema.STEPS_FILE,
                 schema.SAMPLES_FILE, schema.GENERATOR_FILE, schema.EVALS_FILE):
        assert (cell / name).is_file(), name
    assert not (cell / schema.TENSORBOARD_DIR).exists()  # TensorFlow's summary writer: not here
    config = records.read_json_record(cell / schema.CONFIG_FILE)
    env = records.read_json_record(cell / schema.ENV_FILE)
    summary = records.read_json_record(cell / schema.SUMMARY_FILE)
    assert config["framework"] == "jax" and env["device"] == "jax:cpu:0"
    assert env["framework"] == "jax" and env["framework_version"] == env["jax"]
    assert "tensorflow" not in env
    assert env["machine"]["fingerprint"]
    assert summary["status"] == "ok" and summary["steps"] == 12
    assert summary["images_per_sec"]["median"] > 0 and summary["compile_seconds"] > 0
    assert "final_eval" not in summary  # nothing pending, nothing failed
    final = summary["final"]
    assert final["n"] == 256 and final["step"] == 12
    assert final["evaluated_with"]["metrics"] == "numpy"
    assert final["evaluated_with"]["instrument"].startswith("jax ")
    assert final["outcome"] in ("digits", "mode_collapse", "not_converged")
    assert [e["step"] for e in records.read_jsonl(cell / schema.EVALS_FILE)] == [10]
    steps = records.read_jsonl(cell / schema.STEPS_FILE)
    assert [s["step"] for s in steps] == [5, 10, 12]
    # the same generator evaluated where TensorFlow runs the instrument and TF-GAN the metrics
    out = tmp_path / "tf-eval.json"
    done = subprocess.run([sys.executable, "-m", "bench", "eval", str(cell), "--n", "256",
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "KERAS_BACKEND": "tensorflow"})
    assert done.returncode == 0, done.stderr[-3000:]
    reference = records.read_json_record(out)
    assert reference["evaluated_with"]["metrics"] == "tf-gan"
    for key in ("fid", "kid", "kid_std", "classifier_score", "precision", "recall", "density",
                "coverage", "confident_fraction", "kl_to_uniform"):
        assert final[key] == pytest.approx(reference[key], rel=1e-4, abs=1e-9), key
    for key in ("classes_covered", "class_histogram", "outcome", "rank_deficient"):
        assert final[key] == reference[key], key
    from bench.analysis.results import load_results

    row = load_results([cell]).iloc[0]
    assert row["framework"] == "jax" and row["final_fid"] == final["fid"]


def test_a_failed_evaluation_keeps_the_training_record(tmp_path):
    """An evaluation that fails (here: its samples are NaN, an injected fault) is recorded as
    failed with its reason; the training's record, windows and generator stay, the cell ok, and
    `eval --complete` fills the final evaluation in from the saved generator."""
    cell = tmp_path / "cell"
    proc = subprocess.run([sys.executable, "-c", BLOCKED, "train", "--framework", "jax",
                           "--steps", "6", "--log-every", "3", "--batch-size", "16",
                           "--final-eval-n", "128", "--out", str(cell)],
                          cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "DCGAN_BENCH_FAULT": "eval-nan@6"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = records.read_json_record(cell / schema.SUMMARY_FILE)
    assert summary["status"] == "ok" and summary["steps"] == 6 and summary["final"] is None
    assert summary["final_eval"].startswith("failed: the final evaluation at step 6 (n = 128): "
                                            "BenchError"), summary["final_eval"]
    assert "NaN or Inf" in summary["final_eval"]
    assert "BenchError" in (cell / "eval-traceback.txt").read_text()
    assert (cell / schema.GENERATOR_FILE).is_file() and summary["images_per_sec"]["median"] > 0
    assert [s["step"] for s in records.read_jsonl(cell / schema.STEPS_FILE)] == [3, 6]
    # (KERAS_BACKEND left unset: this machine's install, TensorFlow blocked, picks JAX)
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    done = subprocess.run([sys.executable, "-c", BLOCKED, "eval", str(cell), "--complete"],
                          cwd=ROOT, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = records.read_json_record(cell / schema.SUMMARY_FILE)
    assert summary["final"]["n"] == 128 and summary["final_eval"].startswith("completed")


PACKED_SPEC = """
name = "packed"
data = "mnist-5k"
[budget]
steps = 20
log_every = 1
warmup_windows = 0
seeds_per_process = {k}
{packing}
[eval]
final_n = {final_n}
{every}
[[parts]]
name = "p"
[parts.axes]
seeds = {seeds}
batch_sizes = [16]
devices = ["cpu"]
xla = [true]
precision = ["float32"]
frameworks = ["jax"]
"""


def _grid_losses(tmp_path, name, k, seeds, packing="loop", block_tensorflow=False,
                 eval_every=0) -> dict:
    env = dict(os.environ)
    if block_tensorflow:
        site = tmp_path / "blocked-site"
        site.mkdir()
        (site / "sitecustomize.py").write_text(BLOCK_EVERYWHERE)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    spec = tmp_path / f"{name}.toml"
    # blocked: a final evaluation asked for, run in the cell's process without TensorFlow
    spec.write_text(PACKED_SPEC.format(k=k, seeds=seeds, final_n=128 if block_tensorflow else 0,
                                       packing=f'packing = "{packing}"' if k > 1 else "",
                                       every=f"every = {eval_every}\nn = 128" if eval_every
                                       else ""))
    out = tmp_path / name
    proc = subprocess.run([sys.executable, "-m", "bench", "grid", str(spec), "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    from bench import rundirs

    losses = {}
    for cell_dir in sorted(p for p in out.iterdir() if (p / schema.SUMMARY_FILE).is_file()):
        config = records.read_json_record(cell_dir / schema.CONFIG_FILE)
        summary = rundirs.read_summary(cell_dir)
        assert summary["status"] == "ok" and summary["steps"] == 20
        if block_tensorflow:  # the block held in the cell process too, and evaluated there
            assert summary["final"]["n"] == 128 and "final_eval" not in summary
            assert summary["final"]["evaluated_with"]["metrics"] == "numpy"
        steps = records.read_jsonl(cell_dir / schema.STEPS_FILE)
        # one line a step, the first step's losses in the first line's means (its compile is
        # timed apart: bench.cell.timing)
        assert [s["step"] for s in steps] == list(range(2, 21))
        losses[config["seed"]] = (np.array([[s["gen_loss"], s["disc_loss"]] for s in steps]),
                                  summary, records.read_jsonl(cell_dir / schema.EVALS_FILE)
                                  if eval_every else [])
    return losses


def test_seeds_packed_in_one_program_train_as_they_would_alone(tmp_path):
    """K = 4 seeds in one process, and seed 2 alone: each packed seed's 20 per-step
    losses are those it has alone (its own initial weights, noise and batch order), and its
    record says it was packed and that its images/s is over time the seeds shared. Seeds 2 and 3
    packed by jax.vmap (the packing a GPU may prefer) train as they do in the loop, and so do
    seeds 2 and 3 packed "auto" (each packing timed first, the faster kept)."""
    # the packed grid with TensorFlow unimportable in every process, as on a JAX-only GPU machine
    from concurrent.futures import ThreadPoolExecutor

    # losses and records are compared, not speeds: two grids at a time
    with ThreadPoolExecutor(2) as pool:
        packed, alone, vmapped, auto = (f.result() for f in [
            pool.submit(_grid_losses, tmp_path, "packed", 4, [0, 1, 2, 3], block_tensorflow=True,
                        eval_every=5),
            pool.submit(_grid_losses, tmp_path, "alone", 1, [2], eval_every=5),
            pool.submit(_grid_losses, tmp_path, "vmapped", 2, [2, 3], packing="vmap"),
            pool.submit(_grid_losses, tmp_path, "auto", 2, [2, 3], packing="auto")])
    assert sorted(packed) == [0, 1, 2, 3]
    # the same float32 arithmetic, compiled into another program: rounding apart only
    np.testing.assert_allclose(packed[2][0], alone[2][0], rtol=1e-4, atol=1e-5)
    assert "packed" not in alone[2][1]
    # periodic evaluations of a packed seed: each seed's own generator as trained so far, equal
    # to the same seed's evaluations alone (the program writes seed k's state into seed k's
    # variables first); after them the seeds trained on as before (the losses above)
    for seed, (_, _, evals) in packed.items():
        assert [e["step"] for e in evals] == [5, 10, 15], seed
    assert [e["step"] for e in alone[2][2]] == [5, 10, 15]
    for mine, theirs in zip(packed[2][2], alone[2][2]):
        for key in ("fid", "kid", "classifier_score", "confident_fraction", "kl_to_uniform"):
            assert mine[key] == pytest.approx(theirs[key], rel=1e-3, abs=1e-6), key
        # the same samples classified: a digit on a class boundary may round to its neighbour
        moved = np.abs(np.subtract(mine["class_histogram"], theirs["class_histogram"])).sum()
        assert moved <= 2
    # four seeds, four generators: not seed 0's samples evaluated four times
    assert len({round(evals[-1]["fid"], 3) for _, _, evals in packed.values()}) == 4
    # four seeds, four different trajectories (not one seed's copied four times)
    firsts = {round(float(losses[0, 0]), 6) for losses, _, _ in packed.values()}
    assert len(firsts) == 4
    for seed in (2, 3):
        # vmap makes each convolution a grouped one, summed in another order: rounding apart
        # (1e-4 of a loss measured after 20 steps; 20 steps of a GAN amplify rounding)
        np.testing.assert_allclose(vmapped[seed][0], packed[seed][0], rtol=1e-3, atol=1e-4)
        assert vmapped[seed][1]["packed"]["packing"] == "vmap"
        assert vmapped[seed][1]["packed"]["packing_trial"] is None  # named, not measured
        # "auto" timed both packings first, on copies of the seeds' states: the seeds then
        # trained from their initial weights (several trial steps would move these losses far
        # more than rounding), packed the way that measured fastest, and the record says so
        np.testing.assert_allclose(auto[seed][0], packed[seed][0], rtol=1e-3, atol=1e-4)
        summary = auto[seed][1]
        trial = summary["packed"]["packing_trial"]
        assert sorted(trial["step_seconds"]) == ["loop", "vmap"]
        assert all(0 < t < trial["seconds"] for t in trial["step_seconds"].values())
        assert trial["chosen"] == min(trial["step_seconds"], key=trial["step_seconds"].get)
        assert summary["packed"]["packing"] == trial["chosen"]
        assert summary["phase_seconds"]["packing_trial"] >= trial["seconds"]
    for _, summary, _ in packed.values():
        assert summary["packed"]["packing"] == "loop"
        assert summary["packed"]["seeds_per_process"] == 4
        assert len(summary["packed"]["cells"]) == 4
        shared = summary["packed_images_per_sec_process"]
        assert shared == pytest.approx(4 * summary["images_per_sec"]["overall"])
        assert any("shared" in w for w in summary["warnings"])


TRACES = """
import json
import numpy as np
from bench.imports import start_framework
start_framework("jax")
from bench.cell.runtime import make_runtime
from bench.config import CellConfig
counts = {}
for xla in (True, False):
    cfg = CellConfig(framework="jax", batch_size=8, xla=xla)
    runtime = make_runtime(cfg.framework)
    device = runtime.device(cfg)
    step = runtime.build(cfg, device).step
    program = runtime.program([step], cfg, device)
    counts[str(xla)] = [program.tracing_count]
    for n in (8, 8, 4):  # the same shape twice, then another: JAX compiles again, silently
        np.asarray(program([np.zeros((n, 28, 28, 1), np.float32)])[0])
        counts[str(xla)].append(program.tracing_count)
print(json.dumps(counts))
"""


def test_a_jax_step_counts_its_traces_so_a_retrace_is_seen():
    """jax.jit retraces silently on a new shape; the step counts its traces where they happen,
    so the loop's retrace warning can fire under JAX. Op by op nothing is traced: None."""
    proc = subprocess.run([sys.executable, "-c", TRACES], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "KERAS_BACKEND": "jax"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    import json

    counts = json.loads(proc.stdout.strip().splitlines()[-1])
    assert counts == {"True": [0, 1, 1, 2], "False": [None, None, None, None]}
