"""A/B rounds judged as pairs (bench.analysis.paired): hand-worked intervals, a drift that hits
both sides cancelled, contended rounds left out, and real run records through the same code."""

import math

import numpy as np
import pytest
from nights_sim import Noise, night_run

from bench import schema
from bench.analysis import paired


def test_three_pairs_worked_by_hand():
    # candidate / baseline 0.80, 0.78, 0.82: logs' mean -0.2234, sd 0.02500, t(2) 0.975 = 4.3027,
    # half-width 4.3027 x 0.025 / sqrt(3) = 0.06211: exp(-0.2234 -+ 0.0621)
    verdict = paired.paired_verdict([(100, 80), (100, 78), (100, 82)])
    assert verdict["ratio"] == pytest.approx(0.79983, abs=1e-5)
    assert (verdict["ci_low"], verdict["ci_high"]) == pytest.approx((0.75166, 0.85109), abs=1e-5)
    assert verdict["verdict"] == schema.VERDICT_REGRESSION and verdict["pairs"] == 3


def test_a_drift_that_hits_both_sides_of_each_round_cancels():
    """The machine slows to half its speed from round 4 on, both sides alike: the pairs' ratio
    is the code's, 1.0, where the rounds' levels alone swing by two."""
    speed = [1, 1, 1, 0.5, 0.5, 0.5]
    noise = [1.00, 1.01, 0.99, 1.00, 1.01, 0.99]
    levels = [(400 * s, 400 * s * n) for s, n in zip(speed, noise)]
    verdict = paired.paired_verdict(levels)
    assert verdict["verdict"] == schema.VERDICT_NO_CHANGE
    assert verdict["ratio"] == pytest.approx(1.0, abs=0.01)
    # the same drift against a real 30% slowdown: found
    slowed = paired.paired_verdict([(b, c * 0.7) for b, c in levels])
    assert slowed["verdict"] == schema.VERDICT_REGRESSION
    assert slowed["ratio"] == pytest.approx(0.7, abs=0.01)


def test_rounds_contended_alike_count_and_unlike_ones_are_left_out():
    """A hog through a whole round slows both sides: the pair cancels it. A round where it ran
    beside one side only, or a side without windows, is left out."""
    levels = [(400, 280, 0.0, 0.0), (200, 141, 0.5, 0.52), (400, 140, 0.0, 0.5),
              (390, None, 0.0, 0.0), (410, 290, 0.01, 0.0)]
    verdict = paired.paired_verdict(levels)
    assert (verdict["pairs"], verdict["left_out"]) == (3, 2)
    assert verdict["ratio"] == pytest.approx((0.7 * 0.705 * 290 / 410) ** (1 / 3), rel=1e-9)
    assert verdict["why"].startswith("2 of 5 rounds left out")
    few = paired.paired_verdict([(400, 280), (None, 200), (400, 285)])
    assert few["verdict"] == schema.VERDICT_INCONCLUSIVE and few["ratio"] is None


def test_rounds_of_real_records_pair_by_configuration():
    """Rounds of simulated nights as Runs (their windows, contention measured quiet): the same
    code pairs to about 1, a 30% slower candidate to about 0.7."""
    rng = np.random.default_rng(3)

    def quiet(run):
        run.windows = {c: [(s, ips, 0.01) for s, ips, _ in w] for c, w in run.windows.items()}
        return run

    same = [(quiet(night_run(rng, 2 * r, Noise())), quiet(night_run(rng, 2 * r + 1, Noise())))
            for r in range(5)]
    slow = [(quiet(night_run(rng, 2 * r, Noise())),
             quiet(night_run(rng, 2 * r + 1, Noise(), slowdown=0.7))) for r in range(5)]
    (config,) = paired.paired_verdicts(same)
    assert paired.paired_verdicts(same)[config]["verdict"] == schema.VERDICT_NO_CHANGE
    found = paired.paired_verdicts(slow)[config]
    assert found["verdict"] == schema.VERDICT_REGRESSION
    assert math.isclose(found["ratio"], 0.7, rel_tol=0.08)
