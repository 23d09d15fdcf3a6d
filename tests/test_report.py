"""The report on the golden crafted grid (tests/data/runs/golden, see make_golden.py there).

Expected numbers are worked by hand from the golden throughput medians (images/s):
    bs64  XLA off 900, 920 -> 910    XLA on 760, 780 -> 770    speedup 770 / 910 = 0.846154
    bs256 XLA off 880, 900 -> 890    XLA on 500, 520 -> 510    speedup 510 / 890 = 0.573034
With two seeds a side, a bootstrap median is the low seed, the mean of both or the high seed; the
lowest ratio (low on, high off) comes up in 1/16 of resamples, more than the 2.5% tail, so the 95%
interval runs from low_on / high_off to high_on / low_off: 760/920 to 780/900 and 500/900 to
520/880.
"""

import csv
import html
import json
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bench.analysis.cells import load_cells
from bench.analysis.stats import ratio_of_medians_ci
from bench.errors import BenchError
from bench.report.publish import MARKER
from bench.report.render import render_report
from bench.report.tables import xla_speedup

GOLDEN = Path(__file__).parent / "data" / "runs" / "golden"
HOSTILE = "<script>alert(1)</script>"
FIGURES = {"loss_curves.png", "discriminator.png", "throughput.png", "compile_time.png",
           "final_metrics.png", "training_curves.png", "class_histograms.png", "prdc.png"}
TABLES = {"cells.csv", "throughput.csv", "xla_speedup.csv", "final_metrics.csv",
          "seed_outcomes.csv", "class_histograms.csv", "environment.csv"}


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


class Resources(HTMLParser):
    """Every src/href in a page, and the tags used."""

    def __init__(self):
        super().__init__()
        self.images, self.links, self.tags = [], [], set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs.get("src"))
        if attrs.get("href"):
            self.links.append(attrs["href"])


def parse(html_text):
    parser = Resources()
    parser.feed(html_text)
    return parser


@pytest.fixture(scope="module")
def golden_report(tmp_path_factory):
    return render_report([GOLDEN], tmp_path_factory.mktemp("report") / "golden").parent


def copy_golden(tmp_path, name=None, failed_reason=None) -> Path:
    run = tmp_path / "runs" / "golden"
    shutil.copytree(GOLDEN, run)
    if name is not None:
        manifest = json.loads((run / "manifest.json").read_text())
        manifest["name"] = manifest["spec"]["name"] = name
        (run / "manifest.json").write_text(json.dumps(manifest))
    if failed_reason is not None:
        path = run / "cpu_mixed_bfloat16_xla-off_bs64_seed0" / "summary.json"
        summary = json.loads(path.read_text())
        summary["reason"] = failed_reason
        path.write_text(json.dumps(summary))
    return run


def test_mixed_statuses_render_every_output(golden_report):
    names = {p.name for p in golden_report.iterdir()}
    assert {"index.html", "summary.md", MARKER} | FIGURES | TABLES <= names
    # The failed, skipped and diverged cells have no samples.png.
    assert len(list((golden_report / "samples").glob("*.png"))) == 8
    statuses = {row["status"] for row in read_csv(golden_report / "cells.csv")}
    assert statuses == {"ok", "diverged", "failed", "skipped"}
    page = (golden_report / "index.html").read_text()
    for status in ("ok", "diverged", "failed", "skipped"):
        assert f'class="status status-{status}">{status}</td>' in page
    assert "11 cells: 8 ok, 1 diverged, 1 failed, 1 skipped." in page
    assert "RuntimeError: crafted failure for the golden grid" in page
    assert "non-finite generator loss at step 140" in page
    summary = (golden_report / "summary.md").read_text()
    assert "| gpu · float32 · XLA on · bs 64 | 0 | skipped | device gpu asked for" in summary


