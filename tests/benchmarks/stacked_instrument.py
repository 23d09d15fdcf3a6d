"""How the shipped classifier reads real, unfiltered stacked digits: its error per channel and the
modes it adds or loses.

    python tests/benchmarks/stacked_instrument.py [--mnist-dir ../shared/data/mnist]

For each pool of real digits (mnist-5k; with --mnist-dir also MNIST's 10,000 test digits, which
the classifier never trained on), every digit as it is, none filtered: sets of 26,000 stacked
samples drawn uniformly from k chosen triples (k = 10, 100, 1,000; tests/stacked_sets.py), read
by the instrument as a trained generator's samples are. Prints per k: modes read (PacGAN's
count), spurious modes (read, not chosen), chosen modes lost, the thresholded count (1 sample in
2,600), per channel the share of digits read wrong, and the reverse KL read against the
construction's own; then the stacked-mnist test split's reading.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stacked_sets import N, constructed_set, read_by_instrument  # noqa: E402

from bench import schema  # noqa: E402
from bench.datasets import load_split, read_idx_split  # noqa: E402
from bench.evaluate import stacked  # noqa: E402
from bench.evaluate.classifier import load_classifier  # noqa: E402


def measure(name: str, pool, instrument):
    by_class = {d: pool.images[pool.labels == d] for d in range(10)}
    print(f"\n## {name}: {len(pool.images):,} digits, unfiltered")
    print("| k | modes read | spurious | lost | modes, 1 in 2,600 | error per channel (%) | KL read "
          "| KL built |")
    print("|---|---|---|---|---|---|---|---|")
    for k in (10, 100, 1000):
        images, triples, true_modes = constructed_set(by_class, k, seed=k)
        logits = read_by_instrument(instrument, images)
        read_modes = stacked.channel_logits_to_modes(logits)
        found = set(np.unique(read_modes))
        truth = np.stack([true_modes // 100, true_modes // 10 % 10, true_modes % 10], axis=1)
        errors = (logits.argmax(axis=2) != truth).mean(axis=0) * 100
        numbers = stacked.channel_logits_to_stacked(logits)
        error = ", ".join(f"{e:.2f}" for e in errors)
        print(f"| {k} | {numbers[schema.MODES]} | {len(found - set(triples))} | "
              f"{len(set(triples) - found)} | {numbers[schema.MODES_THRESHOLDED]} | {error} | "
              f"{numbers[schema.REVERSE_KL]:.4f} | {stacked.modes_to_reverse_kl(true_modes):.4f} |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mnist-dir", default=None)
    args = parser.parse_args(argv)
    instrument = load_classifier("stacked-mnist")
    print(f"instrument {instrument.sha256[:12]}, n = {N:,} stacked samples a set")
    measure("mnist-5k (MNIST training digits)", load_split("mnist-5k"), instrument)
    if args.mnist_dir:
        measure("MNIST test digits (not trained on)", read_idx_split("mnist", "test", args.mnist_dir),
                instrument)
    test = load_split("stacked-mnist", "test", args.mnist_dir)
    numbers = stacked.channel_logits_to_stacked(read_by_instrument(instrument, test.images))
    print(f"\nstacked-mnist test split ({test.source}): {numbers[schema.MODES]} modes, reverse KL "
          f"{numbers[schema.REVERSE_KL]:.4f} (built: {stacked.modes_to_reverse_kl(test.labels):.4f}),"
          f" all channels confident {numbers[schema.ALL_CHANNELS_CONFIDENT]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
