"""`dcgan-bench report`: run records in, a self-contained HTML page and a Markdown summary out.

    render_report(["runs/cpu"], "reports/cpu") -> Path("reports/cpu/index.html")

The report is rendered into a temporary directory beside `out_dir` and renamed over it, so a
reader sees the old report or the new one, never half of one. `out_dir` is replaced only if it
is empty or holds a report this function wrote (it leaves a marker file). Output: index.html
(no network, no scripts), summary.md (the key tables, for CI logs and pull-request comments),
every figure as PNG, every table as CSV, samples/ with each cell's samples.png.

Nothing here imports TensorFlow: a report reads records only.
"""

import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench import records, schema
from bench.analysis import cells as cells_frame
from bench.analysis import outcomes
from bench.errors import BenchError
from bench.report import data, figures, sections, tables
from bench.report import html as report_html

MARKER = ".dcgan-bench-report"


class Output:
    """Writes the report's files under one directory, atomically each; returns relative names."""

    def __init__(self, root: Path):
        self.root = root

    def _write(self, name, data_bytes: bytes) -> str:
        records.write_bytes_atomic(self.root / name, data_bytes)
        return name

    def figure(self, name, fig):
        return None if fig is None else self._write(name, figures.figure_to_png(fig))

    def table(self, name, frame) -> str:
        return self._write(name, frame.to_csv(index=False).encode("utf-8"))

    def text(self, name, text) -> str:
        return self._write(name, text.encode("utf-8"))

    def copy(self, src: Path, name) -> str:
        return self._write(name, Path(src).read_bytes())


def _check_out_dir(out_dir: Path):
    if out_dir.exists() and not out_dir.is_dir():
        raise BenchError("exists and is not a directory; choose another --out", path=out_dir)
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MARKER).is_file():
        raise BenchError(f"exists and is not a report (no {MARKER}); choose another --out or "
                         "remove it", path=out_dir)


def _replace_dir(new: Path, out_dir: Path):
    old = None
    if out_dir.exists():
        old = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.old-"))
        os.replace(out_dir, old / "report")
    os.replace(new, out_dir)
    if old is not None:
        shutil.rmtree(old)


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


def publish(out_dir: Path, write):
    """Call `write(Output)` on a temporary directory beside `out_dir`, then rename it over
    `out_dir`: a reader sees the old pages or the new ones, never half of them."""
    out_dir = Path(out_dir)
    _check_out_dir(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.tmp-"))
    try:
        os.chmod(tmp, 0o755)
        write(Output(tmp))
        Output(tmp).text(MARKER, "written by dcgan-bench; the directory is replaced on re-render\n")
        _replace_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def render_report(paths, out_dir, claims_file=None) -> Path:
    """Render the report of the run or cell directories `paths` into `out_dir`.

    Returns the path of index.html. Raises BenchError when the paths hold no run records, when a
    record is broken or newer than this harness, or when `out_dir` is something else.
    """
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if not paths:
        raise BenchError("no run directories given: name at least one run or cell directory")
    out_dir = Path(out_dir)
    _check_out_dir(out_dir)
    cells = cells_frame.load_cells(paths)
    steps, evals = data.load_steps(cells), data.load_evals(cells)
    ok_steps = steps[steps["status"] == "ok"] if not steps.empty else steps
    configs = cells_frame.config_order(cells)
    colors = figures.palette(configs)
    manifests = data.load_manifests(cells)
    rendered = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    title, meta = _title_and_meta(cells, manifests, paths, rendered)
    verdicts = None
    if claims_file is not None:  # judged before anything is written: a bad claim is exit 2
        from bench.analysis import claims

        verdicts = claims.judge(claims.load_claims(claims_file), cells)

    def write(out):
        page_sections = [
            sections.overview(cells, cells_frame.constant_coordinates(cells), out),
            sections.losses(ok_steps, configs, out),
            sections.throughput(cells, out),
            sections.quality(cells, evals, configs, colors, out),
            sections.coverage(cells, configs, out),
            sections.prdc(cells, colors, out),
            sections.samples(cells, configs, out),
            sections.environment(data.load_envs(cells), manifests, out),
        ]
        if verdicts is not None:
            from bench.report.claims import claims_section

            page_sections.insert(-1, claims_section(verdicts, out, str(claims_file)))
        out.text("index.html", report_html.page(title, meta, page_sections))
        counts = ", ".join(f"{n} {s}" for s, n in tables.status_counts(cells).items())
        out.text("summary.md", report_html.markdown(
            title, meta + [f"Cells: {counts}."], _markdown_parts(cells)))

    publish(out_dir, write)
    return out_dir / "index.html"
