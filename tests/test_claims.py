"""Claims on the crafted seed study (tests/data/runs/collapse-study, see make_collapse_study.py):
each kind gives each verdict, with intervals and p-values worked by hand.

Hand-worked values (level 0.95, so alpha = 0.05 and each tail of a two-sided interval 0.025):
- 0 events in n: the exact upper bound is 1 - 0.025^(1/n); n in n: the lower bound 0.025^(1/n).
  n = 10: 0.308497 and 0.691503.
- Otherwise the Clopper-Pearson bounds are beta quantiles: lower Beta(0.025; k, n - k + 1), upper
  Beta(0.975; k + 1, n - k); checked against scipy.stats.binomtest(...).proportion_ci("exact").
- Fully separated samples of m and n: one-sided exact Mann-Whitney p = 1 / C(m + n, m), two-sided
  twice that. 10 vs 10: 1/184756; 3 vs 3: 1/20 = 0.05, which is not below 0.05.
- Fisher, 0/10 against 7/10 collapsed: the tables with A holding 0 or 7 of the 7 collapses each
  have probability C(13, 10) / C(20, 10) = 286 / 184756, and nothing else is as extreme:
  p = 572 / 184756 = 0.0030960.
"""

import math
from fractions import Fraction
from pathlib import Path

import pytest
from scipy import stats

from bench.analysis import claims, power
from bench.analysis import stats as bench_stats
from bench.analysis.cells import load_cells
from bench.cli import main
from bench.errors import BenchError

STUDY = Path(__file__).parent / "data" / "runs" / "collapse-study"


@pytest.fixture(scope="module")
def cells():
    return load_cells([STUDY])


def _judge(cells, **claim):
    claim = {"name": "c", "level": 0.95, "not_converged": "inconclusive", **claim}
    return claims.judge([claim], cells)[0]


def _cp(k, n):
    """Clopper-Pearson by the beta quantiles: an independent computation of the interval."""
    low = 0.0 if k == 0 else stats.beta.ppf(0.025, k, n - k + 1)
    high = 1.0 if k == n else stats.beta.ppf(0.975, k + 1, n - k)
    return low, high


@pytest.mark.parametrize("k,n", [(0, 10), (1, 9), (2, 10), (3, 10), (7, 10), (10, 10)])
def test_exact_interval_is_clopper_pearson(k, n):
    got = bench_stats.exact_interval(k, n, 0.95)
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
    assert got == pytest.approx((ci.low, ci.high), abs=1e-12)
    assert got == pytest.approx(_cp(k, n), abs=1e-9)
    if k == 0:
        assert got[1] == pytest.approx(1 - 0.025 ** (1 / n))
    if k == n:
        assert got[0] == pytest.approx(0.025 ** (1 / n))


def test_collapse_rate_verdicts(cells):
    holds = _judge(cells, kind="collapse_rate", config={"part": "base"}, max_rate=0.35)
    assert (holds["verdict"], holds["successes"], holds["n"]) == ("holds", 0, 10)
    assert holds["high"] == pytest.approx(0.308497, abs=1e-6)
    fails = _judge(cells, kind="collapse_rate", config={"batch_size": 256}, max_rate=0.2)
    assert fails["verdict"] == "fails" and (fails["successes"], fails["n"]) == (7, 10)
    assert fails["low"] == pytest.approx(_cp(7, 10)[0]) and fails["low"] > 0.2
    wide = _judge(cells, kind="collapse_rate", config={"part": "base"}, max_rate=0.1)
    assert wide["verdict"] == "inconclusive" and "straddles" in wide["why"]


