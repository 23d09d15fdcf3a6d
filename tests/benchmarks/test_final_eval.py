"""A final evaluation's cost: 10,000 generated samples, the classifier, every metric.

Reference statistics are cached (computed once before the timed rounds), as in a grid where
every cell after the first finds them on disk. The bar: within 15 s on 2 CPU cores.

    tox -e benchmark -- -k final_eval
"""

import pytest

N = 10_000
QUICK_N = 500


@pytest.fixture(scope="module")
def generator():
    import keras

    from bench.cell import models

    keras.utils.set_random_seed(0)
    return models.make_generator()


def test_final_eval_10k(benchmark, generator, tmp_path_factory):
    from bench.cell.generate import generator_to_images
    from bench.evaluate.classifier import load_classifier
    from bench.evaluate.score import evaluate_images

    cache = tmp_path_factory.mktemp("refcache")
    classifier = load_classifier("mnist-5k")
    n = QUICK_N if benchmark.disabled else N
    evaluate_images(generator_to_images(generator, 200), "mnist-5k", classifier=classifier,
                    cache_dir=cache)  # warms the reference cache and every traced function

    def final_evaluation():
        images = generator_to_images(generator, n)
        return evaluate_images(images, "mnist-5k", classifier=classifier, cache_dir=cache)

    benchmark.extra_info.update(n=n)
    result = benchmark.pedantic(final_evaluation, rounds=3, warmup_rounds=0, iterations=1)
    assert result["n"] == n and result["reference_n"] == 5000
