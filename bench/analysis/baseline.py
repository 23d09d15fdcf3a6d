"""The baseline policy: which earlier run of the history a night is held to.

    baseline = last_good(candidate, db)      # a Run, or None on a machine's first night
    nights = nights_since_reference(candidate, db)

`last-good` (the nightly job's baseline, LAST_GOOD) is the newest run of the candidate's spec,
started before it, on the same machines (throughput compares only within one machine
fingerprint: bench.machine), whose night was not judged bad (`regression`, `open`, or an older
history's `drift`: schema.BAD_VERDICTS; nor an inconclusive one, whose windows measured a busy
machine: schema.NOT_A_BASELINE) or that a person accepted (`dcgan-bench history accept`).
The nights a configuration's series is judged on run from the newest accepted run before the
candidate (or the spec's first run on those machines) up to the candidate.

Where runs are kept and how they are read back is the history's (bench.analysis.history); what
is compared and recorded, the verdict policy's (bench.analysis.verdicts). Nothing here imports
TensorFlow.
"""

from pathlib import Path

from bench import schema
from bench.analysis.history import default_db, history_to_run, list_runs
from bench.analysis.runs import Run, run_machines

LAST_GOOD = "last-good"


def good_runs(spec_sha256: str, db=None, before: str | None = None) -> list[dict]:
    """Runs of one spec without a regression, open-regression or drift verdict, or accepted by a
    person, newest first; only those started before `before` (an ISO time) when given."""
    runs = [r for r in list_runs(db) if r["spec_sha256"] == spec_sha256
            and (r["verdict"] not in schema.NOT_A_BASELINE or r["accepted_at"])
            and (before is None or r["started"] < before)]
    return runs[::-1]


def nights_since_reference(candidate: Run, db=None) -> list[dict]:
    """The history's runs of the candidate's spec and machines, oldest first, from the newest
    accepted one before the candidate (or the first) up to the candidate, the candidate included
    when it is in the history."""
    machines = set(run_machines(candidate.info))
    same = [r for r in list_runs(db) if r["spec_sha256"] == candidate.info["spec_sha256"]
            and set(run_machines(r)) == machines
            and (r["started"] < candidate.info["started"] or r["id"] == candidate.id)]
    start = max((i for i, r in enumerate(same) if r["accepted_at"]), default=0)
    return same[start:]


def _good_before(candidate: Run, db) -> list[dict]:
    """Good runs of the candidate's spec before it, newest first, on the candidate's machines."""
    machines = set(run_machines(candidate.info))
    return [r for r in good_runs(candidate.info["spec_sha256"], db,
                                 before=candidate.info["started"])
            if r["id"] != candidate.id and set(run_machines(r)) == machines]


def last_good(candidate: Run, db=None) -> Run | None:
    """The newest run of the candidate's spec on the same machines, started before it, with no
    bad verdict or accepted; None when the history has none (the first night there)."""
    if not Path(db or default_db()).is_file():
        return None
    good = _good_before(candidate, db)
    return history_to_run(good[0]["id"], db) if good else None
