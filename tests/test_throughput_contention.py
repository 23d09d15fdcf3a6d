"""Throughput verdicts that know the machine was shared (bench.analysis.throughput's contention
rule, the nights' `contended` state, the baseline policy): simulated nights (tests/nights_sim.py)
whose windows carry the contention a cell measures, each case worked out by hand."""

import numpy as np
from nights_sim import Noise, night_run

from bench import schema
from bench.analysis import compare, nights, throughput
from bench.analysis.verdicts import _night_verdict
from bench.contention_rule import CONTENDED_SHARE

QUIET, BUSY = 0.01, 0.5


def _runs(slowdown=1.0, seed=0):
    rng = np.random.default_rng(seed)
    return night_run(rng, 0, Noise()), night_run(rng, 1, Noise(), slowdown)


def _contend(run, shares, slow=1.0):
    """Each cell's windows given the contention `shares` (one a window, cycled); a window above
    the bound made `slow` times as fast, as a busy machine does."""
    for cell, windows in run.windows.items():
        run.windows[cell] = [(step, ips * (slow if share > CONTENDED_SHARE else 1.0), share)
                             for (step, ips, _), share in
                             zip(windows, (shares[i % len(shares)] for i in range(len(windows))))]


def _verdict(a, b):
    (test,) = compare.compare_runs(a, b)["throughput"]
    return test


def test_quiet_nights_judge_as_they_always_did():
    """Contention measured and quiet on both sides: a 30% slowdown is a regression, with no note
    about contention; the same nights unslowed are no change."""
    a, b = _runs(slowdown=0.7)
    _contend(a, [QUIET])
    _contend(b, [QUIET])
    test = _verdict(a, b)
    assert test["verdict"] == schema.VERDICT_REGRESSION and test["why"] is None
    assert test["contention"]["candidate"]["contended"] == 0
    a, b = _runs()
    _contend(a, [QUIET])
    _contend(b, [QUIET])
    assert _verdict(a, b)["verdict"] == schema.VERDICT_NO_CHANGE


def test_a_candidate_slowed_by_other_processes_is_inconclusive_not_a_regression():
    """Every candidate window contended and 0.6 times as fast: the code is not slower, the
    machine was busy. The verdict says so with the figures, and compare's overall verdict is
    inconclusive (exit 0), not ok and not a regression."""
    a, b = _runs()
    _contend(a, [QUIET])
    _contend(b, [BUSY], slow=0.6)
    result = compare.compare_runs(a, b)
    (test,) = result["throughput"]
    assert test["verdict"] == schema.VERDICT_INCONCLUSIVE and test["ratio"] is None
    windows = sum(len(w) for w in b.windows.values())
    assert test["contention"]["candidate"]["contended"] == windows
    assert test["contention"]["candidate"]["share_median"] == BUSY
    assert f"{windows} of {windows} windows contended, median 50%" in test["why"]
    assert result["verdict"] == schema.VERDICT_INCONCLUSIVE
    assert result["reasons"] and "inconclusive" in result["reasons"][0]


def test_a_partly_contended_cell_is_judged_on_its_quiet_windows():
    """Two windows in three contended (and slow) on the candidate: the third is the same code on
    a quiet machine, judged as such (no change), and the note says how many were left out. The
    same nights judged on every window would have been far slower."""
    a, b = _runs()
    _contend(a, [QUIET])
    _contend(b, [BUSY, QUIET, BUSY], slow=0.3)
    test = _verdict(a, b)
    assert test["verdict"] == schema.VERDICT_NO_CHANGE
    assert "judged on uncontended windows only" in test["why"]
    per_cell = [sum(share > CONTENDED_SHARE for _, _, share in w) for w in b.windows.values()]
    assert test["contention"]["candidate"]["contended"] == sum(per_cell)
    # what the old rule, every window, says of the same nights
    every = throughput.runs_ratio_ci(throughput.config_cells(a, a.windows),
                                     throughput.config_cells(b, b.windows))[0]
    assert every < 0.9


def test_a_cell_with_too_few_quiet_windows_is_left_out():
    """MIN_CLEAN_WINDOWS: a cell whose quiet windows are fewer is not judged at all."""
    a, b = _runs()
    _contend(a, [QUIET])
    cells = list(b.windows)
    _contend(b, [QUIET])
    first = cells[0]
    b.windows[first] = [(step, ips, QUIET if i < throughput.MIN_CLEAN_WINDOWS - 1 else BUSY)
                        for i, (step, ips, _) in enumerate(b.windows[first])]
    test = _verdict(a, b)
    side = test["contention"]["candidate"]
    assert (side["cells"], side["cells_judged"]) == (len(cells), len(cells) - 1)
    assert test["runs"] == f"{len(cells)} / {len(cells) - 1}"


def test_records_without_contention_are_judged_on_every_window_and_say_so():
    a, b = _runs(slowdown=0.7)  # nights_sim's windows: contention None, as older records
    test = _verdict(a, b)
    assert test["verdict"] == schema.VERDICT_REGRESSION
    assert "contention not measured in the baseline and candidate" in test["why"]


def test_a_contended_night_is_marked_not_judged_and_not_a_baseline():
    """The nightly policy: a configuration contended tonight is `contended` (or stays `open`
    where it was), the night's verdict is inconclusive, and such a night is no baseline."""
    series = [("n1", {"c": 400.0}, set()), ("n2", {"c": 401.0}, set()),
              ("n3", {"c": 240.0}, set())]  # tonight measured a busy machine
    noise = {"c": (0.03, "test")}
    pairwise = {"c": {"verdict": schema.VERDICT_INCONCLUSIVE, "why": "contended: ..."}}
    states = nights.judge_nights(series, {}, pairwise, noise, 0.10)
    assert states["c"]["state"] == schema.NIGHT_CONTENDED  # not `new`, at 0.6 of the level
    carried = nights.judge_nights(series, {"c": {"since": "n1", "found": "n2"}}, pairwise,
                                  noise, 0.10)
    assert carried["c"]["state"] == "open" and carried["c"]["since"] == "n1"  # not `fixed`
    result = {"nights": states, "reasons": [], "candidate": "n3"}
    _night_verdict(result)
    assert result["verdict"] == schema.VERDICT_INCONCLUSIVE
    assert result["reasons"] == ["throughput c: inconclusive, contended: ..."]
    assert schema.VERDICT_INCONCLUSIVE in schema.NOT_A_BASELINE
    assert schema.VERDICT_INCONCLUSIVE not in schema.BAD_VERDICTS  # exit 0, not a failure