def test_not_converged_seeds_make_a_collapse_claim_inconclusive_unless_told(cells):
    xla = {"kind": "collapse_rate", "config": {"part": "xla"}, "max_rate": 0.5}
    default = _judge(cells, **xla)
    assert default["verdict"] == "inconclusive"
    assert default["why"].startswith("1 seed(s) did not converge")
    # seed 10 failed: left out with its reason, never counted
    assert {"seed": 10, "cell": "xla_cpu_float32_xla-on_bs64_seed10", "reason": "failed"} in \
        default["left_out"]
    excluded = _judge(cells, **xla, not_converged="exclude")
    assert (excluded["successes"], excluded["n"]) == (1, 9)
    assert excluded["high"] == pytest.approx(_cp(1, 9)[1]) and excluded["verdict"] == "holds"
    assert any(x["seed"] == 7 and "not converged" in x["reason"] for x in excluded["left_out"])
    counted = _judge(cells, **xla, not_converged="count_as_collapse")
    assert (counted["successes"], counted["n"]) == (2, 10)
    assert counted["high"] == pytest.approx(_cp(2, 10)[1]) and counted["verdict"] == "inconclusive"
    # Stacked MNIST's rule reads diversity first: a seed that did not converge did not collapse
    diverse = _judge(cells, **xla, not_converged="count_as_not_collapsed")
    assert (diverse["successes"], diverse["n"]) == (1, 10)
    assert diverse["high"] == pytest.approx(_cp(1, 10)[1]) and diverse["verdict"] == "holds"


def test_coverage_verdicts(cells):
    holds = _judge(cells, kind="coverage", config={"part": "base"}, min_classes=10,
                   min_share=0.65)
    assert holds["verdict"] == "holds" and holds["low"] == pytest.approx(0.691503, abs=1e-6)
    fails = _judge(cells, kind="coverage", config={"part": "bs256"}, min_classes=8,
                   min_share=0.7)
    assert (fails["successes"], fails["n"]) == (3, 10) and fails["verdict"] == "fails"
    assert fails["high"] == pytest.approx(_cp(3, 10)[1])
    middle = _judge(cells, kind="coverage", config={"part": "xla"}, min_classes=10, min_share=0.9)
    assert (middle["successes"], middle["n"], middle["verdict"]) == (8, 10, "inconclusive")


def test_no_worse_verdicts(cells):
    fid = {"kind": "no_worse", "metric": "fid", "margin": 0.1, "a": {"part": "base"}}
    # B (xla, FID 30-39) lies wholly below A x 1.1 (44-53.9): one-sided p = 1 / C(20, 10)
    holds = _judge(cells, **fid, b={"part": "xla"})
    assert holds["verdict"] == "holds" and holds["p"] == pytest.approx(1 / 184756)
    # B (bs256, FID 80-89) lies wholly above: worse beyond the margin
    fails = _judge(cells, **fid, b={"part": "bs256"})
    assert fails["verdict"] == "fails" and fails["p_worse"] == pytest.approx(1 / 184756)
    # three seeds a side: the smallest one-sided p is 1 / C(6, 3) = 0.05, never below 0.05
    few = _judge(cells, **{**fid, "a": {"precision": "mixed_bfloat16"}},
                 b={"precision": "mixed_float16"})
    assert few["p"] == pytest.approx(0.05)
    assert few["verdict"] == "inconclusive" and "needs at least 4 seeds per side" in few["why"]
    # 10 against 3 at level 0.999: smallest p 1 / C(13, 3) = 0.0035, not below 0.001; beside
    # A's 10, B needs 4 (1 / C(14, 4) = 1 / 1001), or 7 a side (1 / C(14, 7) = 1 / 3432)
    uneven = _judge(cells, **fid, b={"precision": "mixed_float16"}, level=0.999)
    assert (uneven["n_a"], uneven["n_b"], uneven["verdict"]) == (10, 3, "inconclusive")
    assert uneven["why"] == ("with A's 10 seeds, B needs at least 4, or at least 7 seeds per "
                             "side, for a one-sided p < 0.001")
    # classifier score, higher is better: bs256's collapsed seeds score 3 against base's 8
    score = _judge(cells, kind="no_worse", metric="classifier_score", margin=0.1,
                   a={"part": "base"}, b={"part": "bs256"})
    assert score["verdict"] == "inconclusive"  # 7 seeds at 3, 3 seeds at 8: ties both ways


