"""The verdict policy: which runs a candidate is judged against, and what the history keeps.

    judgement = judge_run(candidate, "last-good", db, Thresholds())

- An explicit baseline (a run directory or a history id): the two runs are compared
  (bench.analysis.compare) and nothing is recorded.
- `last-good` (the nightly job's baseline): the newest earlier run of the candidate's spec on the
  same machines whose night was good, or that a person accepted. On top of that pairwise
  comparison, the nights since the reference (the accepted run, or the first) are judged
  configuration by configuration (bench.analysis.nights): a slide found by the change-point
  detector, dated to the night it began; a regression reported once and then carried as `open`
  until it is fixed or accepted. The night's verdict is `regression` (something new tonight),
  `open` (only carried ones) or `ok`, recorded in the history with every configuration's state.
  The first run of a spec on a machine has no baseline: it becomes the next one's.
- `last-good` with an A/B (`ab`: the record of bench.jobs.continuous.run_continuous, the nightly
  job's `--ab`): throughput is judged by the A/B's interleaved pairs in place of last night's
  record, and the nights' chain of throughput states is not kept (each A/B stands on its own);
  quality and cells are judged against the last good night as above.

The command line (`dcgan-bench compare`) and the nightly job (bench.jobs.nightly) both come
here. Nothing here imports TensorFlow.
"""

from dataclasses import dataclass, field, replace

from bench import schema
from bench.analysis import compare, history, nights
from bench.analysis.baseline import LAST_GOOD, last_good, nights_since_reference
from bench.analysis.machines import SAME_MACHINE
from bench.analysis.runs import Run, run_machines
from bench.errors import BenchError


@dataclass(frozen=True)
class Thresholds:
    alpha: float = compare.ALPHA  # the quality family's level
    margin: float = compare.MARGIN  # throughput's least slowdown

    def __post_init__(self):
        if not 0 < self.alpha < 1:
            raise BenchError(f"--alpha: expected a probability between 0 and 1, found {self.alpha}")
        if not 0 <= self.margin < 1:
            raise BenchError(f"--margin: expected a fraction in [0, 1), found {self.margin}")


@dataclass
class Judgement:
    """A comparison's result (None when there was no baseline) and what was said about it."""

    result: dict | None
    notes: list[str] = field(default_factory=list)

    @property
    def bad(self) -> bool:
        """Something new went wrong tonight: the nightly job and `compare` exit 1. A regression
        carried from an earlier night (`open`) was reported then, and is not raised again."""
        return self.result is not None and self.result["verdict"] == schema.VERDICT_REGRESSION


def judge_run(candidate: Run, baseline_ref: str, db=None, thresholds: Thresholds | None = None,
              scope: str = SAME_MACHINE, ab: dict | None = None) -> Judgement:
    """Compare `candidate` with `baseline_ref` (a run directory, a history id, or
    LAST_GOOD) under the policy above; `ab`, with LAST_GOOD only: an A/B's record that judges
    throughput. BenchError when the runs do not compare."""
    thresholds = thresholds or Thresholds()
    if baseline_ref != LAST_GOOD:
        return Judgement(compare.compare_runs(history.resolve_run(baseline_ref, db), candidate,
                                              alpha=thresholds.alpha, margin=thresholds.margin,
                                              scope=scope))
    # the history's id for this very run: its folder's name, unless another run held that name
    kept = history.kept_id(candidate, db)
    if kept is not None and kept != candidate.id:
        candidate = replace(candidate, id=kept, info={**candidate.info, "id": kept})
    baseline = last_good(candidate, db)
    if baseline is None:
        machines = ", ".join(run_machines(candidate.info)) or "an unrecorded machine"
        return Judgement(None, [f"no earlier good run of {candidate.info['spec_name']!r} on this "
                                f"machine ({machines}) in the history: {candidate.id} is the "
                                "first, and the baseline of the next"])
    earlier = [r for r in nights_since_reference(candidate, db) if r["id"] != candidate.id]
    previous = history.open_regressions(earlier[-1]) if earlier else {}
    # the accepted reference closes what was open since it or before: said as accepted
    accepted = {"run": earlier[0]["id"], "by": earlier[0]["accepted_by"],
                "why": earlier[0]["accepted_why"], "at": earlier[0]["accepted_at"]} \
        if earlier and earlier[0]["accepted_at"] else None
    result = judge_night(baseline, candidate,
                         [(r["id"], _judged_levels(r, db), set(history.open_regressions(r)))
                          for r in earlier],
                         previous, thresholds, scope, accepted, ab)
    judgement = Judgement(result)
    if kept is None:
        judgement.notes.append(f"{candidate.id} is not in the history: its verdict is not "
                               "recorded (`dcgan-bench history ingest` it first)")
    elif scope == SAME_MACHINE:
        history.record_verdict(candidate.id, baseline.id, result["verdict"], {
            "alpha": thresholds.alpha, "margin": thresholds.margin, "reasons": result["reasons"],
            "open": open_map(result), "contended": contended_configs(result),
            "nights": result["nights"], **({"ab": ab_summary(ab)} if ab else {})}, db)
    return judgement


