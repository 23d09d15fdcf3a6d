"""A spec's nights on one machine, configuration by configuration: where a slowdown began, which
regressions are still open, and what a person accepted.

The pairwise comparison (bench.analysis.compare) says whether tonight is slower than the last good
night. Over many nights two more things matter:
- a slide of a few percent a night never crosses the margin between two nights: each
  configuration's series of nightly throughputs (the median over seeds of each cell's median
  images/s) runs through a CUSUM (bench.analysis.changepoints), which finds a shift and dates it
  to the night it began;
- a regression is reported once, on the night it is found, dated to the night it began, and then
  carried as "open since night k": not raised again every night until it is fixed (the level is
  back) or accepted (`dcgan-bench history accept RUN`: the run becomes the new baseline and the
  new reference level, with who accepted it, when and why).

The night-to-night noise each configuration is judged against pools its own good nights (robust:
the median absolute deviation of successive log throughputs, scaled to a standard deviation) with
the value measured on real A/A nights (bench.analysis.throughput.NIGHT_NOISE), weighed as
PRIOR_NIGHTS nights. A night judged slow in a configuration is left out of its noise: on real
nights, one slowed night among four made the learned noise three times the real one and let the
next slowed night through. Pure: runs in, states out; nothing here imports
TensorFlow.
"""

import math

import numpy as np
import pandas as pd

from bench import schema
from bench.analysis import throughput
from bench.analysis.cells import stable_label
from bench.analysis.changepoints import find_shifts, reference_level

PRIOR_NIGHTS = 8  # the measured default's weight, in nights, beside a configuration's own
MAD_TO_SD = 1.4826  # a normal distribution's sd per median absolute deviation


def night_throughput(results: pd.DataFrame) -> dict:
    """Configuration label -> the night's throughput: the median over ok cells of each cell's
    median images/s."""
    ok = results[results["status"] == schema.STATUS_OK]
    values = {}
    for _, row in ok.iterrows():
        ips = row.get(schema.IMAGES_PER_SEC_MEDIAN)
        if ips is not None and not pd.isna(ips):
            values.setdefault(stable_label(row), []).append(float(ips))
    return {config: float(np.median(v)) for config, v in values.items()}


def good_nights(earlier: list, config: str) -> list[float]:
    """A configuration's throughput on the earlier nights that were not judged slow in it.
    `earlier`: (run id, night_throughput, configurations judged slow that night)."""
    return [values[config] for _, values, flagged in earlier
            if config in values and config not in flagged]


def night_noise(values: list[float]) -> tuple[float, str]:
    """The standard deviation of log(night / night before) for a configuration: its own nights'
    (the successive differences' median absolute deviation, scaled: robust to a step among them),
    pooled with the measured default as if that were PRIOR_NIGHTS nights, so that a handful of
    quiet nights cannot make the threshold too tight."""
    default = throughput.NIGHT_NOISE
    n = len(values) - 1
    if n < 2:
        return default, throughput.NIGHT_NOISE_SOURCE
    diffs = np.diff(np.log(values))
    own = float(np.median(np.abs(diffs - np.median(diffs))) * MAD_TO_SD)
    pooled = math.sqrt((n * own * own + PRIOR_NIGHTS * default * default) / (n + PRIOR_NIGHTS))
    return pooled, (f"{own:.1%} from its {n + 1} nights here, pooled with the default "
                    f"{default:.1%} as {PRIOR_NIGHTS} nights")