def test_xla_speedup_matches_hand_worked_values(golden_report):
    rows = read_csv(golden_report / "xla_speedup.csv")
    got = [(int(r["batch_size"]), int(r["seeds_off"]), int(r["seeds_on"]), float(r["median_off"]),
            float(r["median_on"]), float(r["speedup"]), float(r["ci_low"]), float(r["ci_high"]))
           for r in rows]
    expected = [(64, 2, 2, 910.0, 770.0, 770 / 910, 760 / 920, 780 / 900),
                (256, 2, 2, 890.0, 510.0, 510 / 890, 500 / 900, 520 / 880)]
    assert [r[:5] for r in got] == [e[:5] for e in expected]
    for g, e in zip(got, expected):
        assert g[5:] == pytest.approx(e[5:], rel=1e-9)
    assert {r["device"] for r in rows} == {"cpu"}  # the gpu cell was skipped: no pair
    summary = (golden_report / "summary.md").read_text()
    assert ("| mnist-5k | cpu | float32 | 64 | 2 | 2 | 910 | 770 | 0.8462 | 0.826 – 0.867 |"
            in summary)
    assert ("| mnist-5k | cpu | float32 | 256 | 2 | 2 | 890 | 510 | 0.573 | 0.556 – 0.591 |"
            in summary)
    assert "<td>0.8462</td><td class=\"text\">0.826 – 0.867</td>" in (
        golden_report / "index.html").read_text()


def test_throughput_and_outcome_tables(golden_report):
    rows = {(r["group"], int(r["batch_size"])): r for r in
            read_csv(golden_report / "throughput.csv")}
    bs64_off = rows[("cpu · XLA off · float32", 64)]
    assert float(bs64_off["median"]) == 910.0
    # Windows at median +- 0, 4, ..., 16: p10 = median - 12.8, p90 = median + 12.8 (numpy's
    # linear interpolation over 9 windows); lowest p10 is seed 0's, highest p90 seed 1's.
    assert float(bs64_off["p10"]) == pytest.approx(900 - 12.8)
    assert float(bs64_off["p90"]) == pytest.approx(920 + 12.8)
    assert int(bs64_off["seeds"]) == 2  # the diverged seed 2 is left out
    # MFU, worked by hand: the tutorial's 451,671,808 FLOPs a training image at 910 images/s
    # over the golden EPYC's peak, 2 cores x 3,700 MHz x 32 FLOPs a cycle (Zen 4's AVX-512 on
    # two 256-bit pipes): 1.74, more than the silicon allows, and the page says so
    assert float(bs64_off["mfu"]) == pytest.approx(451_671_808 * 910 / (2 * 3700e6 * 32))
    page = html.unescape((golden_report / "index.html").read_text())
    assert "Peaks: CPU: 2 cores x 3700 MHz (cpufreq's maximum) x 32 FLOPs a cycle " \
        "(AVX-512 on two 256-bit FMA pipes (Zen 4))." in page
    # the ok CPU cells above 236.8e9 / 451,671,808 = 524 images/s: 900, 920, 760, 780, 880, 900
    # (not bs 256 XLA on's 500 and 520); the highest, 920 images/s, is 1.75
    assert "6 cell(s) have MFU above 1 (up to 1.75)" in page
    seed0 = next(r for r in read_csv(golden_report / "cells.csv")
                 if (r["device"], r["xla"], r["batch size"], r["seed"]) == ("cpu", "off", "64", "0"))
    assert float(seed0["MFU unpadded"]) == pytest.approx(
        float(seed0["MFU"]) * 342_821_632 / 451_671_808)
    # Seeds per outcome and configuration: bs64 XLA off has 2 ok seeds and the diverged seed 2
    # (no outcome); bs256 XLA on has one seed that made digits and one that collapsed.
    outcomes = {r["config"]: r for r in read_csv(golden_report / "seed_outcomes.csv")}
    assert [(k, r["seeds"], r["digits"], r["mode collapse"], r["not converged"],
             r["no outcome (not ok or not evaluated)"]) for k, r in outcomes.items()
            if k.startswith("cpu · float32")] == [
        ("cpu · float32 · XLA off · bs 64", "3", "2", "0", "0", "1"),
        ("cpu · float32 · XLA off · bs 256", "2", "2", "0", "0", "0"),
        ("cpu · float32 · XLA on · bs 64", "2", "2", "0", "0", "0"),
        ("cpu · float32 · XLA on · bs 256", "2", "1", "1", "0", "0")]
    assert "| cpu · float32 · XLA on · bs 256 | 200 | 2 | 1 | 1 | 0 | 0 |" in (
        golden_report / "summary.md").read_text()