def test_differs_verdicts(cells):
    holds = _judge(cells, kind="differs", metric="collapse_rate", a={"part": "base"},
                   b={"part": "bs256"})
    assert holds["verdict"] == "holds"
    assert holds["p"] == pytest.approx(572 / 184756, rel=1e-9)
    assert holds["p"] == pytest.approx(2 * math.comb(13, 10) / math.comb(20, 10))
    # 0/10 against 1/9 (not converged excluded): the one collapse falls in A with probability
    # 10/19, in B with 9/19; only the observed table is as unlikely: p = 9/19. Ten seeds against
    # nine could have reached p < 0.05, so the claim fails rather than being inconclusive.
    fails = _judge(cells, kind="differs", metric="collapse_rate", a={"part": "base"},
                   b={"part": "xla"}, not_converged="exclude")
    assert fails["verdict"] == "fails" and fails["p"] == pytest.approx(9 / 19)
    blocked = _judge(cells, kind="differs", metric="collapse_rate", a={"part": "base"},
                     b={"part": "xla"})
    assert blocked["verdict"] == "inconclusive" and "did not converge" in blocked["why"]
    fid = _judge(cells, kind="differs", metric="fid", a={"part": "base"}, b={"part": "xla"})
    assert fid["verdict"] == "holds" and fid["p"] == pytest.approx(2 / 184756)
    few = _judge(cells, kind="differs", metric="fid", a={"precision": "mixed_bfloat16"},
                 b={"precision": "mixed_float16"})
    # 3 against 3, two-sided: 2 / C(6, 3) = 0.1 at best
    assert few["verdict"] == "inconclusive" and "smallest possible p 0.1" in few["why"]


def test_a_claim_about_no_cell_is_an_error_not_a_pass(cells):
    with pytest.raises(BenchError, match=r"claim 'c': config \(batch_size=1024\) matches no cell"):
        _judge(cells, kind="collapse_rate", config={"batch_size": 1024}, max_rate=0.1)
    # batch 64 float32 XLA off is one configuration; base and few share seeds across parts
    with pytest.raises(BenchError, match=r"several cells of one seed: .*\(add part = \.\.\. and "
                       r"precision = \.\.\. and xla = \.\.\. to say which\)"):
        _judge(cells, kind="collapse_rate", config={"batch_size": 64}, max_rate=0.1)


