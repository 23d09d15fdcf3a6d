"""One training cell end to end, on mnist-5k, a few dozen steps at a time."""

import dataclasses
import json
import time

import numpy as np
import pytest

from bench import records, schema
from bench.cell.train import run_cell
from bench.cli import main
from bench.config import CellConfig
from bench.errors import BenchError

SMALL = CellConfig(steps=30, log_every=10, final_eval_n=0, batch_size=32)


def _losses(cell):
    return [(r["gen_loss"], r["disc_loss"]) for r in records.read_jsonl(cell / schema.STEPS_FILE)]


@pytest.fixture(scope="module")
def cell(tmp_path_factory):
    out = tmp_path_factory.mktemp("cell") / "c"
    t0 = time.perf_counter()
    summary = run_cell(SMALL, out)
    summary["_test_clock_seconds"] = time.perf_counter() - t0  # an independent clock
    return out, summary


def test_cell_writes_the_run_record(cell):
    out, summary = cell
    for name in (schema.CONFIG_FILE, schema.ENV_FILE, schema.STEPS_FILE, schema.SUMMARY_FILE,
                 schema.SAMPLES_FILE, schema.GENERATOR_FILE):
        assert (out / name).is_file(), name
    assert summary["status"] == "ok" and summary["steps"] == 30
    assert records.read_json_record(out / schema.SUMMARY_FILE)["status"] == "ok"
    assert not list(out.glob(".*tmp*")), "temporary files left behind"


def test_config_records_every_resolved_option(cell):
    out, _ = cell
    config = records.read_json_record(out / schema.CONFIG_FILE)
    for field in dataclasses.fields(CellConfig):
        assert field.name in config, field.name
    assert config["xla"] is False and config["precision"] == "float32"
    assert config["total_steps"] == 30 and config["data_size"] == 5000


def test_steps_log_has_one_line_per_window(cell):
    out, _ = cell
    lines = records.read_jsonl(out / schema.STEPS_FILE)
    assert [l["step"] for l in lines] == [10, 20, 30]
    assert [l["images_seen"] for l in lines] == [320, 640, 960]
    assert [l["warmup"] for l in lines] == [True, False, False]
    assert lines[0]["timed_steps"] == 9  # step 1 is the compile call, timed on its own
    for line in lines:
        assert set(schema.STEP_KEYS) <= set(line)
        assert 0 < line["d_real"] < 1 and 0 < line["d_fake"] < 1


def test_throughput_excludes_compile_and_warmup(cell):
    out, summary = cell
    lines = records.read_jsonl(out / schema.STEPS_FILE)
    ips = summary["images_per_sec"]
    assert ips["windows"] == 2 and ips["windows_excluded"] == {"warmup": 1}
    assert ips["p10"] <= ips["median"] <= ips["p90"]
    # Against the test's own clock: the measured windows' seconds fit inside the wall time the
    # test saw, so no window can claim more images/sec than the whole cell delivered...
    measured = [line for line in lines if not line["excluded"]]
    window_seconds = sum(line["window_seconds"] for line in measured)
    assert window_seconds + summary["compile_seconds"] < summary["_test_clock_seconds"]
    images = sum(line["timed_steps"] for line in measured) * 32
    assert images == 20 * 32  # steps 11..30: a known quantity, not a recomputed one
    assert ips["overall"] >= images / summary["_test_clock_seconds"]
    assert summary["first_batch_seconds"] > 0 and summary["compile_seconds"] > 0


def test_short_final_window_is_logged_but_not_measured(tmp_path):
    # 24 steps, windows of 10: steps 2-10 (warm-up), 11-20, 21-24. The last holds 4 steps, fewer
    # than half a window: it is logged, and left out of the statistics with its reason.
    cfg = dataclasses.replace(SMALL, steps=24)
    summary = run_cell(cfg, tmp_path / "short")
    lines = records.read_jsonl(tmp_path / "short" / schema.STEPS_FILE)
    assert [(l["step"], l["timed_steps"], l["excluded"]) for l in lines] == [
        (10, 9, "warmup"), (20, 10, None), (24, 4, "short_final_window")]
    ips = summary["images_per_sec"]
    assert ips["windows"] == 1
    assert ips["windows_excluded"] == {"warmup": 1, "short_final_window": 1}
    assert ips["median"] == ips["overall"] == pytest.approx(lines[1]["images_per_sec"])


