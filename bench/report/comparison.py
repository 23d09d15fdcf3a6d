"""A comparison's verdicts as people read them: a terminal table, summary.md and an HTML page.

`comparison_tables` turns the result of bench.analysis.compare.compare_runs into DataFrames; the
terminal, Markdown and HTML outputs show the same tables, with the thresholds beside the verdict.
Nothing here imports TensorFlow.
"""

import json

import pandas as pd

from bench import records, schema
from bench.analysis import machines
from bench.literal import printable
from bench.report import html as report_html
from bench.report.publish import publish

VERDICT_WORDS = {schema.VERDICT_OK: "ok: nothing new is slower or worse",
                 schema.VERDICT_REGRESSION: "REGRESSION",
                 schema.VERDICT_OPEN: "open: a regression found on an earlier night is not yet "
                                      "fixed or accepted",
                 schema.VERDICT_DRIFT: "DRIFT: a cumulative slowdown beyond the margin",
                 schema.VERDICT_INCONCLUSIVE: "INCONCLUSIVE: nothing found slower or worse, "
                                              "but throughput too contended to judge"}


def _p_text(test) -> str:
    """The p-value, exact where the test is (a fraction), with its method."""
    exact = test.get("p_exact")
    if exact is not None and exact.denominator < 10 ** 7:
        return f"{float(exact):.3g} (= {exact}, {test['method']})"
    return f"{test['p']:.3g} ({test['method']})"


def _why(test) -> str:
    return test["verdict"] + (f" ({test['why']})" if test.get("why") else "")


def _contention_text(side: dict | None) -> str:
    """One side's measured windows: contended of measured, the median share others took."""
    if not side or not side["windows"]:
        return "-"
    if side["not_measured"] == side["windows"]:
        return "not measured"
    return f"{side['contended']}/{side['windows']} ({side['share_median']:.0%})"


def _throughput_frame(tests) -> pd.DataFrame:
    def judged(t, text):
        return text if t["ratio"] is not None else "-"

    rows = [{"configuration": t["config"], "runs": t["runs"],
             "baseline images/s": judged(t, t["baseline_median"] and
                                         f"{t['baseline_median']:.1f}"),
             "candidate images/s": judged(t, t["candidate_median"] and
                                          f"{t['candidate_median']:.1f}"),
             "ratio [95% interval]": judged(t, t["ratio"] and
                                            f"{t['ratio']:.3f} [{t['ci_low']:.3f}, "
                                            f"{t['ci_high']:.3f}]"),
             "threshold": judged(t, t["threshold"] and f"{t['threshold']:.1%}"),
             "contended windows (others' share)": " / ".join(
                 _contention_text((t.get("contention") or {}).get(side))
                 for side in ("baseline", "candidate")),
             "night noise": judged(t, t["noise"] and
                                   f"{t['noise']:.1%} ({t['noise_source']})"),
             "windows (description)": judged(t, t["windows"] and
                                             f"{t['windows']}, rank test p "
                                             f"{t['windows_p']:.2g}"),
             "verdict": _why(t)} for t in tests]
    return pd.DataFrame(rows)


def _state_words(state: dict) -> str:
    """A configuration's state as the page says it: an accepted one with who, when and why."""
    if state["state"] == "accepted":
        a = state["accepted"]
        return f"accepted by {a['by']} on {a['at'][:10]} (run {a['run']}): {a['why']}"
    return state["state"]


def _nights_frame(states: dict) -> pd.DataFrame:
    return pd.DataFrame([{"configuration": c, "state": _state_words(s), "since": s.get("since", ""),
                          "found": s.get("found", ""), "level / reference": f"{s['ratio']:.3f}",
                          "how": s.get("how", ""), "nights": s["nights"],
                          "threshold": f"{s['threshold']:.1%}",
                          "night noise": f"{s['noise']:.1%} ({s['noise_source']})"}
                         for c, s in states.items()])


def _ab_frame(ab: dict) -> pd.DataFrame:
    return pd.DataFrame([{"configuration": c, "pairs judged": f"{v['pairs']} of {v['rounds']}",
                          "ratio [95% interval]": "-" if v["ratio"] is None else
                          f"{v['ratio']:.3f} [{v['ci_low']:.3f}, {v['ci_high']:.3f}]",
                          "margin": f"{v['margin']:.0%}", "verdict": _why(v)}
                         for c, v in ab["verdicts"].items()])


def comparison_tables(result: dict) -> dict:
    """name -> (heading, DataFrame, sentence shown when the table is empty)."""
    quality = pd.DataFrame([{"configuration": t["config"], "metric": t["metric"],
                             "baseline": t["baseline"], "candidate": t["candidate"],
                             "effect [95% interval]": t["effect"], "p": _p_text(t),
                             "alpha each": f"{t['alpha_each']:.3g} ({t['family']} tested)",
                             "verdict": _why(t)} for t in result["quality"]])
    numerics = result["numerics"]
    changes = pd.DataFrame(numerics["changes"])
    numerics_empty = (f"Every seed repeated its final metrics exactly ({numerics['cells']} cells)."
                      if numerics["expected"] else f"Not checked: {numerics['why']}.")
    tables = {
        "throughput": ("Throughput (the run is the unit: median over seeds of each cell's median "
                       "images/s; ratio candidate / baseline with a two-stage bootstrap interval; "
                       "verdict against the threshold, the margin or the night noise)",
                       _throughput_frame(result["throughput"]),
                       "Judged by the A/B below, in place of the baseline's record."
                       if result.get("ab") else
                       "No configuration has ok cells with measured windows in both runs."),
        "quality": ("Quality across seeds (final FID and classifier score: Mann-Whitney U, exact; "
                    "collapse: Boschloo's exact test; one family, Tarone's rule)", quality,
                    "No configuration has a final evaluation in both runs."),
        "numerics": (f"Numerics: {numerics['why']}" if numerics["expected"] else "Numerics",
                     changes if not changes.empty else None, numerics_empty),
        "cells": ("Cells not compared (missing from a run, or not ok)",
                  pd.DataFrame(result["cells_not_compared"]),
                  "None: every cell is in both runs and ok in both."),
    }
    if result.get("ab"):
        ab = result["ab"]
        revisions = ab["revisions"]
        tables["ab"] = (f"Throughput, A/B in one run: baseline revision "
                        f"{revisions['baseline']['commit'][:10]} against candidate "
                        f"{revisions['candidate']['commit'][:10]}, {ab['rounds']} interleaved "
                        f"rounds (ABBA), ratio candidate / baseline with Student's t interval "
                        f"over the pairs; runs in {ab['out']}", _ab_frame(ab),
                        "No throughput configuration in the A/B.")
    elif "nights" in result:
        tables["nights"] = ("Nights since the reference (change points; regressions found once, "
                            "then carried as open until fixed or accepted)",
                            _nights_frame(result["nights"]), "No configuration to follow.")
    return tables