def judge_nights(nights: list[tuple[str, dict, set]], previous_open: dict, pairwise: dict,
                 noise: dict, margin: float, accepted: dict | None = None) -> dict:
    """Tonight's state of every configuration. `nights`: (run id, night_throughput, the
    configurations that night was judged slow in) from the reference night (the accepted run,
    or the first) to tonight, oldest first; `previous_open`: configuration -> the open
    regression carried from last night; `pairwise`: configuration -> tonight's pairwise
    throughput verdict (bench.analysis.throughput); `noise`: configuration ->
    (night noise, where it comes from), night_noise of its good nights; `accepted`: the
    reference night where a person accepted it ({run, by, why, at}): a regression open since
    that night or before is closed as `accepted`, with who and why, not as `fixed`.

    A configuration whose pairwise verdict tonight is `inconclusive` (contended windows) is not
    judged tonight: `contended`, or still `open` where it was.

    Returns configuration -> {state: new | open | fixed | accepted | contended | ok, since,
    found, ratio, noise, ...}."""
    tonight = len(nights) - 1
    out = {}
    for config in nights[-1][1]:
        series = [(run, values[config], config in flagged) for run, values, flagged in nights
                  if config in values]
        ids, values = [r for r, _, _ in series], [v for _, v, _ in series]
        judged_slow = [slow for _, _, slow in series]
        sigma, source = noise[config]
        bar = throughput.threshold(sigma, margin)
        # sigma is the noise of a ratio of two nights; one night's own noise is 1 / sqrt(2) of it
        shifts = find_shifts(values, sigma / math.sqrt(2), judged_slow=judged_slow,
                             margin=margin)
        state = {"noise": sigma, "noise_source": source, "threshold": bar, "nights": len(values)}
        open_before = previous_open.get(config)
        logs = np.log(values)
        level = math.exp(logs[-1] - reference_level(logs, 0, max(1, len(logs) - 1), judged_slow))
        pair = pairwise.get(config)
        if pair and pair["verdict"] == schema.VERDICT_INCONCLUSIVE:
            # tonight's level measured the machine: nothing found, nothing fixed
            out[config] = {**state, "ratio": level, "how": pair.get("why", ""),
                           **({"state": "open", "since": open_before["since"],
                               "found": open_before["found"]} if open_before else
                              {"state": schema.NIGHT_CONTENDED})}
            continue
        if open_before and accepted and open_before["since"] not in ids[1:]:
            out[config] = {**state, "state": "accepted", "since": open_before["since"],
                           "ratio": level, "accepted": accepted}
            continue
        if open_before:
            # fixed: no longer slower by the bar that flags a regression, and the change-point
            # detector has seen the level come back (its own hysteresis: a large shift ends
            # only on a night clearly off its level). A stricter level (half the bar) left a
            # normal night 5.9% below the last good one open on the real A/A nights (README).
            if level >= 1 - bar and not (shifts and shifts[-1].recovered is None):
                out[config] = {**state, "state": "fixed", "since": open_before["since"],
                               "ratio": level}
            else:
                out[config] = {**state, "state": "open", "since": open_before["since"],
                               "found": open_before["found"], "ratio": level}
            continue
        # an open shift not carried from last night is new tonight, even where tonight's better
        # noise estimate puts its alarm on an earlier night. It is a regression once it is as
        # large as the margin, the least slowdown worth reporting (a pair of nights is held to
        # the same): on real A/A nights the machine itself slid 1-2% a night, and a 2.6% shift
        # was raised. A smaller one is said beside the state, not raised.
        open_shift = shifts and shifts[-1].recovered is None
        new_shift = open_shift and shifts[-1].ratio <= 1 - margin
        if open_shift and not new_shift:
            state["below_margin"] = {"since": ids[shifts[-1].began], "ratio": shifts[-1].ratio}
        if open_shift and not new_shift and shifts[-1].chain_began is not None:
            state["below_margin"]["since"] = ids[shifts[-1].chain_began]
        if new_shift:
            shift = shifts[-1]
            began = shift.began if shift.chain_began is None else shift.chain_began
            out[config] = {**state, "state": "new", "since": ids[began],
                           "found": nights[tonight][0], "ratio": shift.ratio,
                           "how": "change point"}
        elif pair and pair["verdict"] == schema.VERDICT_REGRESSION:
            out[config] = {**state, "state": "new", "since": nights[tonight][0],
                           "found": nights[tonight][0], "ratio": pair["ratio"],
                           "how": "against the last good night"}
        else:
            out[config] = {**state, "state": "ok", "ratio": level}
    return out