def test_page_is_offline_and_every_image_exists(golden_report):
    text = (golden_report / "index.html").read_text()
    assert "http://" not in text and "https://" not in text
    page = parse(text)
    assert not page.tags & {"script", "link", "iframe", "object", "embed"}
    assert set(page.images) >= FIGURES
    for src in page.images + page.links:
        if not src.startswith("#"):
            assert not Path(src).is_absolute() and ".." not in Path(src).parts
            assert (golden_report / src).is_file(), src


def test_hostile_text_is_escaped(tmp_path):
    run = copy_golden(tmp_path, name=HOSTILE, failed_reason='<img src=x onerror="alert(2)">')
    out = render_report([run], tmp_path / "report").parent
    page = (out / "index.html").read_text()
    assert "<script" not in page.lower()
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in page
    assert "<title>dcgan-bench report: &lt;script&gt;" in page
    summary = (out / "summary.md").read_text()
    # Markdown escapes, not HTML entities: it reads as the name in a CI log, and renders as it
    assert not re.search(r"(?<!\\)<", summary)
    assert "\\<script\\>alert(1)\\</script\\>" in summary
    assert "&lt;" not in summary


def test_report_over_nothing_is_an_error(tmp_path):
    out = tmp_path / "report"
    (tmp_path / "empty").mkdir()
    with pytest.raises(BenchError, match="no run records found"):
        render_report([tmp_path / "empty"], out)
    with pytest.raises(BenchError, match="no such run or cell directory"):
        render_report([tmp_path / "absent"], out)
    with pytest.raises(BenchError, match="no run directories given"):
        render_report([], out)
    run = tmp_path / "zero-cells"
    run.mkdir()
    (run / "manifest.json").write_text(json.dumps(
        {"schema_version": 1, "name": "zero", "spec": {}, "cells": []}))
    with pytest.raises(BenchError, match="no run records found"):
        render_report([run], out)
    assert not out.exists()


def test_absent_sections_say_so(tmp_path):
    # One ok cell given alone (no manifest), with evaluation off, and only a failed cell.
    cell = tmp_path / "cell"
    shutil.copytree(GOLDEN / "cpu_float32_xla-off_bs64_seed0", cell)
    (cell / "evals.jsonl").unlink()
    summary = json.loads((cell / "summary.json").read_text())
    summary["final"] = None
    (cell / "summary.json").write_text(json.dumps(summary))
    page = render_report([cell], tmp_path / "one").read_text()
    assert "No configuration has periodic evaluations at two steps or more from an ok cell" in page
    assert "No ok cell has a final evaluation" in page
    assert "without a grid manifest" in page
    assert "loss_curves.png" in page
    failed = render_report([GOLDEN / "cpu_mixed_bfloat16_xla-off_bs64_seed0"],
                           tmp_path / "failed").read_text()
    assert "No ok cell has a steps.jsonl" in failed
    assert "No ok cell has throughput numbers" in failed
    assert "No cell has a samples.png." in failed
    assert "<img" not in failed


