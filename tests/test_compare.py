"""`dcgan-bench compare` on crafted nights (tests/nights.py: the golden grid, its throughput
scaled): verdicts, drift, quality across seeds, numerics, refusals, outputs and exit codes.

Hand-worked numbers: the golden windows of a configuration sit at its median ± 0, 4, 8, 12, 16
(18 windows a side, 2 seeds pooled), so a night at `speed` x has a ratio of medians of exactly
`speed`; five nights of 3% each put night 4 at 0.97^4 = 0.885 of night 0.
"""

import json
import math
import shutil
from fractions import Fraction

import pandas as pd
import pytest
from nights import GOLDEN, craft_night

from bench import schema
from bench.analysis import compare, history, quality, throughput
from bench.analysis.runs import run_dir_to_run
from bench.cli import main
from bench.errors import BenchError

CELL = "cpu_float32_xla-off_bs64_seed0"


def _compare(capsys, *argv):
    code = main(["compare", *map(str, argv)])
    return code, capsys.readouterr()


def test_a_night_against_its_copy_is_no_regression_and_quality_is_inconclusive(tmp_path, capsys):
    a = craft_night(tmp_path / "n", "a", "2026-11-01T02:00:00+00:00")
    b = craft_night(tmp_path / "n", "b", "2026-11-02T02:00:00+00:00")
    code, out = _compare(capsys, a, b, "--out", tmp_path / "cmp")
    assert code == 0
    result = json.loads((tmp_path / "cmp" / "comparison.json").read_text())
    assert result["verdict"] == "ok"
    assert {t["verdict"] for t in result["throughput"]} == {"no change"}
    assert len(result["throughput"]) == 4  # the four ok configurations of the golden grid
    assert {t["runs"] for t in result["throughput"]} == {"2 / 2"}  # the run is the unit
    # two seeds a side: no rank test can reach p < 0.05 (a rank test's smallest p is
    # 2 / C(4, 2) = 1/3), so Tarone's rule tests none and each says what it needs; the collapse
    # test pools the 4 evaluated configurations' seeds (8 a side, 1 collapsed each) and can: it
    # finds no change
    ranks = [t for t in result["quality"] if t["metric"] != "collapse rate"]
    assert {t["verdict"] for t in ranks} == {"inconclusive"}
    fid = next(t for t in result["quality"] if t["metric"] == "FID")
    assert fid["why"] == ("cannot reach p < 0.05 (alpha 0.05 / 1 tests) with 2 and 2 seeds: needs "
                          "4 a side")
    collapse = next(t for t in result["quality"] if t["metric"] == "collapse rate")
    assert collapse["verdict"] == "no change" and collapse["family"] == 1
    assert collapse["config"] == "4 quality configurations, pooled"
    assert collapse["effect"].startswith("1/8 ")
    assert result["numerics"]["expected"] and result["numerics"]["changes"] == []
    # the three cells that are not ok in the golden grid are listed, never dropped
    assert {c["cell"]: c["note"] for c in result["cells_not_compared"]} == {
        "cpu_float32_xla-off_bs64_seed2": "not ok in both",
        "cpu_mixed_bfloat16_xla-off_bs64_seed0": "not ok in both",
        "gpu_float32_xla-on_bs64_seed0": "not ok in both"}
    assert "ok: nothing new is slower or worse" in out.out
    summary = (tmp_path / "cmp" / "summary.md").read_text()
    assert "the larger of 10% and the night noise" in summary and "one family at 0.05" in summary