def test_memory_is_split_into_training_and_process(cell):
    _, summary = cell
    assert summary["peak_memory_train_kind"] == summary["peak_memory_process_kind"] == "process_rss"
    assert 100e6 < summary["peak_memory_train_bytes"] <= summary["peak_memory_process_bytes"]


def test_evaluation_memory_never_counts_as_training_memory():
    from bench.cell.devices import MemoryPeaks

    peaks = MemoryPeaks("/CPU:0")
    peaks.training_started()
    small = np.ones(10_000_000 // 8)  # 10 MB while "training"
    peaks.evaluation_starts()
    big = np.ones(400_000_000 // 8)  # 400 MB touched during an "evaluation", then freed
    big[::512] = 2.0
    del big
    peaks.evaluation_ended()
    peaks.training_ended()
    del small
    record = peaks.finish()
    assert record["peak_memory_train_reset"] is True  # Linux: the counter can be reset
    gap = record["peak_memory_process_bytes"] - record["peak_memory_train_bytes"]
    assert gap > 300e6, record


def test_the_loop_never_retraces(cell):
    _, summary = cell
    assert summary["retraces"] == 0 and summary["warnings"] == []


def test_env_names_versions_device_and_commit(cell):
    out, _ = cell
    env = records.read_json_record(out / schema.ENV_FILE)
    import tensorflow as tf

    assert env["tensorflow"] == tf.__version__
    for key in ("python", "numpy", "scipy", "cuda_build", "cudnn_build", "device_model",
                "host_cpu", "harness_version", "harness"):
        assert key in env, key
    assert env["device"] == "/CPU:0"


def test_tensorboard_gets_the_same_scalars(cell):
    import tensorflow as tf

    out, _ = cell
    tags = {}
    for f in (out / schema.TENSORBOARD_DIR).iterdir():
        for event in tf.compat.v1.train.summary_iterator(str(f)):
            for v in event.summary.value:
                tags.setdefault(v.tag, []).append(event.step)
    assert tags["gen_loss"] == [10, 20, 30] and "d_fake" in tags and "images_per_sec" in tags


def test_samples_png_is_an_8x8_grid(cell):
    import tensorflow as tf

    out, _ = cell
    img = tf.io.decode_png((out / schema.SAMPLES_FILE).read_bytes()).numpy()
    assert img.shape == (8 * 30 + 2, 8 * 30 + 2, 1)


@pytest.mark.slow
def test_deterministic_replay_and_seeds_differ(tmp_path):
    cfg = dataclasses.replace(SMALL, deterministic=True, steps=20)
    run_cell(cfg, tmp_path / "a")
    run_cell(cfg, tmp_path / "b")
    run_cell(dataclasses.replace(cfg, seed=1), tmp_path / "c")
    assert _losses(tmp_path / "a") == _losses(tmp_path / "b")
    assert _losses(tmp_path / "a") != _losses(tmp_path / "c")


def test_nan_loss_is_recorded_as_diverged(tmp_path, monkeypatch):
    monkeypatch.setenv("DCGAN_BENCH_FAULT", "nan@17")
    summary = run_cell(SMALL, tmp_path / "d")
    assert summary["status"] == "diverged" and summary["diverged_at_step"] == 17
    on_disk = records.read_json_record(tmp_path / "d" / schema.SUMMARY_FILE)
    assert on_disk["status"] == "diverged" and "step 17" in on_disk["reason"]
    lines = records.read_jsonl(tmp_path / "d" / schema.STEPS_FILE)
    assert lines[-1]["step"] == 20  # the window with the bad step is logged, then the cell stops


def test_exception_is_recorded_as_failed_with_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("DCGAN_BENCH_FAULT", "crash@5")
    summary = run_cell(SMALL, tmp_path / "f")
    assert summary["status"] == "failed" and "InjectedFault" in summary["reason"]
    assert "check_crash" in (tmp_path / "f" / schema.TRACEBACK_FILE).read_text()


def test_absent_gpu_exits_2_and_writes_nothing(tmp_path, capsys):
    import tensorflow as tf

    # On a CPU-only machine "gpu" is absent; on a GPU machine, the index one past the last GPU.
    gpus = len(tf.config.list_physical_devices("GPU"))
    device = f"gpu:{gpus}" if gpus else "gpu"
    out = tmp_path / "cell"
    assert main(["train", "--device", device, "--steps", "2", "--out", str(out)]) == 2
    assert ("sees no GPU" if not gpus else f"sees {gpus} GPU") in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.gpu
def test_gpu_cell_trains_on_the_gpu_and_reads_its_allocator(tmp_path):
    summary = run_cell(dataclasses.replace(SMALL, device="gpu"), tmp_path / "g")
    assert summary["status"] == "ok", summary.get("reason")
    assert records.read_json_record(tmp_path / "g" / schema.ENV_FILE)["device"] == "/GPU:0"
    # schema 2's keys: the allocator's peak while training, the first step's apart
    assert summary[schema.PEAK_MEMORY_TRAIN_KIND] == "gpu_allocator"
    assert summary[schema.PEAK_MEMORY_TRAIN_BYTES] > 0
    assert summary["peak_memory_first_step_bytes"] > 0
    env = records.read_json_record(tmp_path / "g" / schema.ENV_FILE)
    assert env["gpu"]["compute_capability"] and env["tf32"]["setting"] == "default"
    assert env["machine"]["gpu"]["name"] == env["gpu"]["name"]


def test_existing_cell_is_never_overwritten(cell, capsys):
    out, _ = cell
    before = (out / schema.SUMMARY_FILE).read_bytes()
    assert main(["train", "--steps", "2", "--out", str(out)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (out / schema.SUMMARY_FILE).read_bytes() == before


def test_invalid_options_list_every_problem():
    with pytest.raises(BenchError) as e:
        CellConfig(batch_size=0, device="tpu", precision="float8")
    assert all(s in str(e.value) for s in ("batch_size", "device", "precision"))


@pytest.mark.parametrize("precision", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_cells(tmp_path, precision):
    cfg = dataclasses.replace(SMALL, precision=precision, steps=6, log_every=3, batch_size=16)
    summary = run_cell(cfg, tmp_path / precision)
    assert summary["status"] == "ok"
    lines = records.read_jsonl(tmp_path / precision / schema.STEPS_FILE)
    if precision == "mixed_float16":
        assert lines[-1]["gen_loss_scale"] > 0
        assert {"gen_skipped_steps", "disc_skipped_steps"} <= set(summary)
    else:
        assert "gen_loss_scale" not in lines[-1]
    import keras

    assert keras.mixed_precision.global_policy().name == "float32"  # restored after the cell


def test_cli_train_prints_a_json_summary(tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(["train", "--steps", "4", "--log-every", "2", "--batch-size", "16",
                 "--final-eval-n", "0", "--xla", "on", "--out", str(out)])
    assert code == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["status"] == "ok" and printed["steps"] == 4
    assert records.read_json_record(out / schema.CONFIG_FILE)["xla"] is True


def test_a_short_train_reports_the_rate_its_windows_give_and_says_it_is_unsteady(tmp_path,
                                                                              capsys):
    # 12 steps in windows of 10: the warm-up window and a short final one, nothing measured
    code = main(["train", "--steps", "12", "--log-every", "10", "--batch-size", "16",
                 "--final-eval-n", "128", "--out", str(tmp_path / "short")])
    assert code == 0
    out, err = capsys.readouterr()
    printed = json.loads(out.strip().splitlines()[-1])
    ips = printed["images_per_sec"]
    lines = records.read_jsonl(tmp_path / "short" / schema.STEPS_FILE)
    assert [l["excluded"] for l in lines] == ["warmup", "short_final_window"]
    images = sum(l["timed_steps"] for l in lines) * 16
    seconds = sum(l["window_seconds"] for l in lines)
    assert ips["overall"] == pytest.approx(images / seconds)  # from the windows there are
    assert ips["windows"] == 0 and ips["unsteady"] == 2
    assert "not a steady rate" in err
    # the final evaluation's size, said before training starts
    assert err.index("final evaluation of 128 samples") < err.index("not a steady rate")


def test_phases_account_for_the_wall_time(cell):
    _, summary = cell
    phases = summary["phase_seconds"]
    assert {"setup", "compile", "train", "save", "final_eval", "teardown", "periodic_eval"} <= set(phases)
    assert abs(phases["unaccounted"]) < 0.5
    # the compile phase is the input pipeline's first batch, then the first (compiling) step,
    # and little else: no timing tolerance that a busy machine would break
    measured = summary["first_batch_seconds"] + summary["compile_seconds"]
    assert measured <= phases["compile"] < measured + 0.5


def _loss_scaled_pair(policy, weights=None):
    """Models, SGD optimizers (loss-scaled under mixed_float16) and the harness's step, with
    dropout off so that two precisions can be compared update for update."""
    import keras

    from bench.cell import models
    from bench.cell.packing import StepPlan
    from bench.cell.step import TrainStep

    keras.mixed_precision.set_global_policy(policy)
    try:
        keras.utils.set_random_seed(0)
        g, d = models.make_generator(), models.make_discriminator()
        for layer in d.layers:
            if isinstance(layer, keras.layers.Dropout):
                layer.rate = 0.0
        if weights:
            g.set_weights(weights[0])
            d.set_weights(weights[1])
        opts = [keras.optimizers.SGD(0.01), keras.optimizers.SGD(0.01)]
        if policy == "mixed_float16":
            opts = [keras.mixed_precision.LossScaleOptimizer(o) for o in opts]
        step = TrainStep(g, d, *opts, plan=StepPlan(16), xla=False, precision=policy)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    return g, d, step


def _batch(scale=1.0):
    import tensorflow as tf

    rng = np.random.default_rng(0)
    return tf.constant((rng.uniform(-1, 1, (16, 28, 28, 1)) * scale).astype(np.float32))


def test_loss_scale_drops_after_an_overflow_and_each_optimizer_counts_its_skips():
    _, _, step = _loss_scaled_pair("mixed_float16")
    assert step.loss_scales() == {"gen_loss_scale": 32768.0, "disc_loss_scale": 32768.0,
                                  "gen_skipped_steps": 0, "disc_skipped_steps": 0}
    step(_batch())
    assert step.loss_scales()["disc_skipped_steps"] == 0  # ordinary digits-range input
    # Inputs of 3e4 make the discriminator's scaled float16 gradients overflow: its optimizer
    # skips the update and halves its scale; the generator's gradients stay finite.
    step(_batch(3e4))
    assert step.loss_scales() == {"gen_loss_scale": 32768.0, "disc_loss_scale": 16384.0,
                                  "gen_skipped_steps": 0, "disc_skipped_steps": 1}


def test_loss_scaled_update_equals_the_float32_update():
    import keras

    g32, d32, step32 = _loss_scaled_pair("float32")
    before = (g32.get_weights(), d32.get_weights())
    g16, d16, step16 = _loss_scaled_pair("mixed_float16", before)
    for step in (step32, step16):
        keras.utils.set_random_seed(5)  # the same noise in both traced steps
        step(_batch())
    for start, a, b in ((before[0], g32, g16), (before[1], d32, d16)):
        u32 = np.concatenate([(w - w0).ravel() for w0, w in zip(start, a.get_weights())])
        u16 = np.concatenate([(w - w0).ravel() for w0, w in zip(start, b.get_weights())])
        # An unscaled update would be 32,768 times too large; float16 rounding moves it little.
        assert np.linalg.norm(u16) / np.linalg.norm(u32) == pytest.approx(1.0, abs=0.01)
        assert u16 @ u32 / (np.linalg.norm(u16) * np.linalg.norm(u32)) > 0.999


def test_evaluation_interval_must_fall_on_log_windows():
    # Evaluations run between windows: every 250 steps with windows of 100 would evaluate only
    # every 500. Refused before anything runs, naming both numbers.
    with pytest.raises(BenchError, match=r"eval_every: expected a multiple of log_every \(100\), "
                                         r"found 250"):
        CellConfig(steps=1000, log_every=100, eval_every=250)
    CellConfig(steps=1000, log_every=100, eval_every=500)  # a multiple: fine
