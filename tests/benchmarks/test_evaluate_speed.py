"""A final evaluation's cost: 10,000 images through the classifier and every metric, CPU.

The bar (issue 11): generation + classifier + every metric within 15 s on 2 CPU cores, with the
reference statistics cached. Generation is timed with the training loop; this times the rest.
The warm-up round fills the reference cache and traces the classifier, as the first periodic
evaluation of a cell does.

    pytest tests/benchmarks/test_evaluate_speed.py --benchmark-enable
"""

import numpy as np

from bench.evaluate import evaluate_images

N = 10_000
BAR_SECONDS = 15.0


def test_evaluate_10k(benchmark, mnist_5k, tmp_path):
    images = np.concatenate([mnist_5k.images, mnist_5k.images])  # 10,000 digits, offline
    # table.py pairs "bare" and "harness" rounds by these keys; an "evaluate" row pairs with none.
    benchmark.extra_info.update(impl="evaluate", batch_size=500, xla=False, images_per_round=N)
    benchmark.group = "evaluate-10k"
    result = benchmark.pedantic(evaluate_images, args=(images, "mnist-5k"),
                                kwargs={"cache_dir": tmp_path}, rounds=3, warmup_rounds=1,
                                iterations=1)
    assert result["n"] == N
    if not benchmark.disabled:
        assert benchmark.stats.stats.median < BAR_SECONDS
