"""Per-step losses of K seeds trained step at a time and by the study program, one process:
`python tests/jax_study_losses.py K PACKING WINDOW WINDOWS OUT.npz` (KERAS_BACKEND=jax is set
here: Keras picks its backend once a process).

Both start from each seed's own initial weights and key (bench.cell.runtime builds them), read
the same batches (numpy_batches and numpy_batch_indices draw one order) and train WINDOW x
WINDOWS steps: the compile step, then windows ending at each multiple of WINDOW, the first one
step short as the loop's first window is (steps 2 to WINDOW). Writes `step` and `study`, each
(K, steps, 4), and the study program's trace count.
"""

import os
import sys
from pathlib import Path

os.environ["KERAS_BACKEND"] = "jax"
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bench.cell.jax_framework import numpy_batch_indices, numpy_batches  # noqa: E402
from bench.cell.jax_packed import PackedSteps  # noqa: E402
from bench.cell.jax_study import StudyProgram  # noqa: E402
from bench.cell.runtime import make_runtime  # noqa: E402
from bench.config import CellConfig  # noqa: E402
from bench.datasets import images_to_unit_range, load_split  # noqa: E402

k, packing, window, windows, out = (int(sys.argv[1]), sys.argv[2], int(sys.argv[3]),
                                    int(sys.argv[4]), sys.argv[5])
cfgs = [CellConfig(framework="jax", model="unrolled-dcgan", d_width=0.25, batch_size=16,
                   seed=seed) for seed in range(k)]
split = load_split(cfgs[0].data, "train", None)
runtime = make_runtime("jax")
device = runtime.device(cfgs[0])
total = window * windows
ends = [window * (w + 1) for w in range(windows)]


def built_steps():
    return [runtime.build(c, device).step for c in cfgs]


with device.placement():
    steps = built_steps()
    program = steps[0] if k == 1 else PackedSteps(steps, True, packing)
    feeds = [numpy_batches(split.images, 16, c.seed) for c in cfgs]
    rows = []
    for _ in range(total):
        batches = [next(f) for f in feeds]
        rows.append(np.asarray(program(batches[0] if k == 1 else batches)).reshape(k, 4))
    step_losses = np.stack(rows, axis=1)

    study = StudyProgram(built_steps(), images_to_unit_range(split.images), window=window,
                         packing=packing)
    feeds = [numpy_batch_indices(len(split.images), 16, c.seed) for c in cfgs]
    parts = [np.asarray(study([next(f) for f in feeds]))[:, None]]
    start = 2
    for end in ends:
        n = end - start + 1
        outputs = study.run_window([[next(f) for f in feeds] for _ in range(n)])
        parts.append(np.asarray(outputs)[:, :n])
        start = end + 1
    study_losses = np.concatenate(parts, axis=1)

np.savez(out, step=step_losses, study=study_losses, traces=study.tracing_count)
