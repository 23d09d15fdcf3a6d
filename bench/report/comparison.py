"""A comparison's verdicts as people read them: a terminal table, summary.md and an HTML page.

`comparison_tables` turns the result of bench.analysis.compare.compare_runs into DataFrames; the
terminal, Markdown and HTML outputs show the same tables, with the thresholds beside the verdict.
Nothing here imports TensorFlow.
"""

import json

import pandas as pd

from bench import records, schema
from bench.analysis import machines
from bench.report import html as report_html
from bench.report.publish import publish

VERDICT_WORDS = {schema.VERDICT_OK: "ok: no regression, no drift",
                 schema.VERDICT_REGRESSION: "REGRESSION",
                 schema.VERDICT_DRIFT: "DRIFT: a cumulative slowdown beyond the margin"}


def _throughput_frame(tests, baseline_name) -> pd.DataFrame:
    rows = [{"configuration": t["config"], "seeds": t["seeds"],
             "windows": f"{t['n_baseline']} / {t['n_candidate']}",
             f"{baseline_name} images/s": round(t["baseline_median"], 1),
             "candidate images/s": round(t["candidate_median"], 1),
             "ratio": f"{t['ratio']:.3f} [{t['ci_low']:.3f}, {t['ci_high']:.3f}]",
             "p (Holm)": f"{t['p_holm']:.2g}",
             "verdict": t["verdict"] + (f" ({t['why']})" if t.get("why") else "")}
            for t in tests]
    return pd.DataFrame(rows)


def comparison_tables(result: dict) -> dict:
    """name -> (heading, DataFrame, sentence shown when the table is empty)."""
    quality = pd.DataFrame([{"configuration": t["config"], "metric": t["metric"],
                             "baseline": t["baseline"], "candidate": t["candidate"],
                             "p (Holm)": f"{t['p_holm']:.2g}",
                             "verdict": t["verdict"] + (f" ({t['why']})" if t.get("why") else "")}
                            for t in result["quality"]])
    numerics = result["numerics"]
    changes = pd.DataFrame(numerics["changes"])
    numerics_empty = (f"Every seed repeated its final metrics exactly ({numerics['cells']} cells)."
                      if numerics["expected"] else f"Not checked: {numerics['why']}.")
    drift_heading = (f"Drift: against {result['drift_base']}, the oldest of the last good runs"
                     if result["drift_base"] else "Drift")
    return {
        "throughput": ("Throughput (median images/s of the measured windows, seeds pooled; "
                       "ratio candidate / baseline with a 95% bootstrap interval; Mann-Whitney U)",
                       _throughput_frame(result["throughput"], "baseline"),
                       "No configuration has ok cells with measured windows in both runs."),
        "drift": (drift_heading, _throughput_frame(result["drift"], "older run"),
                  "Not checked: no older good run of this spec in the history."
                  if not result["drift_base"] else "No configuration to compare."),
        "quality": ("Quality across seeds (final FID and classifier score: Mann-Whitney U; "
                    "collapse counts: Fisher's exact test)", quality,
                    "No configuration has a final evaluation in both runs."),
        "numerics": (f"Numerics: {numerics['why']}" if numerics["expected"] else "Numerics",
                     changes if not changes.empty else None, numerics_empty),
        "cells": ("Cells not compared (missing from a run, or not ok)",
                  pd.DataFrame(result["cells_not_compared"]),
                  "None: every cell is in both runs and ok in both."),
    }


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
            f"Thresholds: significance level {result['alpha']} (Holm across configurations), "
            f"noise margin {result['margin']:.0%} for throughput."]
    meta += [f"Because: {reason}" for reason in result["reasons"]]
    return title, meta


def comparison_text(result: dict) -> str:
    """The terminal version: the verdict first (with the scope when the machines differ), then
    every table."""
    title, meta = _headline(result)
    out = [title, *meta, ""]
    with pd.option_context("display.width", 200, "display.max_columns", None,
                           "display.max_colwidth", 60):
        for heading, frame, empty in comparison_tables(result).values():
            out += [f"== {heading}", frame.to_string(index=False)
                    if frame is not None and not frame.empty else empty, ""]
    return "\n".join(out)


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
        out.text("comparison.json", json.dumps(records.jsonable({**first, **result}), indent=2)
                 + "\n")

    publish(out_dir, write)
