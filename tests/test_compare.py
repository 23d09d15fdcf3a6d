"""`dcgan-bench compare` on crafted nights (tests/nights.py: the golden grid, its throughput
scaled): verdicts, drift, quality across seeds, numerics, refusals, outputs and exit codes.

Hand-worked numbers: the golden windows of a configuration sit at its median ± 0, 4, 8, 12, 16
(18 windows a side, 2 seeds pooled), so a night at `speed` x has a ratio of medians of exactly
`speed`; five nights of 3% each put night 4 at 0.97^4 = 0.885 of night 0.
"""

import json

import pytest
from nights import GOLDEN, craft_night
from scipy import stats

from bench.analysis import compare, history
from bench.analysis import stats as bench_stats
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
    # two seeds a side: the exact rank test cannot go below 2 / C(4, 2) = 0.33
    assert {t["verdict"] for t in result["quality"]} == {"inconclusive"}
    fid = next(t for t in result["quality"] if t["metric"] == "FID")
    assert fid["why"] == "needs at least 7 seeds per side for p < 0.002"
    collapse = next(t for t in result["quality"] if t["metric"] == "collapse count")
    assert "needs at least 7 seeds" in collapse["why"]
    assert result["numerics"]["expected"] and result["numerics"]["changes"] == []
    # the three cells that are not ok in the golden grid are listed, never dropped
    assert {c["cell"]: c["note"] for c in result["cells_not_compared"]} == {
        "cpu_float32_xla-off_bs64_seed2": "not ok in both",
        "cpu_mixed_bfloat16_xla-off_bs64_seed0": "not ok in both",
        "gpu_float32_xla-on_bs64_seed0": "not ok in both"}
    assert "ok: no regression, no drift" in out.out
    summary = (tmp_path / "cmp" / "summary.md").read_text()
    assert "significance level 0.002" in summary and "noise margin 10%" in summary


def test_a_slower_night_is_a_regression_with_exit_1(tmp_path, capsys):
    a = craft_night(tmp_path / "n", "a", "2026-11-01T02:00:00+00:00")
    slow = craft_night(tmp_path / "n", "slow", "2026-11-02T02:00:00+00:00", speed=0.8)
    code, out = _compare(capsys, a, slow, "--out", tmp_path / "cmp")
    assert code == 1
    result = json.loads((tmp_path / "cmp" / "comparison.json").read_text())
    assert result["verdict"] == "regression"
    for test in result["throughput"]:
        assert test["ratio"] == pytest.approx(0.8)
        # 18 windows a side, fully separated; the two seeds' windows tie (the same offsets), so
        # the normal approximation with tie correction; Holm multiplies the smallest by 4
        assert test["p"] == pytest.approx(stats.mannwhitneyu(
            range(18), range(100, 118), method="asymptotic").pvalue, rel=0.05)
        assert test["p_holm"] == pytest.approx(4 * test["p"]) and test["p_holm"] < 1e-5
        assert test["ci_high"] < 0.9 and test["verdict"] == "regression"
    assert "REGRESSION" in (tmp_path / "cmp" / "summary.md").read_text()
    # an 8% slowdown is significant but inside the 10% margin; a 5% margin catches it
    slight = craft_night(tmp_path / "n", "slight", "2026-11-03T02:00:00+00:00", speed=0.92)
    assert _compare(capsys, a, slight, "--out", tmp_path / "c2")[0] == 0
    code, out = _compare(capsys, a, slight, "--out", tmp_path / "c3", "--margin", "0.05")
    assert code == 1 and "noise margin 5%" in out.out
    # faster is reported as an improvement, and is no failure
    fast = craft_night(tmp_path / "n", "fast", "2026-11-04T02:00:00+00:00", speed=1.25)
    assert _compare(capsys, a, fast, "--out", tmp_path / "c4")[0] == 0
    result = json.loads((tmp_path / "c4" / "comparison.json").read_text())
    assert {t["verdict"] for t in result["throughput"]} == {"improvement"}