def test_a_malformed_claims_file_lists_every_problem(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text("""
level = 1.5
colour = "red"
[[claims]]
name = "a"
kind = "collapse_rate"
config = {batch_size = 64, seed = 3}
max_rate = 2
[[claims]]
name = "a"
kind = "no_worse"
a = {xla = true}
metric = "loss"
margin = 0.1
extra = 1
[[claims]]
name = "c"
kind = "collapse"
[[claims]]
name = "d"
kind = "collapse_rate"
config = {batch_size = 64}
min_rate = 0
[[claims]]
name = "e"
kind = "collapse_rate"
config = {batch_size = 64}
max_rate = 1.0
""")
    assert main(["claims", str(path), str(STUDY)]) == 2
    err = capsys.readouterr().err
    for problem in ("colour: unknown top-level key", "level: expected a number between 0 and 1",
                    "claim 'a': config.seed: unknown coordinate",
                    "claim 'a': max_rate: expected a number between 0 and 1, found 2",
                    "claim 'a': extra: unknown field for kind no_worse",
                    "claim 'a': b: required for kind no_worse",
                    "claim 'a': metric: expected one of fid, classifier_score",
                    "claim 'c': kind: expected one of collapse_rate, coverage, no_worse, differs",
                    "claim 'a': name: used more than once", "bad.toml",
                    # bounds no set of seeds can break
                    "claim 'd': min_rate: 0 holds for any seeds whatever they show, so the claim "
                    "could never fail; expected a number above 0 and at most 1",
                    "claim 'e': max_rate: 1.0 holds for any seeds"):
        assert problem in err, problem
    assert "11 problem(s)" in err


def test_plan_sizes_a_grid_for_a_stated_power():
    # no collapse at all, a bound below 10% at 95%: every count is 0, so the power is 1 from the
    # first n whose exact upper bound 1 - 0.025^(1/n) is <= 0.1
    assert power.one_sided_seeds_for_zero(0.1, 0.95) == 29
    assert power.seeds_for_proportion(0.0, 0.1, 0.95, upper_is_claim=True) == 36
    assert 1 - 0.025 ** (1 / 36) < 0.1 < 1 - 0.025 ** (1 / 35)
    # a true rate at the bound is never decided
    assert power.seeds_for_proportion(0.1, 0.1, 0.95, upper_is_claim=True) is None
    # 3 of 6 collapsed against "at most 25%": 15 seeds, the first count that could decide it at
    # that rate, do so with probability 0.50 (the exact interval's lower bound passes 0.25 from
    # k = 8 of 15 on, and P(k >= 8) = 0.5 at a true rate of 0.5); 16 seeds only 0.40 (k >= 9);
    # 80% power needs 30
    assert power.proportion_power(15, 0.5, 0.25, 0.95, True) == pytest.approx(0.5)
    assert power.proportion_power(16, 0.5, 0.25, 0.95, True) == pytest.approx(0.4018, abs=1e-4)
    assert power.seeds_for_proportion(0.5, 0.25, 0.95, True) == 30
    assert power.proportion_power(30, 0.5, 0.25, 0.95, True) >= 0.8
    assert power.proportion_power(29, 0.5, 0.25, 0.95, True) < 0.8
    # Fisher, 0% against 50% collapse: 12 seeds a side for 80%
    assert power.seeds_for_fisher(0.0, 0.5, 0.05) == 12
    assert power.fisher_power(12, 0.0, 0.5, 0.05) >= 0.8 > power.fisher_power(11, 0.0, 0.5, 0.05)


def test_claims_command_outputs_and_exit_codes(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text("""
[[claims]]
name = "base-rarely-collapses"
kind = "collapse_rate"
config = {part = "base"}
max_rate = 0.35
[[claims]]
name = "bs256-covers"
kind = "coverage"
config = {part = "bs256"}
min_classes = 8
min_share = 0.7
""")
    assert main(["claims", str(path), str(STUDY), "--out", str(tmp_path / "out")]) == 1
    out = capsys.readouterr().out
    rows = [" ".join(line.split()) for line in out.splitlines()]
    assert any(r.startswith("base-rarely-collapses holds") for r in rows)
    assert any(r.startswith("bs256-covers fails") for r in rows)
    md = (tmp_path / "out" / "claims.md").read_text()
    assert "| base-rarely-collapses | collapse_rate | part=base | 0.95 | holds |" in md
    assert (tmp_path / "out" / "claims.png").stat().st_size > 10_000
    assert main(["claims", str(path), "--plan"]) == 0
    plan = [" ".join(line.split()) for line in capsys.readouterr().out.splitlines()]
    # no runs: the best case. No collapse: 1 - 0.025^(1/9) = 0.336 <= 0.35 (8 seeds: 0.369);
    # every seed covering: 0.025^(1/11) = 0.715 >= 0.7 (10 seeds: 0.692)
    assert plan[0] == ("seeds that decide each claim with probability 0.8 (--power), at level "
                       "0.95:")
    assert any(line.startswith("base-rarely-collapses collapse_rate best case share 0.000 9 ")
               for line in plan)
    assert "one-sided 95% bound would need 7" in " ".join(plan)
    assert any(line.startswith("bs256-covers coverage best case share 1.000 11 ") for line in plan)
    # the report's claims section
    from bench.report.render import render_report

    index = render_report([STUDY], tmp_path / "report", claims_file=path)
    html = index.read_text()
    assert 'id="claims"' in html and "bs256-covers" in html and "claims.png" in html


def _two_sides(column, a_values, b_values, outcomes=None):
    """A cells frame of two parts, `a` and `b`, one ok seed a value (final n 1000, one
    instrument); `outcomes` sets final_outcome per part instead of a metric."""
    import pandas as pd

    rows = []
    for part, values in (("a", a_values), ("b", b_values)):
        for seed, value in enumerate(values):
            row = {"cell_id": f"{part}_seed{seed}", "part": part, "seed": seed, "status": "ok",
                   "final_n": 1000, "classifier_sha256": "f" * 64, "data": "mnist-5k",
                   "device": "cpu", "precision": "float32", "xla": False, "batch_size": 64,
                   "final_outcome": "digits"}
            if outcomes:
                row["final_outcome"] = value
            else:
                row[column] = value
            rows.append(row)
    return pd.DataFrame(rows)


def _verdict(cells, **claim):
    claim = {"name": "c", "level": 0.95, "not_converged": "inconclusive",
             "a": {"part": "a"}, "b": {"part": "b"}, **claim}
    return claims.judge([claim], cells)[0]


def test_no_worse_at_an_exact_one_twentieth_is_inconclusive():
    # A = FIDs 10..90 / 1.1, shifted by the 10% margin: 10, 20, ..., 90; B = 5, 6, 45. B below
    # the shifted A: the one-sided exact p counts the arrangements of 3 among 12 ranks with a
    # rank sum as small: 11 of C(12, 3) = 220, p = 1/20 exactly, not below 0.05
    cells = _two_sides("final_fid", [v / 1.1 for v in range(10, 100, 10)], [5, 6, 45])
    v = _verdict(cells, kind="no_worse", metric="fid", margin=0.1)
    assert v["p_exact"] == Fraction(1, 20) and v["verdict"] == "inconclusive"


def test_differs_on_collapse_at_an_exact_one_twentieth_fails_in_both_orders():
    two_of_four = ["mode_collapse"] * 2 + ["digits"] * 2
    none_of_twelve = ["digits"] * 12
    for a, b in ((two_of_four, none_of_twelve), (none_of_twelve, two_of_four)):
        v = _verdict(_two_sides(None, a, b, outcomes=True), kind="differs", metric="collapse_rate")
        assert v["p_exact"] == Fraction(1, 20) and v["verdict"] == "fails"
        assert "not evidence that there is none" in v["why"]


def test_an_exact_p_of_one_tenth_at_level_0_9_fails():
    # 3 seeds against 9 (the smallest reachable p is 2 / C(12, 3) = 1/110): A's ranks 1, 2, 7
    # among 12 give a rank sum as small or smaller in 11 of 220 arrangements, two-sided 22/220 =
    # 1/10; alpha = 1 - 0.9 = 1/10, and p = alpha is not significant
    v = _verdict(_two_sides("final_fid", [0, 1, 6], [2, 3, 4, 5, 7, 8, 9, 10, 11]),
                 kind="differs", metric="fid", level=0.9)
    assert v["p_exact"] == Fraction(1, 10) and v["verdict"] == "fails"


@pytest.mark.parametrize("a, b, count, total, verdict", [
    ([8, 10, 10, 10, 10, 10], [5, 5, 8, 8, 8, 10], 25, 462, "fails"),
    ([9, 10, 10, 10, 10, 10, 10], [5, 5, 8, 8, 10, 10], 6, 143, "holds"),
])
def test_tied_classes_covered_are_judged_on_the_permutation_distribution(a, b, count, total,
                                                                         verdict):
    v = _verdict(_two_sides("final_classes_covered", a, b), kind="differs",
                 metric="classes_covered")
    assert v["method"] == "permutation" and v["p_exact"] == Fraction(count, total)
    assert v["verdict"] == verdict


def test_equivalent_needs_both_one_sided_tests():
    # B within A x (1 +- 0.2): 8 seeds a side, B's values interleaved with A's
    a = [100 + 2 * i for i in range(8)]
    same = _two_sides("final_fid", a, [101 + 2 * i for i in range(8)])
    v = _verdict(same, kind="equivalent", metric="fid", margin=0.2)
    assert v["verdict"] == "holds"
    far = _two_sides("final_fid", a, [150 + 2 * i for i in range(8)])  # 50% above: outside
    v = _verdict(far, kind="equivalent", metric="fid", margin=0.2)
    assert v["verdict"] == "fails" and "outside the band" in v["why"]
    few = _two_sides("final_fid", a[:3], [101, 103, 105])  # 3 a side: one-sided 1/20 at best
    assert _verdict(few, kind="equivalent", metric="fid", margin=0.2)["verdict"] == "inconclusive"


def test_family_applies_holm_across_the_files_claims(cells):
    claim = {"name": "c", "level": 0.95, "kind": "collapse_rate", "config": {"part": "base"},
             "max_rate": 0.35, "not_converged": "inconclusive"}
    alone = claims.judge([claim], cells)[0]
    assert alone["verdict"] == "holds"
    # the same claim beside nine that cannot hold: Holm multiplies its p by 10
    others = [{**claim, "name": f"o{i}", "max_rate": 0.01} for i in range(9)]
    together = claims.judge([claim, *others], cells, family=True)
    assert together[0]["family"] == "Holm across 10 claims"
    assert together[0]["p_holm"] == pytest.approx(min(1, 10 * claims.p_holds(alone)))
    assert (together[0]["verdict"] == "holds") == (together[0]["p_holm"] < 0.05)


def test_a_throughput_claim_needs_no_final_evaluation():
    # a throughput part has no final evaluation (final_n 0): its seeds are still its samples.
    # 4 seeds a side fully separated: the exact two-sided p is 2 / C(8, 4) = 1/35
    cells = _two_sides("images_per_sec_median", [400, 410, 420, 430], [300, 310, 320, 330])
    cells["final_n"] = None
    v = _verdict(cells, kind="differs", metric="images_per_sec")
    assert v["left_out"] == [] and v["p_exact"] == Fraction(1, 35) and v["verdict"] == "holds"
    fid = _two_sides("final_fid", [10, 20, 30, 40], [11, 21, 31, 41])
    fid["final_n"] = None  # a quality metric without an evaluation is left out, saying so
    v = _verdict(fid, kind="differs", metric="fid")
    assert v["verdict"] == "inconclusive"
    assert [x["reason"] for x in v["left_out"]] == ["no final evaluation"] * 8


def _brute_force_rank_p(b, a, alternative):
    """The exact permutation p of the Mann-Whitney U of B against A, by enumerating every way to
    split the pooled values (Fractions, ties counted a half): independent of SciPy."""
    from itertools import combinations

    def u(bs, as_):
        return sum(Fraction(1) if x > y else Fraction(1, 2) if x == y else 0
                   for x in bs for y in as_)

    pooled, observed = list(b) + list(a), u(b, a)
    splits = list(combinations(range(len(pooled)), len(b)))
    hits = 0
    for chosen in splits:
        bs = [pooled[i] for i in chosen]
        as_ = [pooled[i] for i in range(len(pooled)) if i not in chosen]
        value = u(bs, as_)
        hits += value >= observed if alternative == "greater" else value <= observed
    return Fraction(hits, len(splits))


def test_equivalence_bands_are_exact_and_the_deciding_p_is_in_the_evidence():
    """A = 2, 6, 7, 8, 9 and B = 7.7, 10.5 x 3, margin 0.1: B's 7.7 is exactly A's 7 x 1.1, a tie
    on paper. In binary floats 7 x 1.1 is 7.700000000000001, B's 7.7 falls strictly below it, and
    the exact p of `B above the band` came out 1/18 (inconclusive) where it is 2/63 (below 1/20:
    fails). Every one of the four one-sided tests is held to a brute-force permutation count."""
    a, b = [2.0, 6.0, 7.0, 8.0, 9.0], [7.7, 10.5, 10.5, 10.5]
    assert 7 * 1.1 != 7.7  # the float trap itself
    cells = _two_sides("final_fid", a, b)
    v = _verdict(cells, kind="equivalent", metric="fid", margin=0.1)
    exact_a = [Fraction(str(x)) for x in a]
    exact_b = [Fraction(str(x)) for x in b]
    up, down = Fraction(11, 10), Fraction(9, 10)
    above_band = _brute_force_rank_p(exact_b, [x * up for x in exact_a], "greater")
    assert above_band == Fraction(2, 63)
    assert v["verdict"] == "fails" and v["p_exact"] == above_band  # the p that decided it
    assert "2/63" in v["why"] and "2/63" in v["evidence"]
    from bench.analysis.stats import equivalence_tests

    tests = equivalence_tests(a, b, 0.1)
    assert tests["upper"]["p_exact"] == _brute_force_rank_p(exact_b, [x * up for x in exact_a],
                                                            "less")
    assert tests["lower"]["p_exact"] == _brute_force_rank_p(exact_b, [x * down for x in exact_a],
                                                            "greater")
    assert tests["below_band"]["p_exact"] == _brute_force_rank_p(
        exact_b, [x * down for x in exact_a], "less")


def test_collapse_rate_at_least_verdicts(cells):
    # batch 256: 7 of 10 collapsed, exact interval [0.3475, 0.9333]
    holds = _judge(cells, kind="collapse_rate", config={"batch_size": 256}, min_rate=0.2)
    assert holds["verdict"] == "holds" and holds["low"] == pytest.approx(_cp(7, 10)[0])
    assert "at least 0.2" in holds["evidence"]
    unsure = _judge(cells, kind="collapse_rate", config={"batch_size": 256}, min_rate=0.5)
    assert unsure["verdict"] == "inconclusive"
    # base: 0 of 10, upper bound 1 - 0.025^(1/10) = 0.308497 < 0.5
    fails = _judge(cells, kind="collapse_rate", config={"part": "base"}, min_rate=0.5)
    assert fails["verdict"] == "fails" and fails["high"] == pytest.approx(0.308497, abs=1e-6)
    # the family's p for "at least": the upper binomial tail, doubled (2 x P(X >= 7 | 10, 0.2))
    tail = sum(math.comb(10, k) * 0.2 ** k * 0.8 ** (10 - k) for k in range(7, 11))
    assert claims.p_holds(holds) == pytest.approx(2 * tail, rel=1e-9)


@pytest.mark.parametrize("values,verdict", [
    (list(range(76, 86)), "holds"),      # mean 80.5, t interval [78.33, 82.67] inside the band
    ([70, 80, 90], "inconclusive"),      # mean 80, t interval [55.16, 104.84] straddles it
    (list(range(200, 210)), "fails"),    # wholly above
])
def test_mean_within_a_published_band_by_hand(values, verdict):
    import numpy as np

    cells = _two_sides("final_modes", values, [])
    v = _judge(cells, kind="mean_within", config={"part": "a"}, metric="modes", low=64.3,
               high=93.5, source="PacGAN Table 2")
    n, mean = len(values), sum(values) / len(values)
    se = math.sqrt(sum((x - mean) ** 2 for x in values) / (n - 1) / n)
    half = stats.t.ppf(0.975, n - 1) * se
    assert v["verdict"] == verdict
    assert (v["mean_low"], v["mean_high"]) == pytest.approx((mean - half, mean + half), abs=1e-9)
    p_low, p_high = stats.t.sf((mean - 64.3) / se, n - 1), stats.t.cdf((93.5 - mean) / se, n - 1)
    assert v["p"] == pytest.approx(min(1.0, 2 * max(p_low, 1 - p_high)), rel=1e-9, abs=1e-300)
    assert "PacGAN Table 2" in v["evidence"]
    assert np.isclose(v["mean"], mean)


def test_a_collapse_rate_claim_needs_one_bound(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[[claims]]\nname = "x"\nkind = "collapse_rate"\nconfig = { xla = false }\n'
                    '[[claims]]\nname = "y"\nkind = "mean_within"\nconfig = { xla = false }\n'
                    'metric = "modes"\nlow = 9\nhigh = 1\n')
    with pytest.raises(BenchError) as e:
        from bench.analysis.claims_spec import load_claims

        load_claims(path)
    assert "claim 'x': give one of max_rate" in str(e.value)
    assert "claim 'y': low, high: expected low <= high, found [9, 1]" in str(e.value)


def test_every_kind_has_a_judge_and_a_plan():
    """A kind added to the claims file's KINDS and forgotten in JUDGES or PLANS would pass the
    file's validation and then fail with a KeyError (docs/how-to/add-a-claim-kind.md)."""
    from bench.analysis.claims_plan import PLANS
    from bench.analysis.claims_spec import FIELDS, KINDS, REQUIRED

    assert len(KINDS) == 6
    assert set(claims.JUDGES) == set(PLANS) == set(FIELDS) == set(REQUIRED) == set(KINDS)