def test_out_dir_is_replaced_only_when_it_is_a_report(tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(BenchError, match="not a report"):
        render_report([GOLDEN], precious)
    assert (precious / "notes.txt").read_text() == "keep me"
    out = tmp_path / "report"
    render_report([GOLDEN / "cpu_float32_xla-off_bs64_seed0"], out)
    render_report([GOLDEN / "cpu_float32_xla-on_bs64_seed0"], out)  # over the old report
    assert [p.name for p in (out / "samples").iterdir()] == [
        "00-cpu_float32_xla-on_bs64_seed0.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["precious", "report"]  # no temp left


def test_ratio_of_medians_ci_is_seeded_and_exact_for_equal_seeds():
    assert ratio_of_medians_ci([2.0, 2.0, 2.0], [1.0, 1.0]) == (2.0, 2.0, 2.0)
    a = ratio_of_medians_ci([1.0, 1.5, 3.0], [1.0, 2.0])
    assert a == ratio_of_medians_ci([1.0, 1.5, 3.0], [1.0, 2.0])
    assert a[0] == pytest.approx(1.5 / 1.5) and a[1] <= a[0] <= a[2]


def test_xla_speedup_with_one_seed_has_no_interval():
    cells = load_cells([GOLDEN])
    seed0 = cells[cells["seed"] == 0]
    table = xla_speedup(seed0)
    assert list(table["speedup"]) == pytest.approx([760 / 900, 500 / 880])
    assert table["ci_low"].isna().all() and table["ci_high"].isna().all()


def test_grid_directory_with_latest_link_counts_each_cell_once(tmp_path):
    # runs/<grid>/<run-id>/ and runs/<grid>/latest -> <run-id>, as `dcgan-bench grid` leaves them.
    grid = tmp_path / "runs" / "golden"
    shutil.copytree(GOLDEN, grid / "20250101-000000")
    os.symlink("20250101-000000", grid / "latest")
    cells = load_cells([grid])
    assert len(cells) == 11 and cells["cell_id"].is_unique


def test_configurations_without_digits_are_said_in_words(tmp_path):
    run = copy_golden(tmp_path)
    for seed in (0, 1):
        path = run / f"cpu_float32_xla-on_bs64_seed{seed}" / "summary.json"
        summary = json.loads(path.read_text())
        summary["final"].update(outcome="not_converged", confident_fraction=0.05)
        path.write_text(json.dumps(summary))
    page = render_report([run], tmp_path / "r").read_text()
    assert ("No seed of configuration cpu · float32 · XLA on · bs 64 reached recognisable digits "
            "in 200 steps (2 of 2 evaluated seeds did not converge). The measured curve needs "
            "about 8,000 steps at batch 64.") in page
    # configurations whose seeds made digits get no such sentence
    assert page.count("reached recognisable digits") == 1


def test_the_page_opens_with_a_headline_and_the_cells_that_differ(golden_report):
    page = (golden_report / "index.html").read_text()
    headline = page.index('<div class="headline">')
    assert headline < page.index("<table")  # what ran and how it came out, before any table
    text = page[headline:page.index("</div>", headline)]
    assert "Ran 11 cells of golden: 6 configurations × 3 seeds." in text
    assert "8 ok, 1 diverged, 1 failed, 1 skipped" in text
    assert "7 of 8 seeds digits" in text and "1 of 8 seeds mode collapse" in text
    # the cell table shows the columns whose values differ; every column is behind a toggle
    cells = page[page.index('<section id="cells">'):page.index("</section>",
                                                                page.index('<section id="cells">'))]
    first, every = cells.split("<details>")[0], cells.split("<details>")[1]
    heads = [first.count("<th>"), every.count("<th>")]
    assert 0 < heads[0] < heads[1]
    assert "<th>wall s</th>" in every and "<th>wall s</th>" not in first
    assert "<th>status</th>" in first and "<th>FID</th>" in first and "<th>reason</th>" in first
    assert "Varied: device cpu, gpu; precision float32, mixed_bfloat16; XLA off, XLA on; bs 64, " \
        "bs 256." in text
    summary = (golden_report / "summary.md").read_text()
    assert summary.index("Ran 11 cells") < summary.index("|")


def test_a_report_of_two_runs_names_them_and_counts_a_repeated_seed_by_its_cells(tmp_path):
    """Two nights of one grid: the same seeds twice. The headline names both runs and does not
    call 16 cells "16 seeds"; the cell table says which run each row is of."""
    from nights import craft_night

    runs = [craft_night(tmp_path, name, f"2026-12-0{i + 1}T02:00:00+00:00")
            for i, name in enumerate(("night1", "night2"))]
    page = render_report(runs, tmp_path / "r").read_text()
    text = page[page.index('<div class="headline">'):]
    text = text[:text.index("</div>")]
    assert ("Ran 22 cells of golden in 2 runs (night1, night2): 6 configurations × 3 seeds, "
            "seeds repeated across the runs.") in text
    assert "14 of 16 cells digits, 2 of 16 cells mode collapse" in text
    assert "seeds digits" not in text
    cells = page[page.index('<section id="cells">'):].split("<details>")[0]  # the first table
    assert cells.index("<th>run</th>") < cells.index("<th>device</th>")
    assert cells.count('<td class="text">night1</td>') == 11
    assert cells.count('<td class="text">night2</td>') == 11


# Stacked MNIST modes per ok golden cell (8 cells): (modes, thresholded, reverse KL)
STACKED_FINALS = [(77, 15, 4.61), (85, 40, 4.40), (140, 120, 3.20), (990, 990, 0.05),
                  (60, 8, 4.90), (310, 100, 2.30), (1000, 1000, 0.02), (95, 90, 3.90)]


def stacked_copy(tmp_path) -> Path:
    """The golden grid as if it had trained on stacked-mnist: each ok cell's final evaluation
    carries modes and a reverse KL, its outcome by the stacked rule; seeds renumbered 0..7 so
    that the claims file's one configuration (data = stacked-mnist) has 8 distinct seeds."""
    from bench.outcome_rule import stacked_outcome

    run = copy_golden(tmp_path)
    ok = sorted(p.parent for p in run.glob("*/summary.json")
                if json.loads(p.read_text()).get("status") == "ok")
    assert len(ok) == len(STACKED_FINALS)
    for seed, (cell, (modes, thresholded, kl)) in enumerate(zip(ok, STACKED_FINALS)):
        config = json.loads((cell / "config.json").read_text())
        (cell / "config.json").write_text(json.dumps({**config, "data": "stacked-mnist",
                                                      "seed": seed}))
        summary = json.loads((cell / "summary.json").read_text())
        final = summary["final"]
        # the golden cell's confidence and coverage, read as the channels' own
        confident = 0.1 if final["outcome"] == "not_converged" else 0.9
        least = final["classes_covered"]
        final.update(stacked_n=26000, modes=modes, modes_thresholded=thresholded, reverse_kl=kl,
                     all_channels_confident=confident, channel_classes_min=least,
                     outcome=stacked_outcome(confident, least, thresholded))
        (cell / "summary.json").write_text(json.dumps(summary))
    return run


def test_stacked_runs_show_modes_per_seed_beside_the_published_rows(tmp_path):
    run = stacked_copy(tmp_path)
    report = render_report([run], tmp_path / "report",
                           claims_file=Path(__file__).parent.parent / "runs" / "claims"
                           / "stacked-pacgan.toml").parent
    assert {"stacked_modes.png", "stacked_modes.csv", "stacked_published.csv"} <= {
        p.name for p in report.iterdir()}
    rows = read_csv(report / "stacked_modes.csv")
    assert sorted(int(float(r["final_modes"])) for r in rows) == sorted(m for m, _, _ in STACKED_FINALS)
    collapsed = {int(float(r["final_modes_thresholded"])) for r in rows
                 if r["final_outcome"] == "mode_collapse"}
    # the rule reads the thresholded count: 8, 15, 40 and 90 collapse, though 77-95 modes read
    assert {8, 15, 40, 90} <= collapsed
    published = read_csv(report / "stacked_published.csv")
    assert published[0]["modes"] == "78.9" and published[0]["modes SE"] == "6.46"
    page = (report / "index.html").read_text()
    assert "Stacked MNIST: modes, collapse and the published rows" in page
    # an arm per configuration (the tutorial's model: no published row), its collapse rate
    # among its seeds with an outcome, with scipy's exact interval computed here from its counts
    from scipy import stats

    arms = read_csv(report / "stacked_arms.csv")
    outcomes = [r["final_outcome"] for r in rows]
    assert sum(int(a["seeds"]) for a in arms) == 8
    assert sum(int(a["collapsed"]) for a in arms) == outcomes.count("mode_collapse") >= 4
    assert sum(int(a["judged"]) for a in arms) == len(outcomes)
    assert sum(int(a["not_converged"]) for a in arms) == outcomes.count("not_converged")
    for arm in arms:
        assert arm["published"] == ""
        if int(arm["judged"]):
            ci = stats.binomtest(int(arm["collapsed"]), int(arm["judged"])).proportion_ci(
                0.95, method="exact")
            assert float(arm["rate low"]) == pytest.approx(ci.low)
            assert float(arm["rate high"]) == pytest.approx(ci.high)
    # the claims file's three claims are judged on these seeds: 8 values of modes, mean 344.6
    verdicts = {r["claim"]: r for r in read_csv(report / "claims.csv")}
    assert verdicts["modes-as-pacgan-dcgan"]["verdict"] == "inconclusive"
    assert "mean 344.6 over 8 seeds" in verdicts["modes-as-pacgan-dcgan"]["evidence"]


def test_a_run_without_stacked_cells_has_no_stacked_section_or_columns(golden_report):
    assert not (golden_report / "stacked_modes.png").exists()
    assert "modes" not in " ".join(read_csv(golden_report / "cells.csv")[0])
    assert "final_modes" not in read_csv(golden_report / "final_metrics.csv")[0]


def test_a_run_whose_cells_all_trained_under_jax_renders(tmp_path):
    """Every cell under one framework other than TensorFlow (a GPU machine's run): the framework
    is a constant coordinate, said once, and the cell table has no column for it. This report
    used to fail with KeyError ['framework'] (found on the first all-JAX run from a GPU)."""
    run = copy_golden(tmp_path)
    for path in run.glob("*/config.json"):
        path.write_text(json.dumps({**json.loads(path.read_text()), "framework": "jax"}))
    report = render_report([run], tmp_path / "report").parent
    assert "framework" not in read_csv(report / "cells.csv")[0]
    assert "jax" in (report / "index.html").read_text()


def test_a_run_whose_cells_share_a_model_packing_and_program_renders(tmp_path):
    """Every cell of one PacGAN arm, under the study program: each a constant coordinate, said
    once, no column for any. This report failed with KeyError 'model' at the end of the first
    fresh-clone `tox -e bench-pacgan` (68 minutes of training, then no report)."""
    run = copy_golden(tmp_path)
    for path in run.glob("*/config.json"):
        path.write_text(json.dumps({**json.loads(path.read_text()), "model": "unrolled-dcgan",
                                    "d_width": 0.5, "packing_m": 2, "program": "study"}))
    report = render_report([run], tmp_path / "report").parent
    columns = read_csv(report / "cells.csv")[0]
    assert not {"model", "packing", "D width", "program"} & set(columns)
    page = html.unescape((report / "index.html").read_text())
    assert ("Common to all cells: DCGAN (PacGAN Table 3) · packed 2 · D width 0.5 · study "
            "program ·") in page


def test_the_environment_names_each_cells_framework_and_its_version(tmp_path, golden_report):
    """The environment table says which framework a cell trained under (its label) and that
    framework's version; a schema-3 env.json, which kept the version under the framework's own
    name (`"jax": "0.10.2"`), is migrated on read and shows it the same way."""
    (row,) = read_csv(golden_report / "environment.csv")
    assert (row["framework"], row["framework_version"], row["cells"]) == ("TensorFlow", "2.21.0",
                                                                           "10")
    assert "tensorflow" not in row
    run = copy_golden(tmp_path)
    for path in run.glob("*/config.json"):
        path.write_text(json.dumps({**json.loads(path.read_text()), "framework": "jax"}))
    for path in run.glob("*/env.json"):
        env = {k: v for k, v in json.loads(path.read_text()).items()
               if k not in ("tensorflow", "framework_version")}
        path.write_text(json.dumps({**env, "schema_version": 3, "framework": "jax",
                                    "jax": "0.10.2"}))
    report = render_report([run], tmp_path / "report").parent
    (row,) = read_csv(report / "environment.csv")
    assert (row["framework"], row["framework_version"]) == ("JAX", "0.10.2")
    page = (report / "index.html").read_text()
    assert "framework version" in page and "0.10.2" in page
