"""The trend page: every run in the history, night after night, per configuration.

    render_trend("runs/history.sqlite", "reports/trend") -> Path("reports/trend/index.html")

One section per grid spec and machine (runs of different specs do not compare, and throughput
does not compare across machine fingerprints: a run from another machine starts its own
section rather than drawing a step in someone else's line). For each configuration:
throughput (median of the measured windows, seeds pooled, with a p10-p90 band) and the final FID
(median across seeds, band from the lowest to the highest seed), each run marked with its
verdict. Offline HTML in the report's style, written atomically like the report. Nothing here
imports TensorFlow.
"""

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from bench import schema
from bench.analysis import history
from bench.analysis.cells import results_to_cells
from bench.analysis.runs import run_machines
from bench.errors import BenchError
from bench.report import figures
from bench.report import html as report_html
from bench.report.publish import publish

NOT_COMPARED = "not compared"
VERDICT_COLORS = {schema.VERDICT_OK: "#2e7d32", schema.VERDICT_REGRESSION: "#d62728",
                  schema.VERDICT_OPEN: "#ef6c00", schema.VERDICT_DRIFT: "#8e24aa",
                  schema.VERDICT_INCONCLUSIVE: "#c9a227",
                  NOT_COMPARED: "#8c8c8c"}


def trend_frame(db) -> pd.DataFrame:
    """One row per run x configuration: throughput median, p10, p90 of the pooled windows, the
    seeds' final FIDs (median, min, max), the run's verdict."""
    rows = []
    for info in history.list_runs(db):
        run = history.history_to_run(info["id"], db)
        cells = results_to_cells(run.results)
        for config, group in cells.groupby("config", sort=False):
            ok = group[group["status"] == schema.STATUS_OK]
            windows = np.array([w for c in ok["cell_id"] for w in run.window_rates(c)])
            fid = pd.to_numeric(ok.get(schema.FINAL_FID), errors="coerce").dropna() \
                if schema.FINAL_FID in ok else pd.Series(dtype=float)
            rows.append({"spec": info["spec_name"], "spec_sha256": info["spec_sha256"],
                         "machines": ", ".join(run_machines(info)) or "unknown",
                         "run": info["id"], "started": info["started"],
                         "commit": (info["harness_commit"] or "")[:10],
                         "verdict": info["verdict"] or NOT_COMPARED, "config": config,
                         "cells ok": f"{len(ok)}/{len(group)}",
                         "images/s median": np.median(windows) if windows.size else np.nan,
                         "images/s p10": np.percentile(windows, 10) if windows.size else np.nan,
                         "images/s p90": np.percentile(windows, 90) if windows.size else np.nan,
                         "FID median": fid.median() if len(fid) else np.nan,
                         "FID min": fid.min() if len(fid) else np.nan,
                         "FID max": fid.max() if len(fid) else np.nan})
    return pd.DataFrame(rows)


def _trend_axes(ax, frame, runs, column, low, high, colors, ylabel):
    x = {run: i for i, run in enumerate(runs)}
    for config, group in frame.groupby("config", sort=False):
        group = group.dropna(subset=[column])
        if group.empty:
            continue
        xs = group["run"].map(x)
        ax.plot(xs, group[column], marker="o", ms=3, color=colors[config], label=config)
        ax.fill_between(xs, group[low], group[high], color=colors[config], alpha=0.18, lw=0)
    ax.set_ylabel(ylabel)
    ax.set_xticks(range(len(runs)))
    ax.set_xticklabels([r.split("/")[-1][:16] for r in runs], rotation=45, ha="right",
                       fontsize=7)


def trend_figure(frame: pd.DataFrame):
    """Throughput above, final FID below (when any run has one); the verdict of each run as a
    coloured band behind its x position."""
    runs = list(dict.fromkeys(frame["run"]))
    configs = list(dict.fromkeys(frame["config"]))
    colors = figures.palette(configs)
    has_fid = frame["FID median"].notna().any()
    verdicts = frame.drop_duplicates("run").set_index("run")["verdict"]
    a, b = figures.style()
    with a, b:
        fig = Figure(figsize=(max(6.0, 0.45 * len(runs) + 3), 6.4 if has_fid else 3.6),
                             layout="constrained")
        axes = np.atleast_1d(fig.subplots(2 if has_fid else 1, 1, sharex=True))
        _trend_axes(axes[0], frame, runs, "images/s median", "images/s p10", "images/s p90",
                    colors, "images/s (median, p10-p90)")
        if has_fid:
            _trend_axes(axes[1], frame, runs, "FID median", "FID min", "FID max", colors,
                        "final FID (median, seed range)")
        for ax in axes:
            for i, run in enumerate(runs):
                ax.axvspan(i - 0.5, i + 0.5, color=VERDICT_COLORS[verdicts[run]], alpha=0.10,
                           lw=0)
        handles = [Patch(color=c, alpha=0.4, label=f"verdict: {v}")
                   for v, c in VERDICT_COLORS.items() if v in set(verdicts)]
        axes[0].legend(handles=axes[0].get_legend_handles_labels()[0] + handles, fontsize=7,
                       loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def render_trend(db, out_dir) -> Path:
    """Render the trend page of the history `db` into `out_dir`; returns index.html's path."""
    db = Path(db or history.default_db())
    if not db.is_file():
        raise BenchError("no such history database (`dcgan-bench history ingest` a run first)",
                         path=db)
    frame = trend_frame(db)
    if frame.empty:
        raise BenchError("the history holds no runs yet", path=db)
    rendered = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    meta = [f"History: {db}", f"Rendered {rendered} from {frame['run'].nunique()} runs.",
            "Verdicts are those `dcgan-bench compare last-good RUN` recorded: ok (green), "
            "regression (red, found that night), open (orange, found on an earlier night and not "
            "yet fixed or accepted), drift (purple, from older histories), not compared (grey); "
            "an accepted run is the baseline from its night on."]

    def write(out):
        sections = []
        groups = frame.groupby(["spec_sha256", "machines"], sort=False)
        for i, ((sha, machines), spec) in enumerate(groups):
            name = spec["spec"].iloc[0]
            fig_name = out.figure(f"trend_{i}.png", trend_figure(spec))
            table = spec.drop(columns=["spec", "spec_sha256", "machines"])
            sections.append((f"spec-{i}", f"{name} (spec {sha[:12]}; machine {machines})", [
                ("figure", fig_name, f"throughput and final FID per run of {name}"),
                ("table", table, out.table(f"trend_{i}.csv", table))]))
        out.text("index.html", report_html.page("dcgan-bench trend", meta, sections))

    publish(Path(out_dir), write)
    return Path(out_dir) / "index.html"
