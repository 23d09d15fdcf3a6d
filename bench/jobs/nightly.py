"""The nightly job: one function, what `dcgan-bench nightly SPEC` and `tox -e nightly` run.

    grid SPEC -> history ingest -> compare with last-good -> report -> trend

With `ab` (`--ab REV`), throughput is judged by an A/B in one run in place of last night's
record: after tonight's grid, REV (a git revision, or `last-good`: the commit of the last good
night) and this checkout's HEAD train the spec's throughput part round after round, interleaved
(bench.jobs.continuous), and their pairs give the throughput verdict; quality and cells are still
judged against the last good night.

The run is read from its directory once and the same `Run` is ingested, compared and reported.
A grid with failed cells goes on: the comparison lists them (a cell ok last night and failed
tonight is a regression). An interrupted grid stops the job: half a night is not a night. The
report and the trend page are rendered whatever the verdict. Pages go to REPORTS/<spec stem>
(the night's report), REPORTS/<spec stem>-compare and REPORTS/trend.
"""

from dataclasses import dataclass
from pathlib import Path

from bench import schema
from bench.analysis import history
from bench.analysis.baseline import LAST_GOOD, last_good
from bench.analysis.cells import results_to_cells
from bench.analysis.runs import run_dir_to_run
from bench.analysis.verdicts import Judgement, Thresholds, judge_run
from bench.grid.run import EXIT_INTERRUPTED, run_grid
from bench.grid.spec import load_spec
from bench.jobs import continuous
from bench.report.comparison import comparison_text, write_comparison
from bench.report.render import render_cells
from bench.report.trend import render_trend


@dataclass
class Night:
    """What one night left: its run directory, the grid's exit code, the comparison, the pages."""

    run_dir: Path
    grid_exit_code: int
    judgement: Judgement | None = None
    pages: dict | None = None
    ab: dict | None = None  # the A/B's record (bench.jobs.continuous.run_continuous)

    @property
    def exit_code(self) -> int:
        """0 ok; 1 a regression found tonight; 130 the grid was interrupted."""
        if self.judgement is None:
            return self.grid_exit_code
        # the first night has no last good night to be judged against, but its A/B stands
        ab_slower = self.judgement.result is None and self.ab is not None and any(
            v["verdict"] == schema.VERDICT_REGRESSION for v in self.ab["verdicts"].values())
        return 1 if self.judgement.bad or ab_slower else 0


def inconclusive_line(run, db) -> str:
    """The nightly job's own line for a night too contended to judge: marked, and counted."""
    nights = [r for r in history.list_runs(db) if r["spec_sha256"] == run.info["spec_sha256"]]
    marked = sum(r["verdict"] == schema.VERDICT_INCONCLUSIVE for r in nights)
    return (f"nightly: INCONCLUSIVE: {run.id} was too contended to judge its throughput (not a "
            f"pass, and no baseline for tomorrow); {marked} of this spec's {len(nights)} nights "
            "in the history are inconclusive")


def ab_baseline(ab: str, run, db, say) -> str | None:
    """The revision the A/B runs as its baseline: `ab` itself, or the last good night's commit
    for `last-good` (None, said, where there is none to run)."""
    if ab != LAST_GOOD:
        return ab
    good = last_good(run, db)
    commit = good.info.get("harness_commit") if good else None
    if not commit or commit == "unknown":
        say("nightly: no A/B tonight: " + (f"the last good night {good.id} recorded no commit"
                                          if good else "no earlier good night in the history")
            + "; throughput is judged against the record instead")
        return None
    return commit


def run_nightly(spec_path, db=None, reports=schema.REPORTS_ROOT, *, launcher=None,
                thresholds: Thresholds | None = None, say=print, ab: str | None = None,
                ab_rounds: int = 6, repo: Path = Path("."), ab_out: Path | None = None,
                on_round=None) -> Night:
    """Run tonight's grid of `spec_path` and judge it against the history; `say` gets each line
    a person would read. `ab`: a git revision (or `last-good`) whose A/B against `repo`'s HEAD
    judges throughput, `ab_rounds` rounds, its runs in `ab_out` (default
    runs/continuous/<spec stem>-<tonight's run>); `on_round(r)` before each of its rounds (tests
    change the machine there). BenchError (before anything runs) for a bad
    spec, or for `ab` with uncommitted changes to the harness."""
    spec = load_spec(spec_path)
    thresholds = thresholds or Thresholds()
    if ab is not None:
        continuous.check_rounds(ab_rounds, "--ab-rounds")
        continuous.clean_head(repo)
    grid = run_grid(spec, launcher=launcher)
    night = Night(grid.run_dir, grid.exit_code)
    if grid.exit_code == EXIT_INTERRUPTED:
        return night
    run = run_dir_to_run(grid.run_dir)
    run_id, new = history.ingest_run(run, db)
    say(f"{'ingested' if new else 'already in the history, unchanged'}: {run_id}")
    stem, reports = Path(spec_path).stem, Path(reports)
    night.pages = {"comparison": reports / f"{stem}-compare", "report": reports / stem,
                   "trend": reports / "trend"}
    base = ab_baseline(ab, run, db, say) if ab is not None else None
    if base is not None:
        out = ab_out or Path("runs") / "continuous" / f"{stem}-{Path(grid.run_dir).name}"
        night.ab = continuous.run_continuous(repo, base, "HEAD", Path(spec_path), ab_rounds, out,
                                             thresholds.margin, say, on_round=on_round)
        say(f"A/B written: {out / continuous.RESULT_FILE}")
    night.judgement = judge_run(run, LAST_GOOD, db, thresholds, ab=night.ab)
    if night.judgement.result is None and night.ab is not None:
        say("A/B (no last good night to judge the rest against):\n"
            + continuous.verdicts_text(night.ab["verdicts"]))
    if night.judgement.result is not None:
        say(comparison_text(night.judgement.result))
        write_comparison(night.judgement.result, night.pages["comparison"])
    for note in night.judgement.notes:
        say(note)
    if night.judgement.result is not None and \
            night.judgement.result["verdict"] == schema.VERDICT_INCONCLUSIVE:
        say(inconclusive_line(run, db))
    render_cells(results_to_cells(run.results), night.pages["report"], [grid.run_dir])
    render_trend(db, night.pages["trend"])
    say("nightly: " + ", ".join(f"{name} {path}/index.html" for name, path in night.pages.items()))
    return night
