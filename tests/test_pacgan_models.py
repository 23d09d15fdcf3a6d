"""PacGAN's models (bench.cell.pacgan_models) and the protocol machinery every model shares:
parameter counts worked by hand from PacGAN's code, packs of one kind, the update schedule on
the optimisers' own step counters, and the same step under TensorFlow and JAX.

Hand counts, from fjxmlzn/PacGAN's model.py on carpedm20's ops (a bias on every convolution,
transposed convolution and linear layer; batch norm's scale and offset trainable, its moving
averages not):

Table 2 generator (z of 100, 3 channels): linear 100 x 2,048 + 2,048 = 206,848; BN 2 x 512 =
1,024; 5 x 5 x 256 x 512 + 256 = 3,277,056; BN 512; 5 x 5 x 128 x 256 + 128 = 819,328; BN 256;
5 x 5 x 64 x 128 + 64 = 204,864; BN 128; 5 x 5 x 3 x 64 + 3 = 4,803: 4,514,819.
Table 2 discriminator, m images a pack: 5 x 5 x 3m x 64 + 64; 5 x 5 x 64 x 128 + 128 = 204,928,
BN 256; 5 x 5 x 128 x 256 + 256 = 819,456, BN 512; 5 x 5 x 256 x 512 + 512 = 3,277,312, BN
1,024; linear 2 x 2 x 512 + 1 = 2,049: 4,800 m + 4,305,601 (m = 1: 4,310,401).
Table 3 generator (z of 256): linear 256 x 1,024 + 1,024 = 263,168; BN 128; 3 x 3 x 32 x 64 + 32
= 18,464; BN 64; 3 x 3 x 16 x 32 + 16 = 4,624; BN 32; 3 x 3 x 8 x 16 + 8 = 1,160; BN 16;
3 x 3 x 8 x 3 + 3 = 219: 287,875.
Table 3 discriminator at width w (filters 8w, 16w, 32w): 3 x 3 x 3m x f0 + f0, BN 2 f0;
9 f0 f1 + f1, BN 2 f1; 9 f1 f2 + f2, BN 2 f2; linear 16 f2 + 1. A quarter (2, 4, 8):
54 m + 531 (m = 1: 585); a half (4, 8, 16): 108 m + 1,781 (m = 1: 1,889).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench import protocols
from bench.config import CellConfig

ROOT = Path(__file__).resolve().parent.parent
STEP = ROOT / "tests" / "backend_step.py"

HAND_COUNTS = {  # (model, d_width, m) -> (generator, discriminator)
    ("pacgan-dcgan", None, 1): (4_514_819, 4_310_401),
    ("pacgan-dcgan", None, 2): (4_514_819, 4_800 * 2 + 4_305_601),
    ("pacgan-dcgan", None, 4): (4_514_819, 4_800 * 4 + 4_305_601),
    ("unrolled-dcgan", 0.25, 1): (287_875, 585),
    ("unrolled-dcgan", 0.25, 3): (287_875, 54 * 3 + 531),
    ("unrolled-dcgan", 0.5, 1): (287_875, 1_889),
    ("unrolled-dcgan", 0.5, 2): (287_875, 108 * 2 + 1_781),
}

COUNTS = """
import json, sys
import numpy as np
from bench.config import CellConfig
from bench.cell import models
out = {}
for model, width, m in json.loads(sys.argv[1]):
    g, d = models.networks(CellConfig(model=model, d_width=width, packing_m=m,
                                      data="stacked-mnist"))
    out[f"{model},{width},{m}"] = [int(sum(np.prod(w.shape) for w in n.trainable_weights))
                                   for n in (g, d)]