def test_a_slower_night_is_a_regression_with_exit_1(tmp_path, capsys):
    a = craft_night(tmp_path / "n", "a", "2026-11-01T02:00:00+00:00")
    slow = craft_night(tmp_path / "n", "slow", "2026-11-02T02:00:00+00:00", speed=0.8)
    code, out = _compare(capsys, a, slow, "--out", tmp_path / "cmp")
    assert code == 1
    result = json.loads((tmp_path / "cmp" / "comparison.json").read_text())
    assert result["verdict"] == "regression"
    for test in result["throughput"]:
        assert test["ratio"] == pytest.approx(0.8)
        # the threshold is the 10% margin: the default night noise's bound is below it
        assert test["threshold"] == pytest.approx(0.10)
        assert test["ci_high"] < 0.9 and test["verdict"] == "regression"
        # the windows' rank test is there as a description, not as the verdict
        assert test["windows"] == "18 / 18" and test["windows_p"] < 1e-5
    assert "REGRESSION" in (tmp_path / "cmp" / "summary.md").read_text()
    # an 8% slowdown is inside the 10% margin; with a 5% margin, the night noise's bound decides:
    # 1 - exp(-3.1 x noise)
    slight = craft_night(tmp_path / "n", "slight", "2026-11-03T02:00:00+00:00", speed=0.92)
    assert _compare(capsys, a, slight, "--out", tmp_path / "c2")[0] == 0
    code, out = _compare(capsys, a, slight, "--out", tmp_path / "c3", "--margin", "0.05")
    bar = 1 - math.exp(-throughput.NOISE_Z * throughput.NIGHT_NOISE)
    assert code == (1 if 0.92 < 1 - max(0.05, bar) else 0) and "larger of 5%" in out.out
    # faster is reported as an improvement, and is no failure
    fast = craft_night(tmp_path / "n", "fast", "2026-11-04T02:00:00+00:00", speed=1.25)
    assert _compare(capsys, a, fast, "--out", tmp_path / "c4")[0] == 0
    result = json.loads((tmp_path / "c4" / "comparison.json").read_text())
    assert {t["verdict"] for t in result["throughput"]} == {"improvement"}


def test_a_cell_missing_from_the_candidate_leaves_the_others_matched(tmp_path, capsys):
    """A cell that never started has no config.json: its coordinates are the ones its grid
    planned, and a column with a gap, read as floats (0.0), still pairs with ints (0)."""
    a = craft_night(tmp_path / "n", "a", "2026-11-01T02:00:00+00:00")
    slow = craft_night(tmp_path / "n", "slow", "2026-11-02T02:00:00+00:00", speed=0.8)
    shutil.rmtree(slow / "cpu_float32_xla-off_bs64_seed2")
    code, _ = _compare(capsys, a, slow, "--out", tmp_path / "cmp")
    result = json.loads((tmp_path / "cmp" / "comparison.json").read_text())
    assert code == 1 and result["verdict"] == "regression"
    assert len(result["throughput"]) == 4
    # the missing cell pairs with its baseline (where it diverged), by the coordinates its
    # grid planned for it: once, as missing
    assert [(c["cell"], c["baseline"], c["candidate"]) for c in result["cells_not_compared"]
            if c["cell"].endswith("seed2")] == [("cpu_float32_xla-off_bs64_seed2", "diverged",
                                                 "missing")]


def _nightly(capsys, db, run, tmp_path, name):
    code, _ = _compare(capsys, "last-good", run, "--db", db, "--out", tmp_path / name)
    return code, json.loads((tmp_path / name / "comparison.json").read_text())


