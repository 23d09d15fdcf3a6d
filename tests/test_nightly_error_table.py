"""The published error table describes the nightly job as it runs (issue 45): both of
nightly.toml's throughput configurations judged each night, and the quality part's false
regressions, computed exactly through the quality verdict's own code."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "benchmarks"))

from nightly_error_table import quality_false_alerts  # noqa: E402
from nights_sim import NIGHTLY_PARTS, Noise, night_run, simulate  # noqa: E402

from bench.analysis.nights import night_throughput  # noqa: E402


def test_the_quality_parts_false_regressions_are_the_exact_chance_of_0_of_3_against_3_of_3():
    # with 3 seeds a side only 0 collapsed against 3 (Boschloo p = 1/32) passes 0.05; the
    # FID and score rank tests cannot (3 against 3: p >= 1/10), so Tarone leaves one test
    for rate in (0.1, 0.3, 0.5):
        assert quality_false_alerts(rate) == pytest.approx(365 * (1 - rate) ** 3 * rate ** 3)
    assert quality_false_alerts(0.1) == pytest.approx(0.266, abs=1e-3)
    assert quality_false_alerts(0.5) == pytest.approx(5.703, abs=1e-3)


def test_a_simulated_night_is_both_configurations_the_nightly_job_judges():
    rng = __import__("numpy").random.default_rng(0)
    night = night_run(rng, 0, Noise(parts=NIGHTLY_PARTS))
    assert sorted(night.results["part"].unique()) == ["quality", "throughput"]
    assert {len(w) for c, w in night.windows.items() if c.startswith("quality")} == {79}
    assert len(night_throughput(night.results)) == 2  # two configurations' levels
    (first, *judged) = simulate(4, Noise(parts=NIGHTLY_PARTS), seed=1)
    assert all(len(v["states"]) == 2 for v in judged)


def test_replayed_ab_rounds_keep_neighbours_together_in_abba_order():
    """Three real runs (levels 100, 200, 400 here): each round is two runs that ran one after
    the other, the earlier the baseline in even rounds and the candidate in odd ones, and only
    the candidate carries the step."""
    import numpy as np
    from nights_sim import replayed_round, scaled

    base_run = night_run(np.random.default_rng(0), 0, Noise())
    runs = [scaled(base_run, level / 400.0, i) for i, level in enumerate((100, 200, 400))]
    pair = replayed_round(runs)
    rng = np.random.default_rng(3)
    for index in range(6):
        baseline, candidate = pair(rng, index, Noise(), 0.5)
        b = baseline.results["images_per_sec_median"].median()
        c = candidate.results["images_per_sec_median"].median() / 0.5
        earlier, later = (b, c) if index % 2 == 0 else (c, b)
        assert later == pytest.approx(2 * earlier)  # neighbours: 100 then 200, or 200 then 400


def test_an_ab_of_simulated_rounds_cancels_the_drift_both_sides_share():
    """Night-sized drift (20% a round) shared by both sides of each round: no false alert in
    five A/A nights, and a 30% slowdown found in each of five."""
    from nights_sim import ab_verdicts

    noise = Noise(night_noise=0.2)
    assert "regression" not in ab_verdicts(5, 6, noise, seed=0)
    assert ab_verdicts(5, 6, noise, seed=1, step=0.7) == ["regression"] * 5
