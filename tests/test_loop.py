"""The one training loop (bench.cell.loop): a TensorFlow cell, a JAX cell, seeds packed in one JAX
program and a calibration all train through it, and their records say so: the same windows, the
same timing phases, the same fields, one env.json builder.

Each runs in its own process, as in a grid (Keras picks one backend a process). JAX's first step
compiles for 15-35 s on a 2-core CPU: slow.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("jax", reason="JAX is not installed (the jax extra: pip install -e "
                                  "'.[jax]'; tox -e py installs it)")

from bench import records, rundirs, schema  # noqa: E402
from bench.cell.loop import FixedWindows  # noqa: E402
from bench.config import CellConfig  # noqa: E402
from bench.grid.worker import LAUNCHED_ENV  # noqa: E402

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
SMALL = dict(steps=12, log_every=5, batch_size=16, final_eval_n=0)
PHASES = {"setup", "compile", "train", "periodic_eval", "save", "final_eval", "teardown",
          "unaccounted"}
# Fields only a packed seed's summary has: the group and the program's own rate.
PACKED_ONLY = {"packed", "packed_images_per_sec_process"}


def _worker(*cells):
    """bench.grid.worker on (directory, configuration) pairs: one cell, or a packed group."""
    args = [a for d, cfg in cells for a in (str(d), json.dumps(cfg.to_dict()))]
    proc = subprocess.run([sys.executable, "-m", "bench.grid.worker", *args], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr.startswith("cell process")  # every group says its GPUs first


def _calibration(tmp_path) -> Path:
    out = tmp_path / "calibration" / "grid.json"
    out.parent.mkdir()
    cfg = CellConfig(batch_size=16)
    proc = subprocess.run([sys.executable, "-m", "bench.grid.calibration", "tensorflow", str(out),
                           json.dumps([cfg.to_dict()]), "null"], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, LAUNCHED_ENV: repr(time.time())})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from concurrent.futures import ThreadPoolExecutor

    tmp = tmp_path_factory.mktemp("loop")
    packed = [CellConfig(framework="jax", seed=s, seeds_per_process=2, **SMALL) for s in (0, 1)]
    groups = [[(tmp / "tf", CellConfig(**SMALL))],
              [(tmp / "jax", CellConfig(framework="jax", **SMALL))],
              [(tmp / f"packed{c.seed}", c) for c in packed]]
    # each of PacGAN's models under each framework: a short cell, packed discriminator and all
    models = {}
    for model, m in (("pacgan-dcgan", 2), ("unrolled-dcgan", 1)):
        for framework in ("tensorflow", "jax"):
            kind = f"{model}-{framework}"
            groups.append([(tmp / kind, CellConfig(model=model, packing_m=m, framework=framework,
                                                   data="stacked-mnist", steps=4, log_every=2,
                                                   batch_size=8, final_eval_n=0))])
            models[kind] = tmp / kind
    # records, not timings, are compared here: two processes at a time (most of each is
    # starting a framework and compiling, one core's work)
    with ThreadPoolExecutor(2) as pool:
        calibration = pool.submit(_calibration, tmp)
        for done in [pool.submit(_worker, *group) for group in groups]:
            done.result()
        calibration = calibration.result()
    return {"tf": tmp / "tf", "jax": tmp / "jax", "packed": tmp / "packed1",
            "calibration": calibration.with_name("grid-cells") / "0", "record": calibration,
            **models}


MODEL_KINDS = ("pacgan-dcgan-tensorflow", "pacgan-dcgan-jax", "unrolled-dcgan-tensorflow",
               "unrolled-dcgan-jax")


def test_every_cell_kind_logs_the_same_windows(trained):
    # 12 steps in windows of 5: the compile step apart, windows ending at 5, 10 and 12
    for kind in ("tf", "jax", "packed"):
        lines = rundirs.read_lines(trained[kind], schema.STEPS_FILE)
        assert [line["step"] for line in lines] == [5, 10, 12], kind
        assert [line["timed_steps"] for line in lines] == [4, 5, 2], kind
        assert [line["excluded"] for line in lines] == ["warmup", None, "short_final_window"]
    # every kind's lines hold the same fields
    keys = {kind: {tuple(sorted(line)) for line in rundirs.read_lines(trained[kind],
                                                                         schema.STEPS_FILE)}
            for kind in ("tf", "jax", "packed", "calibration")}
    assert len(set().union(*keys.values())) == 1, keys


def test_every_cell_kind_records_the_same_phases_and_fields(trained):
    summaries = {kind: rundirs.read_summary(trained[kind])
                 for kind in ("tf", "jax", "packed", "calibration")}
    for kind, summary in summaries.items():
        assert summary["status"] == "ok", (kind, summary["reason"])
        # seeds packed with packing = "auto" (the default) time each packing first, in a phase
        # of its own (bench.cell.jax_packed.measured_packing)
        trial = (summary.get("packed") or {}).get("packing_trial")
        assert set(summary["phase_seconds"]) == PHASES | ({"packing_trial"} if trial else set()), \
            kind
        assert bool(trial) == (kind == "packed"), kind
        assert summary["compile_seconds"] > 0 and summary["first_batch_seconds"] >= 0, kind
        assert summary["images_per_sec"]["windows"] >= 1, kind
    fields = {kind: set(s) - PACKED_ONLY for kind, s in summaries.items()}
    assert fields["tf"] == fields["jax"] == fields["packed"], fields
    # the calibration's process start is its record's, once for all its cells
    assert fields["calibration"] == fields["tf"] - {"process_start_seconds"}
    assert PACKED_ONLY <= set(summaries["packed"])
    assert summaries["packed"]["packed"]["seeds_per_process"] == 2
    # one env.json builder: the same fields under either framework, each naming its own
    envs = {kind: rundirs.read_record(trained[kind], schema.ENV_FILE) for kind in ("tf", "jax")}
    versions = {"tensorflow": ("tensorflow", "cuda_build", "cudnn_build", "is_cuda_build"),
                "jax": ("jax", "jaxlib")}  # each framework's own version and build facts
    assert set(envs["tf"]) - set(versions["tensorflow"]) == set(envs["jax"]) - set(versions["jax"])
    assert envs["tf"]["framework"] == "tensorflow" and envs["jax"]["framework"] == "jax"
    assert envs["tf"]["framework_version"] == envs["tf"]["tensorflow"]
    assert envs["jax"]["framework_version"] == envs["jax"]["jax"]
    assert envs["tf"]["machine"]["fingerprint"] == envs["jax"]["machine"]["fingerprint"]


def test_every_model_trains_under_every_framework_with_the_tutorials_record(trained):
    """PacGAN's models, packed or not, under TensorFlow and JAX: the tutorial's summary fields,
    their own networks' parameter counts, FLOPs and images/s counting every image of a pack."""
    tutorial = set(rundirs.read_summary(trained["tf"]))
    for kind in MODEL_KINDS:
        summary = rundirs.read_summary(trained[kind])
        assert summary["status"] == "ok" and summary["steps"] == 4, (kind, summary["reason"])
        assert set(summary) == tutorial, (kind, set(summary) ^ tutorial)
        config = rundirs.read_record(trained[kind], schema.CONFIG_FILE)
        params = summary["trainable_params"]
        if config["model"] == "pacgan-dcgan":  # tests/test_pacgan_models.py has the hand counts
            assert params == {"generator": 4_514_819, "discriminator": 4_800 * 2 + 4_305_601}
            assert config["packing_m"] == 2 and config["g_steps"] == 2
        else:
            assert params == {"generator": 287_875, "discriminator": 585}
            assert config["d_width"] == 0.25 and config["noise_dim"] == 256
        assert summary["flops_per_image"] > summary["flops_per_image_unpadded"] > 0
        # MFU: the analytic FLOPs a second over the peak env.json names (bench.peak); four
        # steps of a small batch are far from any peak
        peak = rundirs.read_record(trained[kind], schema.ENV_FILE)["peak"]
        if peak["flops_per_sec"]:
            assert summary["mfu"] == pytest.approx(
                summary["achieved_flops_per_sec"] / peak["flops_per_sec"])
            assert 0 < summary["mfu"] < 1
        lines = rundirs.read_lines(trained[kind], schema.STEPS_FILE)
        assert lines[-1]["images_seen"] == 4 * 8 * config["packing_m"]
    tutorial_params = rundirs.read_summary(trained["tf"])["trainable_params"]
    assert tutorial_params == {"generator": 2_305_472, "discriminator": 212_865}


def test_the_calibration_is_a_cell_of_the_loop_in_sized_windows(trained):
    lines = rundirs.read_lines(trained["calibration"], schema.STEPS_FILE)
    probe, measured = lines[0], lines[1:]
    assert probe["timed_steps"] == 1 and probe["excluded"] == "warmup"
    assert len({line["timed_steps"] for line in measured}) == 1 and len(measured) >= 3
    record = records.read_json_record(trained["record"])["configs"][0]
    assert record["windows"] == len(measured)
    assert record["steps_per_window"] == measured[0]["timed_steps"]
    assert record["measured_seconds"] == pytest.approx(sum(m["window_seconds"] for m in measured))
    summary = rundirs.read_summary(trained["calibration"])
    assert record["compile_seconds"] == summary["phase_seconds"]["compile"]
    assert record["images_per_sec"] == summary["images_per_sec"]["overall"]


def test_fixed_windows_end_on_multiples_of_log_every_and_at_the_last_step():
    plan, start, ends = FixedWindows(12, 5), 2, []
    while (window := plan.next_window(start, None)) is not None:
        ends.append(window)
        start = window[0] + 1
    assert ends == [(5, False), (10, False), (12, True)]
    assert FixedWindows(3, 1).next_window(2, None) == (2, False)
