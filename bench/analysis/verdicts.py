"""The verdict policy: which runs a candidate is judged against, and what the history keeps.

    judgement = judge_run(candidate, "last-good", db, Thresholds())

- An explicit baseline (a run directory or a history id) is compared with the candidate, and
  nothing is recorded.
- `last-good` (the nightly job's baseline) is the newest earlier run of the candidate's spec in
  the history with no regression or drift verdict; the drift base is the oldest of the last
  `drift_nights` such runs. The verdict is recorded in the history, where `last-good` and the
  trend page read it. The first run of a spec has no baseline: it becomes the next one's.

The statistics are bench.analysis.compare's; the command line (`dcgan-bench compare`) and the
nightly job (bench.jobs.nightly) both come here. Nothing here imports TensorFlow.
"""

from dataclasses import dataclass, field

from bench import schema
from bench.analysis import compare, history
from bench.analysis.machines import SAME_MACHINE
from bench.analysis.runs import Run, run_machines
from bench.errors import BenchError


@dataclass(frozen=True)
class Thresholds:
    alpha: float = compare.ALPHA
    margin: float = compare.MARGIN
    drift_nights: int = compare.DRIFT_NIGHTS

    def __post_init__(self):
        if not 0 < self.alpha < 1:
            raise BenchError(f"--alpha: expected a probability between 0 and 1, found {self.alpha}")
        if not 0 <= self.margin < 1:
            raise BenchError(f"--margin: expected a fraction in [0, 1), found {self.margin}")
        if self.drift_nights < 1:
            raise BenchError(f"--drift-nights: expected at least 1, found {self.drift_nights}")


@dataclass
class Judgement:
    """A comparison's result (None when there was no baseline) and what was said about it."""

    result: dict | None
    notes: list[str] = field(default_factory=list)

    @property
    def bad(self) -> bool:
        """A regression or drift: the nightly job and `compare` exit 1."""
        return self.result is not None and self.result["verdict"] in schema.BAD_VERDICTS


def judge_run(candidate: Run, baseline_ref: str, db=None, thresholds: Thresholds | None = None,
              scope: str = SAME_MACHINE) -> Judgement:
    """Compare `candidate` with `baseline_ref` (a run directory, a history id, or
    history.LAST_GOOD) under the policy above. BenchError when the runs do not compare (see
    bench.analysis.machines for `scope`). A verdict across machines is never recorded: the
    history keeps like-for-like verdicts only."""
    thresholds = thresholds or Thresholds()
    nightly = baseline_ref == history.LAST_GOOD
    baseline = history.last_good(candidate, db) if nightly else \
        history.resolve_run(baseline_ref, db)
    if baseline is None:
        machines = ", ".join(run_machines(candidate.info)) or "an unrecorded machine"
        return Judgement(None, [f"no earlier good run of {candidate.info['spec_name']!r} on this "
                                f"machine ({machines}) in the history: {candidate.id} is the "
                                "first, and the baseline of the next"])
    drift_base = history.drift_base(candidate, thresholds.drift_nights, db) if nightly else None
    result = compare.compare_runs(baseline, candidate, drift_base=drift_base,
                                  alpha=thresholds.alpha, margin=thresholds.margin, scope=scope)
    judgement = Judgement(result)
    if nightly and not history.has_run(candidate.id, db):
        judgement.notes.append(f"{candidate.id} is not in the history: its verdict is not "
                               "recorded (`dcgan-bench history ingest` it first)")
    elif nightly and scope == SAME_MACHINE:
        history.record_verdict(candidate.id, baseline.id, result["verdict"],
                               {"alpha": thresholds.alpha, "margin": thresholds.margin,
                                "reasons": result["reasons"], "drift_base": result["drift_base"]},
                               db)
    return judgement