def test_a_slide_of_3_percent_a_night_is_found_once_dated_and_carried(tmp_path, capsys,
                                                                     monkeypatch):
    """Each night 3% slower than the one before: never a regression night to night (0.97 is
    inside the margin), but a change point. log 0.97 = -0.0305 a night, and the nights' own
    noise is 0 (every step the same): pooled with the default 2.5% as 8 nights, the night noise
    is 2.5% x sqrt(8 / (8 + d)) with d differences so far, one night's own 1 / sqrt(2) of it.
    Judging night 4 (d = 3): noise 1.51%, night 3 against the median of nights 0-2 (night 1):
    z = -4.04, S = -3.04 <= -3: a shift, dated to night 3. Its size, the median of its nights
    over the reference: night 4, median(0.97^3, 0.97^4) / 0.97 = 0.927; night 5, 0.97^4 / 0.97
    = 0.913; night 6, median(0.97^3..0.97^6) / 0.97 = 0.899, at last beyond the 10% margin:
    reported on night 6, dated to night 3, then carried."""
    monkeypatch.setattr(throughput, "NIGHT_NOISE", 0.025)
    db = tmp_path / "h.sqlite"
    codes, results = [], []
    for night in range(8):
        run = craft_night(tmp_path / "nightly", f"night{night}",
                          f"2026-11-0{night + 1}T02:00:00+00:00", speed=0.97 ** night)
        history.ingest(run, db)
        if night:
            code, result = _nightly(capsys, db, run, tmp_path, f"c{night}")
            codes.append(code)
            results.append(result)
    assert all(t["verdict"] == "no change" for r in results for t in r["throughput"])
    assert [r["verdict"] for r in results] == ["ok"] * 5 + ["regression", "open"]
    assert codes == [0, 0, 0, 0, 0, 1, 0]  # raised once, on the night it reached the margin
    # below the margin the shift is said beside the state, not raised
    for r, size in zip(results[3:5], (0.927, 0.913), strict=True):
        for state in r["nights"].values():
            assert state["below_margin"]["since"] == "nightly/night3"
            assert state["below_margin"]["ratio"] == pytest.approx(size, abs=1e-3)
    found = results[5]["nights"]
    assert {s["state"] for s in found.values()} == {"new"}
    assert {s["since"] for s in found.values()} == {"nightly/night3"}
    assert {s["how"] for s in found.values()} == {"change point"}
    assert {round(s["ratio"], 3) for s in found.values()} == {0.899}
    assert {s["since"] for s in results[6]["nights"].values()} == {"nightly/night3"}
    # a night with a regression is not good: night 7 is compared with night 5, the last good one
    assert results[6]["baseline"] == "nightly/night5"
    # a person accepts night 7 as the new baseline: from it on the nights are held to its level
    assert main(["history", "accept", "nightly/night7", "--db", str(db), "--why",
                 "the new input pipeline is slower, on purpose", "--by", "ci"]) == 0
    capsys.readouterr()
    after = craft_night(tmp_path / "nightly", "night8", "2026-11-09T02:00:00+00:00",
                        speed=0.97 ** 7)
    history.ingest(after, db)
    code, result = _nightly(capsys, db, after, tmp_path, "c8")
    assert code == 0 and result["verdict"] == "ok" and result["baseline"] == "nightly/night7"
    runs = {r["id"]: r for r in history.list_runs(db)}
    assert runs["nightly/night7"]["accepted_by"] == "ci"
    assert "on purpose" in runs["nightly/night7"]["accepted_why"]