print(json.dumps(out))
"""


def _counts(backend: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", COUNTS, json.dumps(list(HAND_COUNTS))],
                          cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "KERAS_BACKEND": backend})
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    return {(model, None if width == "None" else float(width), int(m)): tuple(v)
            for key, v in found.items() for model, width, m in [key.split(",")]}


def test_parameter_counts_are_pacgans_under_tensorflow():
    assert _counts("tensorflow") == HAND_COUNTS


@pytest.mark.slow
def test_parameter_counts_are_pacgans_under_jax():
    pytest.importorskip("jax", reason="JAX is not installed (the jax extra)")
    assert _counts("jax") == HAND_COUNTS


def test_a_packed_discriminator_sees_m_samples_of_one_kind():
    """Pack b of the real input holds images b m .. b m + m - 1 on its channels, in order; a
    generated pack holds sample b of each of m generator calls; none mixes the two."""
    from bench.cell.packing import StepPlan, generated_input, real_input

    m, batch, c = 3, 4, 3
    plan = StepPlan(batch_size=batch, packing_m=m)
    # real image i is filled with i + 1 (positive); a generated sample with -(call + 1)
    images = np.broadcast_to(np.arange(1, batch * m + 1, dtype="float32")[:, None, None, None],
                             (batch * m, 28, 28, c))
    real = np.asarray(real_input(images, plan))
    assert real.shape == (batch, 28, 28, m * c)
    for b in range(batch):
        for j in range(m):
            assert (real[b, :, :, j * c:(j + 1) * c] == b * m + j + 1).all()
    calls = []

    def generator(z, training):
        calls.append(training)
        return np.full((batch, 28, 28, c), -float(len(calls)), dtype="float32")

    fake = np.asarray(generated_input(generator, np.zeros(plan.noise_shape, "float32"), plan))
    assert calls == [True] * m  # one call a noise batch, in training mode
    assert fake.shape == real.shape and (fake < 0).all() and (real > 0).all()
    for j in range(m):
        assert (fake[..., j * c:(j + 1) * c] == -(j + 1)).all()


def test_the_schedule_takes_its_generator_steps_on_the_optimisers_counters():
    """Three steps of each schedule: the discriminator's Adam counts 3, the generator's 3 x
    g_steps (alternating) or 3 (simultaneous)."""
    from bench.cell.runtime import make_runtime

    counted = {}
    for schedule, g_steps in (("alternating", 3), ("alternating", 1), ("simultaneous", 1)):
        cfg = CellConfig(model="unrolled-dcgan", data="stacked-mnist", batch_size=8,
                         packing_m=2, schedule=schedule, g_steps=g_steps)
        runtime = make_runtime(cfg.framework)
        built = runtime.build(cfg, runtime.device(cfg))
        images = np.random.default_rng(0).uniform(-1, 1, (16, 28, 28, 3)).astype("float32")
        for _ in range(3):
            row = np.asarray(built.step(images))
        assert row.shape == (4,) and np.isfinite(row).all()
        step = built.step
        counted[(schedule, g_steps)] = (int(step.gen_opt.iterations.numpy()),
                                        int(step.disc_opt.iterations.numpy()))
    assert counted == {("alternating", 3): (9, 3), ("alternating", 1): (3, 3),
                       ("simultaneous", 1): (3, 3)}


def _backend_step(backend, inputs, outputs, model, m):
    proc = subprocess.run([sys.executable, str(STEP), backend, "float32", str(inputs),
                           str(outputs), model, str(m)], cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return np.load(outputs)


# A bias just before batch norm gets a gradient that is zero up to rounding (the norm takes the
# mean out): Adam's first step turns that rounding into a step of any size either way, so those
# biases are left out of the comparison (PacGAN's convolutions all have one, carpedm20's).
@pytest.mark.slow
@pytest.mark.parametrize("model, m", [("pacgan-dcgan", 2), ("unrolled-dcgan", 3)])
def test_one_jax_step_of_a_pacgan_model_is_one_tensorflow_step(tmp_path, model, m):
    pytest.importorskip("jax", reason="JAX is not installed (the jax extra)")
    inputs = tmp_path / "inputs.npz"
    tf_out = _backend_step("tensorflow", inputs, tmp_path / "tf.npz", model, m)
    jax_out = _backend_step("jax", inputs, tmp_path / "jax.npz", model, m)
    given = np.load(inputs)
    np.testing.assert_allclose(jax_out["outputs"], tf_out["outputs"], rtol=1e-5)
    g_steps = protocols.protocol(model).g_steps
    for out in (tf_out, jax_out):  # the schedule, on each framework's own counters
        assert (int(out["g_steps"]), int(out["d_steps"])) == (g_steps, 1)
    lr = max(protocols.protocol(model).learning_rate, protocols.protocol(model).d_learning_rate
             or 0)
    skipped = _biases_before_batch_norm(model, m)
    assert len(skipped) >= 6  # every convolution's but the discriminator's first (no BN after)
    compared = 0
    for key in (k for k in tf_out.files if k[0] in "gd" and k[1:].isdigit()):
        if key in skipped:
            continue
        assert np.abs(tf_out[key].astype("float64") - given[key]).max() > 0, key  # it moved
        apart = np.abs(jax_out[key].astype("float64") - tf_out[key])
        assert (apart > lr / 2).mean() <= 0.01, key  # a gradient near zero may flip its sign
        compared += 1
    assert compared >= 20


def _biases_before_batch_norm(model, m) -> set:
    """The saved weights' keys (g<i>, d<i>, as tests/backend_step.py names them) of each bias
    whose layer feeds a batch norm."""
    import keras

    from bench.cell import models

    cfg = CellConfig(model=model, data="stacked-mnist", packing_m=m, batch_size=8)
    found = set()
    for prefix, network in zip("gd", models.networks(cfg)):
        index, layers = 0, network.layers
        for layer, after in zip(layers, [*layers[1:], None]):
            for weight in layer.weights:
                if weight is getattr(layer, "bias", None) and \
                        isinstance(after, keras.layers.BatchNormalization):
                    found.add(f"{prefix}{index}")
                index += 1
    return found
