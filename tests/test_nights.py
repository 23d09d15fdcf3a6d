"""Change points across nights, and the nightly policy on simulated nights (tests/nights_sim.py).

The detector is a one-sided lower CUSUM on log throughput in units of the night noise
(bench.analysis.changepoints): S = min(0, S + z + 1), an alarm at S <= -3.
"""

import math

import numpy as np
import pytest
from nights_sim import Noise, false_alarms_per_year, simulate

from bench.analysis import changepoints, throughput


def cusum_lower(z: np.ndarray, k: float = changepoints.K) -> np.ndarray:
    """Reference: the textbook one-sided lower CUSUM, S_t = min(0, S_{t-1} + z_t + k), S_{-1} = 0
    (find_shifts runs the same recursion inline, with its reference level estimated as it goes)."""
    s, out = 0.0, []
    for value in z:
        s = min(0.0, s + value + k)
        out.append(s)
    return np.array(out)


def siegmund_arl(k: float, h: float, shift: float = 0.0) -> float:
    """Reference: Siegmund's approximation of a one-sided CUSUM's average run length (nights to an
    alarm) for a mean shift of `shift` noise units (0: the nights between false alarms)."""
    delta = shift - k
    b = h + 1.166
    if abs(delta) < 1e-9:
        return b * b
    return (math.exp(-2 * delta * b) + 2 * delta * b - 1) / (2 * delta * delta)


def test_the_reference_cusum_worked_by_hand():
    z = np.array([0.5, -1.5, -2.0, -2.5, 0.0])
    # S: min(0, 0.5 + 1) = 0; -0.5; -0.5 - 2 + 1 = -1.5; -1.5 - 2.5 + 1 = -3.0; -3 + 0 + 1 = -2
    assert cusum_lower(z).tolist() == [0.0, -0.5, -1.5, -3.0, -2.0]


@pytest.mark.parametrize("after, found", [
    # a 5% then 7.5% drop: z = -2.56, -3.90; S = -1.56, then -4.46 <= -3 on night 11
    ([380.0, 370.0, 400.0, 400.0], 11),
    # a slide of 1% a night: z = -0.50, -1.01, -1.52, -2.04, -2.56; S crosses -3 on night 14
    ([396.0, 392.0, 388.0, 384.0, 380.0, 376.0], 14),
])
def test_the_alarm_is_the_textbook_cusums(after, found):
    """Ten nights at 400 keep the median of the earlier nights at 400 throughout, so the
    detector's z is log(x / 400) / noise from night MIN_REFERENCE on, and its alarm is the first
    night the textbook recursion reaches -H."""
    values = [400.0] * 10 + after
    z = np.log(np.array(values) / 400.0) / 0.02
    start = changepoints.MIN_REFERENCE
    reference = cusum_lower(z[start:])
    first = start + int(np.argmax(reference <= -changepoints.H))
    assert first == found and reference.min() <= -changepoints.H
    (shift,) = changepoints.find_shifts(values, noise=0.02)
    assert shift.found == first


def test_a_flat_series_has_no_change_point():
    rng = np.random.default_rng(1)
    values = 400 * np.exp(rng.normal(0, 0.02, 200))
    assert changepoints.find_shifts(values, noise=0.02) == []


@pytest.mark.parametrize("seed", [0, 2, 3, 4, 5])
def test_a_10_percent_step_is_found_at_the_step_not_after(seed):
    """Night noise 3%: a 10% step is 3.5 noise units, so the first night after it already
    moves S by 2.5 units, and a second night crosses -3. (Seed 1 dates it a night early, and
    rightly: its night 24 fell 2.9 noise units below the reference by chance, and the likelihood
    cannot tell that night from the step.)"""
    rng = np.random.default_rng(seed)
    values = 400 * np.exp(rng.normal(0, 0.03, 40))
    values[25:] *= 0.9
    (shift,) = changepoints.find_shifts(values, noise=0.03)
    assert shift.began == 25
    assert 25 <= shift.found <= 27  # within two nights
    assert shift.ratio == pytest.approx(0.9, abs=0.03) and shift.recovered is None


def test_a_step_that_is_undone_recovers():
    # night 10 is 10% down: z = log(0.9) / 0.02 = -5.27, S = -4.27 at once; back on night 13
    values = [400.0] * 10 + [360.0] * 3 + [400.0] * 5
    (shift,) = changepoints.find_shifts(values, noise=0.02)
    assert (shift.began, shift.found, shift.recovered) == (10, 10, 13)
    assert shift.ratio == pytest.approx(0.9)


def test_the_detectors_constants_give_siegmunds_run_lengths():
    """What changepoints' docstring says of its K and H: about 2,000 nights between false alarms
    of the textbook CUSUM; a 3.5-noise step (10% at 3% noise) found in about one night."""
    assert siegmund_arl(1.0, 3.0) == pytest.approx(
        (math.exp(2 * 4.166) - 2 * 4.166 - 1) / 2, rel=1e-9)
    assert siegmund_arl(changepoints.K, changepoints.H) > 2000
    assert siegmund_arl(changepoints.K, changepoints.H, shift=3.5) < 2


