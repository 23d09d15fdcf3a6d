"""`dcgan-bench report`: run records in, a self-contained HTML page and a Markdown summary out.

    render_report(["runs/cpu"], "reports/cpu") -> Path("reports/cpu/index.html")

The report is written through bench.report.publish: rendered into a temporary directory beside
`out_dir` and renamed over it, so a reader sees the old report or the new one, never half of one;
`out_dir` is replaced only if it is empty or holds pages dcgan-bench wrote. Output: index.html
(no network, no scripts), summary.md (the key tables, for CI logs and pull-request comments),
every figure as PNG, every table as CSV, samples/ with each cell's samples.png.

Nothing here imports TensorFlow: a report reads records only.
"""

import os
from datetime import UTC, datetime
from pathlib import Path

from bench import schema
from bench.analysis import cells as cells_frame
from bench.analysis import outcomes
from bench.errors import BenchError
from bench.report import data, figures, sections, tables
from bench.report import html as report_html
from bench.report.publish import check_out_dir, publish
from bench.report.stacked_section import stacked_section


def _title_and_meta(cells, manifests, paths, rendered):
    names = list(dict.fromkeys(str(m.get("name")) for m in manifests))
    plural = "s" if len(cells) != 1 else ""
    title = "dcgan-bench report: " + (", ".join(names) if names else f"{len(cells)} cell{plural}")
    meta = ["Records: " + ", ".join(map(str, paths))]
    for m in manifests:
        commit = (m.get("harness") or {}).get("commit")
        meta.append(f"Grid {m.get('name')}: started {m.get('started')}, harness commit {commit}")
    meta.append(f"Rendered {rendered} from {len(cells)} cell{plural}.")
    return title, meta


def _markdown_parts(cells):
    names = {schema.IMAGES_PER_SEC_MEDIAN: "images/s", "compile_seconds": "compile s",
             schema.FINAL_FID: "FID", schema.FINAL_CLASSIFIER_SCORE: "score",
             schema.FINAL_CLASSES_COVERED: "classes covered", schema.FINAL_COVERAGE: "coverage",
             schema.FINAL_OUTCOME: "outcome"}
    brief = cells[["config", "seed", "status", "reason", *names]].rename(columns=names)
    no_outcome = "No final evaluation: seed outcomes unknown."
    seeds = tables.seed_outcomes(cells) if not outcomes.final_metrics(cells).empty else None
    return [("Cells", brief, ""),
            ("XLA speedup (median images/s on / off, 95% bootstrap interval over seeds)",
             sections.speedup_display(tables.xla_speedup(cells)),
             "No configuration has ok cells with and without XLA."),
            ("Seed outcomes", seeds, no_outcome)]


def render_report(paths, out_dir, claims_file=None) -> Path:
    """Render the report of the run or cell directories `paths` into `out_dir`.

    Returns the path of index.html. Raises BenchError when the paths hold no run records, when a
    record is broken or newer than this harness, or when `out_dir` is something else.
    """
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if not paths:
        raise BenchError("no run directories given: name at least one run or cell directory")
    check_out_dir(Path(out_dir))
    return render_cells(cells_frame.load_cells(paths), out_dir, paths, claims_file)


def render_cells(cells, out_dir, paths, claims_file=None) -> Path:
    """Render the report of cells already read (bench.analysis.cells' frame, from `paths`) into
    `out_dir`; the path of index.html."""
    out_dir = Path(out_dir)
    check_out_dir(out_dir)
    steps, evals = data.load_steps(cells), data.load_evals(cells)
    ok_steps = steps[steps["status"] == schema.STATUS_OK] if not steps.empty else steps
    configs = cells_frame.config_order(cells)
    colors = figures.palette(configs)
    manifests = data.load_manifests(cells)
    rendered = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    title, meta = _title_and_meta(cells, manifests, paths, rendered)
    verdicts = None
    if claims_file is not None:  # judged before anything is written: a bad claim is exit 2
        from bench.analysis.claims import judge
        from bench.analysis.claims_spec import load_claims

        verdicts = judge(load_claims(claims_file), cells)

    def write(out):
        page_sections = [
            sections.overview(cells, cells_frame.constant_coordinates(cells), out),
            sections.losses(ok_steps, configs, out),
            sections.throughput(cells, out),
            sections.quality(cells, evals, configs, colors, out),
            sections.coverage(cells, configs, out),
            stacked_section(cells, configs, out, data.load_modes(cells)),
            sections.prdc(cells, colors, out),
            sections.samples(cells, configs, out),
            sections.environment(data.load_envs(cells), manifests, out),
        ]
        page_sections = [s for s in page_sections if s is not None]
        if verdicts is not None:
            from bench.report.claims import claims_section

            page_sections.insert(-1, claims_section(verdicts, out, str(claims_file)))
        out.text("index.html", report_html.page(title, meta, page_sections,
                                                headline=sections.headline(cells, manifests)))
        counts = ", ".join(f"{n} {s}" for s, n in tables.status_counts(cells).items())
        out.text("summary.md", report_html.markdown(
            title, sections.headline(cells, manifests) + meta + [f"Cells: {counts}."],
            _markdown_parts(cells)))

    publish(out_dir, write)
    return out_dir / "index.html"