def test_a_regression_fixed_the_next_night_is_closed(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(throughput, "NIGHT_NOISE", 0.025)
    db = tmp_path / "h.sqlite"
    speeds = [1.0, 1.0, 0.8, 1.0]  # night 2 is 20% slower: found at once, against night 1
    results = []
    for night, speed in enumerate(speeds):
        run = craft_night(tmp_path / "nightly", f"night{night}",
                          f"2026-11-0{night + 1}T02:00:00+00:00", speed=speed)
        history.ingest(run, db)
        if night:
            results.append(_nightly(capsys, db, run, tmp_path, f"c{night}")[1])
    assert [r["verdict"] for r in results] == ["ok", "regression", "ok"]
    assert {s["state"] for s in results[1]["nights"].values()} == {"new"}
    assert {s["state"] for s in results[2]["nights"].values()} == {"fixed"}


def test_first_night_has_no_baseline(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    run = craft_night(tmp_path / "nightly", "night0", "2026-11-01T02:00:00+00:00")
    history.ingest(run, db)
    code, out = _compare(capsys, "last-good", run, "--db", db, "--out", tmp_path / "c")
    assert code == 0 and "is the first, and the baseline of the next" in out.out


def test_changed_numerics_are_listed_per_cell(tmp_path):
    a = run_dir_to_run(craft_night(tmp_path, "a", "2026-11-01T02:00:00+00:00"))
    b = run_dir_to_run(craft_night(tmp_path, "b", "2026-11-02T02:00:00+00:00",
                                   final={CELL: {"fid": 40.25, "classifier_score": 8.3}}))
    result = compare.compare_runs(a, b)
    assert result["numerics"]["expected"]
    assert sorted((c["cell"], c["metric"], c["baseline"], c["candidate"])
                  for c in result["numerics"]["changes"]) == [
        (CELL, "final_classifier_score", 8.2, 8.3), (CELL, "final_fid", 40.0, 40.25)]
    # another TensorFlow: seeds are not expected to repeat, and nothing is listed
    b.results[schema.FRAMEWORK_VERSION] = "2.99.0"
    result = compare.compare_runs(a, b)
    assert not result["numerics"]["expected"] and "the framework's version or the device " \
        "differs" in result["numerics"]["why"]


def test_a_newly_failing_cell_is_a_regression(tmp_path):
    a = run_dir_to_run(craft_night(tmp_path, "a", "2026-11-01T02:00:00+00:00"))
    b = run_dir_to_run(craft_night(tmp_path, "b", "2026-11-02T02:00:00+00:00"))
    b.results.loc[b.results["cell_id"] == CELL, "status"] = "failed"
    result = compare.compare_runs(a, b)
    assert result["verdict"] == "regression"
    assert result["reasons"] == [f"cell {CELL} newly failing (failed)"]
    # its configuration is still compared, on the seed that is ok in both
    (bs64_off,) = [t for t in result["throughput"] if t["config"] == "cpu · float32 · XLA off · bs 64"]
    assert bs64_off["runs"] == "1 / 1" and bs64_off["windows"] == "9 / 9"


def test_unmatched_cells_are_listed(tmp_path):
    a = craft_night(tmp_path, "a", "2026-11-01T02:00:00+00:00")
    b = craft_night(tmp_path, "b", "2026-11-02T02:00:00+00:00")
    b_run = run_dir_to_run(b)
    b_run.results = b_run.results[b_run.results["cell_id"] != CELL]
    result = compare.compare_runs(run_dir_to_run(a), b_run)
    assert {"cell": CELL, "baseline": "ok", "candidate": "absent", "note": "only in the baseline",
            "reason": None} in result["cells_not_compared"]


def test_runs_that_do_not_compare_are_refused_with_the_reason(tmp_path, capsys):
    a = craft_night(tmp_path, "a", "2026-11-01T02:00:00+00:00")
    other = craft_night(tmp_path, "other", "2026-11-02T02:00:00+00:00")
    manifest = json.loads((other / "manifest.json").read_text())
    manifest["spec"]["name"] = "another grid"
    (other / "manifest.json").write_text(json.dumps(manifest))
    code, out = _compare(capsys, a, other, "--out", tmp_path / "c")
    assert code == 2 and "different grid specs" in out.err
    a_run = run_dir_to_run(a)
    b_run = run_dir_to_run(craft_night(tmp_path, "b", "2026-11-03T02:00:00+00:00"))
    b_run.results.loc[b_run.results["cell_id"] == CELL, "final_n"] = 5000
    with pytest.raises(BenchError, match=f"different final_n: 1 cell.*{CELL}: baseline 1000, "
                                         "candidate 5000"):
        compare.compare_runs(a_run, b_run)
    b_run = run_dir_to_run(tmp_path / "b")
    b_run.results["classifier_sha256"] = b_run.results["classifier_sha256"].map(
        lambda h: "e" * 64 if isinstance(h, str) else h)
    with pytest.raises(BenchError, match="different instruments"):
        compare.compare_runs(a_run, b_run)


def test_bad_input_exits_2(tmp_path, capsys):
    a = craft_night(tmp_path, "a", "2026-11-01T02:00:00+00:00")
    code, out = _compare(capsys, a, a, "--alpha", "1.5")
    assert code == 2 and "--alpha: expected a probability between 0 and 1, found 1.5" in out.err
    code, out = _compare(capsys, "no-such-run", a, "--db", tmp_path / "none.sqlite")
    assert code == 2 and "'no-such-run' is not a run directory" in out.err
    db = tmp_path / "h.sqlite"
    history.ingest(a, db)
    code, out = _compare(capsys, "nightly/nope", a, "--db", db)
    assert code == 2 and "no run 'nightly/nope' in the history" in out.err


def test_quality_verdicts_worked_by_hand():
    # seven seeds a side, fully separated: exact p = 2 / C(14, 7) = 5.83e-4 < 0.05
    worse_fid = quality.metric_test("c", "FID", False, [40 + i for i in range(7)],
                                    [60 + i for i in range(7)])
    assert worse_fid["p_exact"] == Fraction(2, 3432)
    (fid,) = quality.judge_family([worse_fid], 0.05)
    assert fid["verdict"] == "regression" and fid["family"] == 1
    # Boschloo: 0 of 8 collapsed against 8 of 8, and 0 of 3 against 3 of 3 (p = 1/32): both fire
    for n in (8, 3):
        (collapse,) = quality.judge_family([quality.collapse_row("c", (0, n), (n, n))], 0.05)
        assert collapse["verdict"] == "regression", n
    # two seeds a side never can: inconclusive, with the seeds it needs
    (few,) = quality.judge_family([quality.collapse_row("c", (0, 2), (2, 2))], 0.05)
    assert few["verdict"] == "inconclusive" and few["why"].endswith("needs 3 a side")


def test_two_configurations_of_seven_seeds_and_31_percent_worse_fid_is_found():
    """Four rank tests (FID and classifier score, 2 configurations), 7 seeds a side: Holm over
    the old single family at 0.002 could never reach it (4 x 5.83e-4 > 0.002); the quality
    family at 0.05 under Tarone's rule tests all four at 0.0125."""
    base = [100 + i for i in range(7)]
    worse = [131 + i for i in range(7)]  # +31%, fully separated
    tests = [quality.metric_test(f"c{i}", "FID", False, base, worse) for i in (0, 1)]
    tests += [quality.metric_test(f"c{i}", "classifier score", True, base, base) for i in (0, 1)]
    verdicts = quality.judge_family(tests, 0.05)
    assert [v["verdict"] for v in verdicts] == ["regression", "regression", "no change",
                                                "no change"]
    assert verdicts[0]["alpha_each"] == pytest.approx(0.0125)


def test_one_seed_of_seven_windows_18_percent_slower_is_a_regression(tmp_path):
    """One run a side, 7 windows each, one of four configurations 18% slower: the run-level
    ratio is 0.82, beyond the 10% margin, and its windows keep the interval below 1."""
    a = run_dir_to_run(craft_night(tmp_path, "a", "2026-11-01T02:00:00+00:00"))
    b = run_dir_to_run(craft_night(tmp_path, "b", "2026-11-02T02:00:00+00:00"))
    for run in (a, b):
        run.results = run.results[run.results["seed"] != 1]
        run.windows = {c: w[:7] for c, w in run.windows.items()}
    b.windows[CELL] = [(step, ips * 0.82, share) for step, ips, share in b.windows[CELL]]
    result = compare.compare_runs(a, b)
    verdicts = {t["config"]: t["verdict"] for t in result["throughput"]}
    assert verdicts.pop("cpu · float32 · XLA off · bs 64") == "regression"
    assert set(verdicts.values()) == {"no change"} and len(verdicts) == 3


def test_history_gives_back_the_run_compare_reads_from_the_directory(tmp_path):
    db = tmp_path / "h.sqlite"
    history.ingest(GOLDEN, db)
    from_dir, from_db = run_dir_to_run(GOLDEN), history.history_to_run("runs/golden", db)
    assert from_dir.windows == from_db.windows
    assert compare.compare_runs(from_dir, from_db)["verdict"] == "ok"
    assert from_db.info["path"] == str(GOLDEN.resolve())


# The slow class of machine: AVX2 and FMA only, no AVX-512, no bfloat16 instructions.
AVX2_CPUINFO = ("processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 23\nmodel\t\t: 49\n"
                "model name\t: AMD EPYC\nstepping\t: 0\nflags\t\t: fpu sse4_2 avx f16c avx2 fma\n")


def _avx2_machine():
    from bench.machine import cpuinfo_to_cpu, with_fingerprint

    return with_fingerprint({"arch": "x86_64", "cpu": cpuinfo_to_cpu(AVX2_CPUINFO),
                             "usable_cores": 2, "cpu_count": 2, "cgroup_cpu_quota": None,
                             "max_clock_mhz": None, "env": {}})


def test_runs_from_two_machines_are_refused_naming_both_fingerprints(tmp_path, capsys):
    fast = craft_night(tmp_path / "n", "fast", "2026-11-01T02:00:00+00:00")
    slow = craft_night(tmp_path / "n", "slow", "2026-11-02T02:00:00+00:00", speed=1 / 7,
                       machine=_avx2_machine())
    fast_fp = json.loads((fast / CELL / "env.json").read_text())["machine"]["fingerprint"]
    slow_fp = _avx2_machine()["fingerprint"]
    code, out = _compare(capsys, fast, slow, "--out", tmp_path / "cmp")
    assert code == 2 and not (tmp_path / "cmp").exists()
    assert f"baseline {fast_fp} vs candidate {slow_fp}" in out.err
    assert "cpu_family: '25' vs '23'" in out.err and "only the first has" in out.err
    assert "--across-machines" in out.err and "--quality-only" in out.err
    # compared anyway: every output says so first, and a 7x slower machine is a regression
    code, out = _compare(capsys, fast, slow, "--out", tmp_path / "cmp", "--across-machines")
    assert code == 1
    assert out.out.splitlines()[0] == "dcgan-bench compare [across machines]: REGRESSION"
    assert out.out.splitlines()[1].startswith("THROUGHPUT COMPARED ACROSS MACHINES")
    summary = (tmp_path / "cmp" / "summary.md").read_text().splitlines()
    assert summary[0] == r"# dcgan-bench compare \[across machines\]: REGRESSION"
    result = json.loads((tmp_path / "cmp" / "comparison.json").read_text())
    assert list(result)[:2] == ["scope", "scope_note"] and result["scope"] == "across machines"
    assert not result["numerics"]["expected"] and "machines differ" in result["numerics"]["why"]
    # quality alone: no throughput verdict, and quality (the same seeds) is no regression
    code, out = _compare(capsys, fast, slow, "--out", tmp_path / "q", "--quality-only")
    assert code == 0 and out.out.splitlines()[0].startswith("dcgan-bench compare [quality only]")
    result = json.loads((tmp_path / "q" / "comparison.json").read_text())
    assert result["throughput"] == [] and result["quality"]


def test_last_good_is_a_run_of_the_same_machine(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    fast = craft_night(tmp_path / "nightly", "n1", "2026-11-01T02:00:00+00:00")
    other = craft_night(tmp_path / "nightly", "n2", "2026-11-02T02:00:00+00:00",
                        machine=_avx2_machine())
    again = craft_night(tmp_path / "nightly", "n3", "2026-11-03T02:00:00+00:00", speed=0.97)
    for run in (fast, other, again):
        history.ingest(run, db)
    code, out = _compare(capsys, "last-good", other, "--db", db, "--out", tmp_path / "c2")
    assert code == 0 and "is the first, and the baseline of the next" in out.out
    assert _avx2_machine()["fingerprint"] in out.out
    code, out = _compare(capsys, "last-good", again, "--db", db, "--out", tmp_path / "c3")
    result = json.loads((tmp_path / "c3" / "comparison.json").read_text())
    assert code == 0 and result["baseline"] == "nightly/n1"  # n2 ran on the other machine
    runs = {r["id"]: r for r in history.list_runs(db)}
    assert runs["nightly/n2"]["verdict"] is None and runs["nightly/n3"]["verdict"] == "ok"
    # the trend page draws each machine apart: no line joins a fast night to a slow one
    from bench.report.trend import render_trend

    page = render_trend(db, tmp_path / "trend").read_text()
    fast_fp = json.loads((fast / CELL / "env.json").read_text())["machine"]["fingerprint"]
    assert 'id="spec-1"' in page and 'id="spec-2"' not in page  # two sections: one a machine
    assert page.count(f"; machine {fast_fp})") == page.count(
        f"; machine {_avx2_machine()['fingerprint']})") > 0


def test_one_configuration_on_a_cpu_is_named_without_a_tf32_it_does_not_have(tmp_path):
    # one configuration is named in full; TF32 (null on a CPU) is no part of its name
    from bench.analysis.cells import results_to_cells

    frame = pd.DataFrame([{"cell_id": f"c{s}", "status": "ok", "part": "throughput", "seed": s,
                           "data": "mnist-5k", "device": "cpu", "precision": "float32",
                           "xla": False, "batch_size": 64, "framework": "tensorflow", "tf32": None,
                           "final_outcome": None, "final_n": None, "classifier_sha256": None}
                          for s in (0, 1)])
    (label,) = set(results_to_cells(frame)["config"])
    assert "?" not in label and "TF32" not in label and "bs 64" in label


def test_accepting_an_earlier_night_closes_its_regression_as_accepted(tmp_path, capsys,
                                                                      monkeypatch):
    """Night 3 is 20% slower: a regression, then open on nights 4 and 5. A person accepts night
    3 itself (not last night) as the new baseline. Night 6 closes the regression as accepted,
    saying who and why, not as fixed: the level was made the reference, nothing got faster."""
    monkeypatch.setattr(throughput, "NIGHT_NOISE", 0.025)
    db = tmp_path / "h.sqlite"
    results = []
    for night, speed in enumerate([1.0, 1.0, 1.0, 0.8, 0.8, 0.8, 0.8]):
        run = craft_night(tmp_path / "nightly", f"night{night}",
                          f"2026-11-0{night + 1}T02:00:00+00:00", speed=speed)
        history.ingest(run, db)
        if night == 6:
            assert main(["history", "accept", "nightly/night3", "--db", str(db), "--why",
                         "bigger batches on purpose", "--by", "ana"]) == 0
        if night:
            results.append(_nightly(capsys, db, run, tmp_path, f"c{night}")[1])
    assert [r["verdict"] for r in results] == ["ok", "ok", "regression", "open", "open", "ok"]
    states = results[-1]["nights"].values()
    assert {s["state"] for s in states} == {"accepted"}
    assert {s["since"] for s in states} == {"nightly/night3"}
    for s in states:
        assert s["accepted"]["by"] == "ana" and s["accepted"]["run"] == "nightly/night3"
        assert s["accepted"]["why"] == "bigger batches on purpose"
    page = (tmp_path / "c6" / "summary.md").read_text()
    assert "accepted by ana" in page and "bigger batches on purpose" in page


def _quality_pairs(outcomes_b: dict, outcomes_c: dict):
    """Matched cells of quality configurations: config -> outcomes of its seeds on each side."""
    import pandas as pd

    from bench import schema

    rows = []
    for config, base in outcomes_b.items():
        for seed, (ob, oc) in enumerate(zip(base, outcomes_c[config])):
            rows.append({"config": config, "seed": seed, "matched": True,
                         "status_b": "ok", "status_c": "ok",
                         f"{schema.FINAL_N}_b": 1000, f"{schema.FINAL_N}_c": 1000,
                         f"{schema.FINAL_OUTCOME}_b": ob, f"{schema.FINAL_OUTCOME}_c": oc,
                         **{f"{column}_{side}": float("nan") for column, _, _ in quality.METRICS
                            for side in "bc"}})
    return pd.DataFrame(rows)


def test_a_second_quality_configuration_does_not_silence_collapse():
    """Two quality configurations of 3 seeds a side, no seed collapsed before and every seed
    after. A collapse test per configuration (p = 1/32 each at best) split alpha in two: at
    0.025 neither could fire. The pooled test, 0 of 6 against 6 of 6, fires; with one
    configuration it fires as before (0 of 3 against 3 of 3, p = 1/32)."""
    good, bad = ["digits"] * 3, ["mode_collapse"] * 3
    two = quality.quality_verdicts(_quality_pairs({"q1": good, "q2": good}, {"q1": bad, "q2": bad}))
    (collapse,) = [t for t in two if t["metric"] == "collapse rate"]
    assert collapse["verdict"] == "regression" and collapse["family"] == 1
    assert collapse["config"] == "2 quality configurations, pooled"
    assert "q1: 3/3 vs 0/3" in collapse["effect"] and "6/6" in collapse["effect"]
    one = quality.quality_verdicts(_quality_pairs({"q1": good}, {"q1": bad}))
    (collapse,) = [t for t in one if t["metric"] == "collapse rate"]
    assert collapse["verdict"] == "regression" and collapse["p"] == pytest.approx(1 / 32)
    # and nothing fires on the same outcomes both sides
    same = quality.quality_verdicts(_quality_pairs({"q1": good, "q2": bad}, {"q1": good, "q2": bad}))
    assert {t["verdict"] for t in same if t["metric"] == "collapse rate"} == {"no change"}