def judge_night(baseline: Run, candidate: Run, earlier: list, previous_open: dict,
                thresholds: Thresholds, scope: str = SAME_MACHINE,
                accepted: dict | None = None, ab: dict | None = None) -> dict:
    """Tonight against the last good night, and the nights since the reference: the pure core
    of the `last-good` policy (the history supplies its inputs). `earlier`: (run id,
    nights.night_throughput, the configurations that night was judged slow in) of the nights
    from the reference up to last night, oldest first; `previous_open`: last night's open
    regressions; `accepted`: who accepted the reference night, and why, if a person did; `ab`:
    an A/B's record, which judges throughput in place of the record and the nights."""
    if ab is not None:
        result = compare.compare_runs(baseline, candidate, alpha=thresholds.alpha,
                                      margin=thresholds.margin, scope=scope)
        result["throughput"], result["nights"] = [], {}
        result["ab"] = ab_summary(ab)
        result["verdict"], result["reasons"] = compare.overall_verdict(result)
        _night_verdict(result)
        return result
    series = earlier + [(candidate.id, nights.night_throughput(candidate.results), set())]
    noise = {config: nights.night_noise(nights.good_nights(earlier, config))
             for config in series[-1][1]}
    result = compare.compare_runs(baseline, candidate, alpha=thresholds.alpha,
                                  margin=thresholds.margin, noise=noise, scope=scope)
    pairwise = {t["key"]: t for t in result["throughput"]}
    result["nights"] = nights.judge_nights(series, previous_open, pairwise, noise,
                                           thresholds.margin, accepted)
    _night_verdict(result)
    return result


def _judged_levels(night: dict, db) -> dict:
    """An earlier night's throughput by configuration, without those it was too contended to
    judge: their level measured the machine, and stays out of later noise and levels."""
    contended = set(history.verdict_details(night).get("contended") or ())
    return {config: value for config, value in
            nights.night_throughput(history.run_results(night["id"], db)).items()
            if config not in contended}


def contended_configs(result: dict) -> list:
    """The configurations a night could not judge: contended windows (bench.analysis.nights)."""
    return [c for c, s in result["nights"].items() if s["state"] == schema.NIGHT_CONTENDED
            or (s["state"] == "open" and s.get("how") and "contended" in s["how"])]


def open_map(result: dict) -> dict:
    """The regressions a night leaves open, as the history keeps them for the next night: the
    configurations it was judged slow in (their nights stay out of later noise and levels)."""
    return {c: {"since": s["since"], "found": s.get("found", result["candidate"])}
            for c, s in result["nights"].items() if s["state"] in schema.NIGHT_SLOW_STATES}


def ab_summary(ab: dict) -> dict:
    """What a night keeps of its A/B: the revisions, where its runs are, and each
    configuration's verdict without the rounds' levels."""
    return {"revisions": ab["revisions"], "out": ab["out"], "rounds": len(ab["rounds"]),
            "margin": ab["margin"],
            "verdicts": {c: {k: v for k, v in verdict.items() if k != "levels"}
                         for c, verdict in ab["verdicts"].items()}}


def _ab_findings(result: dict) -> tuple[list, list]:
    """The A/B's regressions and its configurations it could not judge, as reasons."""
    ab = result.get("ab")
    if not ab:
        return [], []
    base = ab["revisions"]["baseline"]["commit"][:10]
    slower = [f"throughput {c}: {v['ratio']:.3f}x [{v['ci_low']:.3f}, {v['ci_high']:.3f}] of "
              f"revision {base}, A/B over {v['pairs']} interleaved pairs (margin "
              f"{v['margin']:.0%})"
              for c, v in ab["verdicts"].items() if v["verdict"] == schema.VERDICT_REGRESSION]
    unjudged = [f"throughput {c}: A/B inconclusive ({v['why']})"
                for c, v in ab["verdicts"].items() if v["verdict"] == schema.VERDICT_INCONCLUSIVE]
    return slower, unjudged


def _night_verdict(result: dict):
    """The night's verdict from its configurations' states (or its A/B) and the pairwise quality
    and cell findings: `regression` for anything new tonight, `open` for carried ones only,
    `inconclusive` where throughput could not be judged, else `ok`."""
    states = result["nights"]
    ab_slower, ab_unjudged = _ab_findings(result)
    new = [f"throughput {c}: {s['ratio']:.3f}x of the reference since {s['since']} ({s['how']}; "
           f"threshold {s['threshold']:.0%}, night noise {s['noise']:.1%})"
           for c, s in states.items() if s["state"] == "new"] + ab_slower
    others = [r for r in result["reasons"] if not r.startswith("throughput ")]
    carried = [f"throughput {c}: open since {s['since']} ({s['ratio']:.3f}x of the reference)"
               for c, s in states.items() if s["state"] == "open"]
    contended = [f"throughput {c}: inconclusive, {s['how']}" for c, s in states.items()
                 if s["state"] == schema.NIGHT_CONTENDED] + ab_unjudged
    if new or others:
        result["verdict"], result["reasons"] = schema.VERDICT_REGRESSION, new + others
    elif carried:
        result["verdict"], result["reasons"] = schema.VERDICT_OPEN, carried
    elif contended:  # never a silent pass: the night is marked, and no baseline for the next
        result["verdict"], result["reasons"] = schema.VERDICT_INCONCLUSIVE, contended
    else:
        result["verdict"], result["reasons"] = schema.VERDICT_OK, []
    result["open"] = carried