def scope_line(result: dict) -> str | None:
    """What every output says first when the runs came from different machines."""
    scope = result.get("scope", machines.SAME_MACHINE)
    if scope == machines.SAME_MACHINE:
        return None
    what = ("THROUGHPUT COMPARED ACROSS MACHINES (not a like-for-like comparison)"
            if scope == machines.ACROSS_MACHINES else "QUALITY ONLY: throughput not compared")
    return f"{what}: {machines.machines_sentence(result['machines'])}"


def _headline(result: dict) -> tuple[str, list[str]]:
    title = f"dcgan-bench compare: {VERDICT_WORDS[result['verdict']]}"
    if scope_line(result):
        title = f"dcgan-bench compare [{result['scope']}]: {VERDICT_WORDS[result['verdict']]}"
    meta = [line for line in [scope_line(result)] if line]
    meta += [f"Baseline {result['baseline']}; candidate {result['candidate']}.",
            f"Thresholds: throughput, a slowdown beyond the larger of {result['margin']:.0%} and "
            f"the night noise's bound, with its interval below 1; quality, one family at "
            f"{result['alpha']} (Tarone's rule, exact p-values)."]
    meta += [f"Because: {reason}" for reason in result["reasons"]]
    return title, meta


# The columns of each table that fit a 100-column terminal; `--wide` shows them all.
BRIEF_COLUMNS = {
    # contention shows in the verdict's why where it changed the judgement; every side's
    # figures are in the --wide table and the pages
    "throughput": ("configuration", "ratio [95% interval]", "threshold", "verdict"),
    "quality": ("configuration", "metric", "p", "verdict"),
    "nights": ("configuration", "state", "since", "level / reference", "threshold"),
    "ab": ("configuration", "pairs judged", "ratio [95% interval]", "verdict"),
    "cells": ("cell", "baseline", "candidate", "note"),
}


def _brief(frame):
    """A table's brief columns, each cell's text cut at its first parenthesis (the verdict's
    word, the p-value's number); the whys that were cut, once each, as lines below."""
    whys = []
    frame = frame.copy()
    for column in ("verdict", "p"):
        if column in frame:
            full = frame[column].astype(str)
            frame[column] = [text.split(" (", 1)[0] for text in full]
            if column == "verdict":
                whys += [w for w in dict.fromkeys(full) if " (" in w]
    return frame, whys


def comparison_text(result: dict, wide: bool = False) -> str:
    """The terminal version: the verdict first (with the scope when the machines differ), then
    every table, fitting 100 columns (`wide`: every column, as wide as it takes)."""
    import textwrap

    from bench.report.terminal import DEFAULT_WIDTH, WIDE, frame_text

    width = WIDE if wide else DEFAULT_WIDTH

    def para(text):
        return text if wide else textwrap.fill(text, width, subsequent_indent="  ")

    title, meta = _headline(result)
    out = [para(title), *map(para, meta), ""]
    for name, (heading, frame, empty) in comparison_tables(result).items():
        out += [para(f"== {heading}"), ""]
        if frame is None or frame.empty:
            out += [para(empty), ""]
            continue
        whys = []
        if not wide and name in BRIEF_COLUMNS:
            reasons = [f"{r['cell']}: {r['reason']}" for _, r in frame.iterrows()
                       if isinstance(r.get("reason"), str) and r["reason"]] \
                if "reason" in frame and "cell" in frame else []
            frame, whys = _brief(frame[[c for c in BRIEF_COLUMNS[name] if c in frame]])
            whys += reasons
        out += [frame_text(frame, width), *(para(f"  {why}") for why in whys), ""]
    if not wide:
        out.append("(--wide: every column; the pages written have them all)")
    return printable("\n".join(out))  # a reason or a --why may hold terminal escapes


def write_comparison(result: dict, out_dir):
    """index.html, summary.md (fit for a CI comment) and comparison.json into `out_dir`."""
    title, meta = _headline(result)
    tables = comparison_tables(result)

    def write(out):
        sections = []
        for name, (heading, frame, empty) in tables.items():
            blocks = [("table", frame, out.table(f"{name}.csv", frame))] \
                if frame is not None and not frame.empty else [("p", empty)]
            sections.append((name, heading, blocks))
        out.text("index.html", report_html.page(title, meta, sections))
        out.text("summary.md", report_html.markdown(title, meta, list(tables.values())))
        first = {"scope": result.get("scope"), "scope_note": scope_line(result)}
        out.text("comparison.json", json.dumps(records.jsonable({**first, **result}), indent=2,
                                               default=str) + "\n")

    publish(out_dir, write)