@pytest.mark.slow
def test_the_nightly_policy_on_simulated_a_a_nights(monkeypatch):
    """AR(1) windows (rho 0.8), 3% night noise, 3 seeds of 29 windows: a year of A/A nights
    raises fewer false alarms than the rate the README states, and a 10% step is found on the
    night it happens, dated there, reported once."""
    monkeypatch.setattr(throughput, "NIGHT_NOISE", 0.045)  # a ratio of two such nights
    verdicts = simulate(365, Noise(night_noise=0.03, rho=0.8), seed=7)
    assert false_alarms_per_year(verdicts) <= 2
    step = simulate(40, Noise(night_noise=0.03, rho=0.8), seed=3, step_at=25, step=0.9)
    found = [v for v in step if v["verdict"] == "regression"]
    assert found and found[0]["night"] in (25, 26, 27)
    assert found[0]["since"] == ["sim/night00025"]
    after = [v["verdict"] for v in step[found[0]["night"] + 1:]]
    assert set(after) <= {"open"}  # carried, not raised again


def test_a_night_judged_slow_is_left_out_of_the_noise():
    from bench.analysis.nights import good_nights, night_noise

    earlier = [("n0", {"c": 100.0}, set()), ("n1", {"c": 103.0}, set()),
               ("s1", {"c": 85.0}, {"c"}), ("n2", {"c": 101.0}, set())]
    assert good_nights(earlier, "c") == [100.0, 103.0, 101.0]
    # worked by hand: log ratios 0.02956 and -0.01961, median -0.00503 (its own), deviations
    # 0.02459 each: 0.02459 x 1.4826 = 0.03645, pooled with the default as 8 nights
    own = 0.024586 * 1.4826
    expected = math.sqrt((2 * own ** 2 + 8 * throughput.NIGHT_NOISE ** 2) / 10)
    assert night_noise(good_nights(earlier, "c"))[0] == pytest.approx(expected, rel=1e-3)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_slowed_nights_between_normal_ones_are_each_caught(seed, monkeypatch):
    """The real A/A measurement's order, N N S N S N S N (tests/benchmarks/
    nightly_false_alarms.py): each night slowed by 1/1.2 is a regression, each normal night
    after it `ok` (the regression fixed). Before slowed nights were left out of the noise and of
    the reference level, the first one tripled the learned noise and the second and third went
    through as `ok` (30 seeds of 30); a normal night after a slowed one stayed `open` unless it
    came within one noise unit of the reference."""
    monkeypatch.setattr(throughput, "NIGHT_NOISE", 0.025)
    slowed = {2: 1 / 1.2, 4: 1 / 1.2, 6: 1 / 1.2}
    # 1.5% a night and the runs' own noise: a ratio of two nights about the default 2.5%
    verdicts = simulate(8, Noise(night_noise=0.015, rho=0.8), seed=seed, slowed=slowed)
    got = [v["verdict"] for v in verdicts]
    assert [got[i] for i in slowed] == ["regression"] * 3, got
    assert [got[i] for i in (1, 3, 5, 7)] == ["ok"] * 4, got


def _first_night_past_the_margin(values, noise, margin):
    """The first night t on which the detector, run on the nights up to t as the nightly job
    runs it, has an open shift as large as the margin; and that shift."""
    for t in range(len(values)):
        shifts = changepoints.find_shifts(values[:t + 1], noise, margin=margin)
        if shifts and shifts[-1].recovered is None and shifts[-1].ratio <= 1 - 0.10:
            return t, shifts[-1]
    return None, None


def test_successive_small_steps_are_found_from_the_level_of_the_first():
    """A 5% step on night 10, another 7% on night 20: together 11.65%, past the 10% margin.
    Night noise 2%, the nights alternating 0.5% about each level. Restarting from the first
    step's level (it is below the margin), the detector finds the second step within two of
    its nights, its total dated to the first step. Without the restart (the detector as it
    was) the first shift's median over all its nights lags, and the total is not raised in the
    10 nights left (the issue found such steps 0-11 nights late, once not within 30)."""
    wiggle = np.array([1.005, 0.995] * 15)
    values = 400 * wiggle * np.repeat([1.0, 0.95, 0.95 * 0.93], 10)
    night, shift = _first_night_past_the_margin(values, 0.02, margin=0.10)
    assert night in (20, 21) and shift.chain_began == 10
    assert shift.ratio == pytest.approx(0.95 * 0.93, abs=0.01)
    old, _ = _first_night_past_the_margin(values, 0.02, margin=None)
    assert old is None or old >= night + 5


def test_a_slide_is_raised_once_its_total_passes_the_margin():
    """1% down a night from night 10 (the total passes 10% on night 20, 0.99^11 = 0.895), noise
    1% a night: raised within 3 nights of that, at its total; the detector as it was raised it
    on night 29, 19 nights in."""
    values = 400 * np.array([1.0] * 10 + [0.99 ** (i + 1) for i in range(30)])
    values *= np.array([1.002, 0.998] * 20)
    night, shift = _first_night_past_the_margin(values, 0.01, margin=0.10)
    assert 20 <= night <= 23
    assert shift.ratio <= 0.90 and shift.ratio >= 0.99 ** (night - 9) - 0.02
    old, _ = _first_night_past_the_margin(values, 0.01, margin=None)
    assert old >= night + 3