def test_drift_over_five_nights_of_3_percent_each_is_flagged(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    codes, results = [], []
    for night in range(6):
        run = craft_night(tmp_path / "nightly", f"night{night}",
                          f"2026-11-0{night + 1}T02:00:00+00:00", speed=0.97 ** night)
        history.ingest(run, db)
        if night:
            codes.append(_compare(capsys, "last-good", run, "--db", db,
                                  "--out", tmp_path / f"c{night}")[0])
            results.append(json.loads((tmp_path / f"c{night}" / "comparison.json").read_text()))
    # each night is 3% slower than the one before: never a regression on its own
    assert all(t["verdict"] == "no change" for r in results for t in r["throughput"])
    # night 4 is 0.97^4 = 0.885 of night 0: drift; so is night 5 (0.859)
    assert codes == [0, 0, 0, 1, 1]
    assert [r["verdict"] for r in results] == ["ok", "ok", "ok", "drift", "drift"]
    assert results[3]["drift_base"] == "nightly/night0"
    assert results[3]["drift"][0]["ratio"] == pytest.approx(0.97 ** 4)
    # a drifting night is not good: night 5 is compared with night 3, the last good one
    assert results[4]["baseline"] == "nightly/night3"
    verdicts = {r["id"]: r["verdict"] for r in history.list_runs(db)}
    assert verdicts == {"nightly/night0": None, "nightly/night1": "ok", "nightly/night2": "ok",
                        "nightly/night3": "ok", "nightly/night4": "drift",
                        "nightly/night5": "drift"}
    # with only 3 nights in the window, the oldest good night is night 1: 0.97^4 / 0.97 = 0.913
    code, _ = _compare(capsys, "last-good", tmp_path / "nightly" / "night4", "--db", db,
                       "--drift-nights", "3", "--out", tmp_path / "c")
    assert code == 0


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
    b.results["tensorflow"] = "2.99.0"
    result = compare.compare_runs(a, b)
    assert not result["numerics"]["expected"] and "TensorFlow and device differ" in \
        result["numerics"]["why"]


def test_a_newly_failing_cell_is_a_regression(tmp_path):
    a = run_dir_to_run(craft_night(tmp_path, "a", "2026-11-01T02:00:00+00:00"))
    b = run_dir_to_run(craft_night(tmp_path, "b", "2026-11-02T02:00:00+00:00"))
    b.results.loc[b.results["cell_id"] == CELL, "status"] = "failed"
    result = compare.compare_runs(a, b)
    assert result["verdict"] == "regression"
    assert result["reasons"] == [f"cell {CELL} newly failing (failed)"]
    # its configuration is still compared, on the seed that is ok in both
    (bs64_off,) = [t for t in result["throughput"] if t["config"] == "cpu · float32 · XLA off · bs 64"]
    assert bs64_off["seeds"] == 1 and bs64_off["n_candidate"] == 9


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
    # seven seeds a side, fully separated: exact p = 2 / C(14, 7) = 5.83e-4 < 0.002
    worse_fid = bench_stats.samples_to_test([40 + i for i in range(7)], [60 + i for i in range(7)])
    assert worse_fid["p"] == pytest.approx(2 / 3432, rel=1e-9)
    (fid,) = compare.tests_to_verdicts([{**worse_fid, "higher_is_better": False}], margin=0.0,
                                       unit="seeds")
    assert fid["verdict"] == "regression"
    # Fisher: 0 of 8 collapsed against 8 of 8: p = 2 / C(16, 8) = 1.554e-4
    test = bench_stats.collapse_test(0, 8, 8, 8)
    assert test["p"] == pytest.approx(2 / 12870, rel=1e-9)
    assert test["p"] == pytest.approx(stats.fisher_exact([[8, 0], [0, 8]]).pvalue)
    (collapse,) = compare.collapse_verdicts([test], [test["p"]])
    assert collapse["verdict"] == "regression"
    # three seeds a side: Fisher can never go below 2 / C(6, 3) = 0.1
    assert bench_stats.smallest_fisher_p(3, 3) == pytest.approx(0.1)
    (few,) = compare.collapse_verdicts([bench_stats.collapse_test(0, 3, 3, 3)], [0.1])
    assert few["verdict"] == "inconclusive" and "needs at least 7 seeds" in few["why"]


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
    assert summary[0] == "# dcgan-bench compare [across machines]: REGRESSION"
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
