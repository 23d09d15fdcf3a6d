"""The nightly job's A/B (`dcgan-bench nightly --ab REV`): throughput judged by an A/B's
interleaved pairs in place of last night's record, quality and cells still against the last good
night. Simulated nights and rounds (tests/nights_sim.py) through the verdict policy itself; the
real job with real processes is in tests/test_continuous.py."""

import subprocess
from pathlib import Path

import numpy as np
import pytest
from nights_sim import Noise, night_run

from bench import schema
from bench.analysis.paired import paired_verdicts
from bench.analysis.verdicts import Thresholds, judge_night
from bench.errors import BenchError
from bench.jobs.nightly import run_nightly
from bench.report.comparison import comparison_text

ROOT = Path(__file__).resolve().parent.parent


def _ab(slowdown: float, rounds: int = 5, seed: int = 1, busy_rounds: int = 0) -> dict:
    """An A/B's record of simulated rounds, the candidate `slowdown` times as fast; the first
    `busy_rounds` rounds with the candidate's windows contended and the baseline's not (unlike
    sides, left out)."""
    rng = np.random.default_rng(seed)
    pairs = []
    for r in range(rounds):
        base, cand = night_run(rng, 2 * r, Noise()), night_run(rng, 2 * r + 1, Noise(), slowdown)
        share = 0.5 if r < busy_rounds else 0.0
        for run, s in ((base, 0.0), (cand, share)):
            run.windows.update({c: [(step, ips, s) for step, ips, _ in w]
                                for c, w in run.windows.items()})
        pairs.append((base, cand))
    return {"revisions": {"baseline": {"ref": "HEAD~1", "commit": "a" * 40},
                          "candidate": {"ref": "HEAD", "commit": "b" * 40}},
            "out": "runs/continuous/x", "rounds": [{}] * rounds, "margin": 0.1,
            "verdicts": paired_verdicts(pairs, 0.1)}


def _night(candidate_slowdown: float, ab: dict) -> dict:
    rng = np.random.default_rng(0)
    last, tonight = night_run(rng, 0, Noise()), night_run(rng, 1, Noise(), candidate_slowdown)
    return judge_night(last, tonight, [(last.id, {}, set())], {}, Thresholds(), ab=ab)


def test_the_ab_decides_throughput_not_last_nights_record():
    """Tonight's record 0.7 times last night's (a regression judged by the record), but the
    A/B's pairs find no change: the night is ok, and no throughput state is carried."""
    result = _night(0.7, _ab(1.0))
    assert result["verdict"] == schema.VERDICT_OK, result["reasons"]
    assert result["throughput"] == [] and result["nights"] == {}
    (verdict,) = result["ab"]["verdicts"].values()
    assert verdict["verdict"] == schema.VERDICT_NO_CHANGE and "levels" not in verdict


def test_an_ab_slowdown_is_the_nights_regression_with_the_revision_named():
    """The record unchanged, the A/B's candidate 0.7 times as fast in every pair: a regression,
    and the reason names the baseline revision and the pairs."""
    result = _night(1.0, _ab(0.7))
    assert result["verdict"] == schema.VERDICT_REGRESSION
    (reason,) = result["reasons"]
    assert f"of revision {'a' * 10}, A/B over 5 interleaved pairs" in reason
    text = comparison_text(result)
    assert "A/B in one run: baseline revision aaaaaaaaaa against candidate bbbbbbbbbb" in text
    assert "Judged by the A/B below" in text


def test_an_ab_with_too_few_alike_rounds_is_inconclusive_never_a_pass():
    """Three of five rounds with only the candidate contended are left out; two pairs are too
    few: the night is inconclusive (marked, no baseline for the next), not ok."""
    result = _night(1.0, _ab(0.7, busy_rounds=3))
    assert result["verdict"] == schema.VERDICT_INCONCLUSIVE
    assert "A/B inconclusive (2 round(s) with both sides judged, 3 needed" in result["reasons"][0]


def test_ab_refuses_a_checkout_with_uncommitted_harness_changes_before_running(tmp_path):
    """The A/B runs commits; tonight's grid would run the changed tree. Refused before the grid:
    nothing is run, nothing written."""
    repo = tmp_path / "repo"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True)
    (repo / "bench" / "cell" / "faults.py").write_text("# changed\n")
    with pytest.raises(BenchError, match="uncommitted changes to the harness"):
        run_nightly(ROOT / "runs" / "grids" / "nightly-throughput.toml", tmp_path / "h.sqlite",
                    tmp_path / "reports", ab="HEAD", repo=repo)
    assert not (tmp_path / "h.sqlite").exists() and not (tmp_path / "reports").exists()
