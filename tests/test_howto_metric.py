"""The metric registry (bench.schema.METRICS) and docs/how-to/add-a-metric.md, done on a copy.

The page is proved by following it: `added` copies bench/, tests/ and docs/ to a temporary
directory, makes the page's edits there for a toy metric (`ones_share`: the share of samples whose
top class is 1, lower is better, every role), runs the page's regeneration commands, and records
which files changed. The copy is only ever imported in subprocesses with PYTHONPATH at the copy,
so this process keeps the repository's own `bench`. The registry's readers are then run on crafted
records (a golden run and the collapse study with a value for the toy written into their
summaries), and `dcgan-bench score` on real digits evaluates it.

Run as a script (`python tests/test_howto_metric.py readers RUNS`), this module is that
subprocess: it runs the readers on the crafted records with whatever `bench` PYTHONPATH gives.
"""

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench import schema
from bench.errors import BenchError

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "how-to" / "add-a-metric.md"
TOY, TOY_LABEL = "ones_share", "ones share"
TOY_COLUMN = schema.final_column(TOY)
# The docs that name every key of the registry (the page lists both).
KEY_DOCS = ("numbers.md", "using.md")
WORDS = {"four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}


# ---------------------------------------------------------------- the direction check

def test_a_role_that_needs_a_direction_without_one_is_refused_naming_metric_and_roles():
    no_direction = schema.Metric("toy", "toy", None, (schema.TABLE, schema.FIGURE, schema.TESTED))
    with pytest.raises(BenchError, match=r"metric 'toy' has roles that need a direction "
                                         r"\(figure, tested\) but higher_is_better=None"):
        schema.check_directions((*schema.METRICS, no_direction))
    # a direction given, or no role that reads one: accepted
    schema.check_directions((schema.Metric("toy", "toy", False, schema.DIRECTED_ROLES),
                             schema.Metric("count", "count", None,
                                           (schema.TABLE, schema.SEED_SUMMARY, schema.REPEATED))))


@pytest.mark.parametrize("role", schema.DIRECTED_ROLES)
def test_each_role_that_needs_a_direction_is_refused_alone(role):
    with pytest.raises(BenchError, match=rf"\({role}\)"):
        schema.check_directions((schema.Metric("toy", "toy", None, (role,)),))


def _run(argv, cwd, pythonpath, **env) -> subprocess.CompletedProcess:
    """A process with `pythonpath` first on its path, writing no bytecode into the copy."""
    env = {**os.environ, "PYTHONPATH": str(pythonpath), "PYTHONDONTWRITEBYTECODE": "1",
           "TF_CPP_MIN_LOG_LEVEL": "2", **{k: str(v) for k, v in env.items()}}
    return subprocess.run([sys.executable, *map(str, argv)], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=600)


def test_a_package_whose_registry_lacks_a_direction_fails_at_import(tmp_path):
    shutil.copytree(ROOT / "bench", tmp_path / "bench",
                    ignore=shutil.ignore_patterns("__pycache__", "instruments"))
    schema_py = tmp_path / "bench" / "schema.py"
    text = schema_py.read_text(encoding="utf-8")
    for direction, fails in (("True", False), ("None", True)):
        # the same edit with a direction imports: what fails is the missing direction
        schema_py.write_text(text.replace("\nMETRICS = (\n", "\nMETRICS = (\n    Metric("
                                          f"'toy', 'toy', {direction}, (TABLE, FIGURE)),\n", 1),
                             encoding="utf-8")
        result = _run(["-c", "import bench.schema"], tmp_path, tmp_path)
        assert (result.returncode != 0) == fails, result.stderr
    assert "BenchError: bench.schema.METRICS: metric 'toy' has roles that need a direction " \
           "(figure) but higher_is_better=None" in result.stderr


def test_the_roles_that_need_a_direction_are_those_whose_readers_use_it():
    """DIRECTED_ROLES is what the code does: the modules that read `higher_is_better` select
    their metrics by exactly these roles (the figure, compare's quality family, claims)."""
    readers = set()
    for path in (ROOT / "bench").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if path.name != "schema.py" and "higher_is_better" in text:
            readers |= set(re.findall(r"metrics_with\(schema\.([A-Z_]+)\)", text))
    assert {getattr(schema, name) for name in readers} == set(schema.DIRECTED_ROLES)


def _undocumented(docs: Path, keys) -> dict:
    """Keys of `keys` that a page of KEY_DOCS never names in code type (`key` or `key: ...`)."""
    out = {}
    for name in KEY_DOCS:
        text = (docs / name).read_text(encoding="utf-8")
        out[name] = [k for k in keys if not re.search(rf"`{re.escape(k)}[`:]", text)]
    return out


def test_the_docs_name_every_key_of_the_registry():
    assert _undocumented(ROOT / "docs", schema.SCALAR_METRICS) == {name: [] for name in KEY_DOCS}


# ---------------------------------------------------------------- the page, done on a copy

def _intro(page: str) -> str:
    """The page up to its first section: the table of files, the count, the commands."""
    return page.split("\n## ", 1)[0]


def _page_files(page: str) -> list[str]:
    return re.findall(r"^\| `([^`]+)` \|", _intro(page), flags=re.M)


def _page_commands(page: str) -> list[list[str]]:
    blocks = re.findall(r"```sh\n(.*?)```", _intro(page), flags=re.S)
    return [line.split() for block in blocks for line in block.splitlines() if line.strip()]


def _insert_after(text: str, pattern: str, new: str, path: str) -> str:
    """`new` after the line matching `pattern`: the place the page's row for `path` names."""
    found = re.search(pattern, text, flags=re.M)
    assert found, f"{path}: no line matches {pattern!r}; the page's step no longer fits the file"
    return text[:found.end()] + new + text[found.end():]


# The edits of the page's rows for the toy metric, one per file the page says to edit.
EDITS = {
    "bench/evaluate/metrics.py": lambda t: t + (
        "\n\ndef logits_to_ones_share(logits) -> dict:\n"
        '    """The share of samples whose top class is 1 (a toy: tests/test_howto_metric.py)."""\n'
        '    logits = _as_2d_float64(logits, "logits")\n'
        "    return {schema.ONES_SHARE: float(np.mean(logits.argmax(axis=1) == 1))}\n"),
    "bench/evaluate/score.py": lambda t: _insert_after(
        t, r"^ +result\.update\(metrics\.logits_to_mode_coverage\(logits\)\)\n",
        "    result.update(metrics.logits_to_ones_share(logits))\n", "score.py"),
    "bench/schema.py": lambda t: _insert_after(_insert_after(
        t, r'^CLASS_HISTOGRAM = "class_histogram"\n', f'ONES_SHARE = "{TOY}"\n', "schema.py"),
        r"^    Metric\(COVERAGE, .*\n",
        f'    Metric(ONES_SHARE, "{TOY_LABEL}", False,\n'
        "           (TABLE, FIGURE, SEED_SUMMARY, REPEATED, TESTED, CLAIMABLE)),\n", "schema.py"),
    "tests/test_metrics.py": lambda t: t + (
        "\n\ndef test_ones_share_on_hand_made_logits():\n"
        "    logits = np.zeros((4, 10))\n"
        "    logits[[0, 2], 1] = logits[1, 3] = logits[3, 7] = 5.0\n"
        "    assert metrics.logits_to_ones_share(logits) == {schema.ONES_SHARE: 0.5}\n"),
    "docs/numbers.md": lambda t: _insert_after(
        t, r"^\| `precision`, `recall`, `density`, `coverage` \|.*\n",
        f"| `{TOY}` | the share of samples whose top class is 1 |\n", "numbers.md"),
    "docs/using.md": lambda t: t.replace("`coverage`, `class_histogram`",
                                         f"`coverage`, `{TOY}`, `class_histogram`", 1),
}


def _digests(root: Path) -> dict:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for part in ("bench", "tests", "docs") for p in sorted((root / part).rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def _regenerate(copy: Path, commands):
    for argv in commands:
        assert argv[0] == "python", argv  # run with this interpreter, in the copy
        result = _run(argv[1:], copy, copy)
        assert result.returncode == 0, f"{' '.join(argv)}:\n{result.stderr}"


def _edit(copy: Path, edits: dict):
    for path, edit in edits.items():
        target = copy / path
        text = target.read_text(encoding="utf-8")
        assert edit(text) != text, f"{path}: the edit found no place"
        target.write_text(edit(text), encoding="utf-8")


@pytest.fixture(scope="module")
def added(tmp_path_factory):
    """The copy with the toy metric added as the page says: `copy`, `page`, `changed` (the files
    that changed) and `undocumented` (what the docs missed before the toy's rows)."""
    page = PAGE.read_text(encoding="utf-8")
    copy = tmp_path_factory.mktemp("add-a-metric")
    for part in ("bench", "tests", "docs"):
        shutil.copytree(ROOT / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy)
    commands = _page_commands(page)
    # Regenerate once before the edits: the committed records may lag a change of the code that
    # is not the metric's, and what the metric itself changes is the difference after this.
    _regenerate(copy, commands)
    before = _digests(copy)
    _edit(copy, {p: e for p, e in EDITS.items() if not p.startswith("docs/")})
    undocumented = _undocumented(copy / "docs", (*schema.SCALAR_METRICS, TOY))
    _edit(copy, {p: e for p, e in EDITS.items() if p.startswith("docs/")})
    _regenerate(copy, commands)
    after = _digests(copy)
    changed = sorted(p for p in after.keys() | before.keys() if before.get(p) != after.get(p))
    return SimpleNamespace(copy=copy, page=page, changed=changed, undocumented=undocumented)


def test_the_page_lists_exactly_the_files_adding_the_toy_metric_changed(added):
    listed = _page_files(added.page)
    assert sorted(listed) == added.changed
    assert set(EDITS) < set(listed)  # the rest are regenerated by the page's commands
    count = re.search(r"^(\w+) files:", _intro(added.page), flags=re.M)
    assert count and WORDS[count.group(1).lower()] == len(added.changed) == 8


def test_the_docs_rows_are_needed(added):
    # before its doc rows, the toy was a key the two pages did not name
    assert added.undocumented == {name: [TOY] for name in KEY_DOCS}
    assert _undocumented(added.copy / "docs", (*schema.SCALAR_METRICS, TOY)) == {
        name: [] for name in KEY_DOCS}


def test_the_page_names_the_roles_that_need_a_direction():
    page = PAGE.read_text(encoding="utf-8")
    sentence = re.search(r"The roles that need a direction are ([^(]*)\(`DIRECTED_ROLES`", page)
    names = set(re.findall(r"`([A-Z_]+)`", sentence.group(1)))
    assert {getattr(schema, n) for n in names} == set(schema.DIRECTED_ROLES)


def test_regenerated_results_have_the_toy_column_empty(added):
    copy = added.copy
    for run in ("golden", "collapse-study"):
        with open(copy / "tests" / "data" / "runs" / run / schema.RESULTS_FILE, newline="") as f:
            rows = list(csv.DictReader(f))
        # the crafted summaries carry no value for it: a missing value, never a zero
        assert rows and {row[TOY_COLUMN] for row in rows} == {""}, run


def test_the_contributors_tests_pass_in_the_copy(added):
    copy = added.copy
    result = _run(["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_metrics.py",
                   "tests/test_layout.py", "-k", "ones_share or records_are_what"], copy, copy)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "3 passed" in result.stdout


def _craft(copy: Path, runs: Path) -> dict:
    """Crafted runs with a toy value in every final evaluation: a golden run (a), its copy with
    every share 0.2 higher (b), and the collapse study with bs 256 at 0.3 more than bs 64."""
    data = copy / "tests" / "data" / "runs"
    paths = {"a": runs / "golden", "b": runs / "golden-b", "study": runs / "collapse-study"}
    shutil.copytree(data / "golden", paths["a"])
    shutil.copytree(data / "golden", paths["b"])
    shutil.copytree(data / "collapse-study", paths["study"])
    for name, path in paths.items():
        for summary_path in path.glob(f"*/{schema.SUMMARY_FILE}"):
            summary = json.loads(summary_path.read_text())
            if summary.get("final"):
                config = json.loads((summary_path.parent / schema.CONFIG_FILE).read_text())
                share = 0.1 + 0.01 * config["seed"] + (0.2 if name == "b" else 0.0) \
                    + (0.3 if config["batch_size"] == 256 and name == "study" else 0.0)
                summary["final"][TOY] = round(share, 6)
                summary_path.write_text(json.dumps(summary))
    claims = runs / "claims.toml"
    claims.write_text(
        'level = 0.95\n[[claims]]\nname = "bs256-is-no-worse"\nkind = "no_worse"\n'
        'a = { batch_size = 64, precision = "float32", xla = false }\n'
        'b = { batch_size = 256, precision = "float32", xla = false }\n'
        f'metric = "{TOY}"\nmargin = 0.1\n')
    return {**paths, "claims": claims}


def readers(runs: Path):
    """The registry's readers on the crafted runs under `runs` (the subprocess's side): the CLI's
    compare, report and claims write their files there; the history and the figure's labels go
    to readers.json."""
    import contextlib
    import io

    import pandas as pd

    import bench
    from bench.analysis import history
    from bench.analysis.cells import results_to_cells
    from bench.analysis.outcomes import final_metrics
    from bench.analysis.results import load_results
    from bench.cli import main
    from bench.report import figures

    with contextlib.redirect_stdout(io.StringIO()):
        codes = {"compare": main(["compare", str(runs / "golden"), str(runs / "golden-b"),
                                  "--quality-only", "--out", str(runs / "compare")]),
                 "report": main(["report", str(runs / "golden"), "--out", str(runs / "report")]),
                 "claims": main(["claims", str(runs / "claims.toml"), str(runs / "collapse-study"),
                                 "--out", str(runs / "claims")])}
    run_id, _ = history.ingest(runs / "golden", runs / "history.sqlite")
    kept = history.run_results(run_id, runs / "history.sqlite")
    final = final_metrics(results_to_cells(load_results([runs / "golden"])))
    fig = figures.final_metrics(final, list(final["config"].unique()))
    (runs / "readers.json").write_text(json.dumps({
        "bench": bench.__file__, "codes": codes,
        "history": {c: None if pd.isna(v) else v for c, v in zip(kept["cell_id"], kept[TOY_COLUMN])},
        "figure": [ax.get_xlabel() for ax in fig.axes]}))


def test_the_registry_brings_the_toy_to_results_history_report_compare_and_claims(added, tmp_path):
    copy = added.copy
    runs = _craft(copy, tmp_path)
    result = _run([__file__, "readers", tmp_path], copy, copy)
    assert result.returncode == 0, result.stderr[-3000:]
    got = json.loads((tmp_path / "readers.json").read_text())
    assert got["bench"].startswith(str(copy))  # the copy's package, not this repository's
    # compare exits 0: two seeds a side decide nothing (inconclusive), which is not a regression;
    # claims exits 1: a claim fails
    assert got["codes"] == {"compare": 0, "report": 0, "claims": 1}
    ok = {c: round(0.1 + 0.01 * int(c[-1]), 6) for c, v in got["history"].items() if v is not None}
    assert len(ok) == 8 and got["history"] == {**dict.fromkeys(got["history"]), **ok}
    # the figure: a panel titled with the label and the direction
    assert f"{TOY_LABEL} (lower is better)" in got["figure"]
    # the report's cell table (TABLE) and per-seed final metrics (SEED_SUMMARY)
    with open(runs["a"].parent / "report" / "cells.csv", newline="") as f:
        cells = list(csv.DictReader(f))
    assert sorted(float(r[TOY_LABEL]) for r in cells if r[TOY_LABEL]) == sorted(ok.values())
    with open(runs["a"].parent / "report" / "final_metrics.csv", newline="") as f:
        assert sorted(float(r[TOY_COLUMN]) for r in csv.DictReader(f)) == sorted(ok.values())
    # compare: a higher share is worse (TESTED, lower is better) and a changed numeric (REPEATED)
    comparison = json.loads((tmp_path / "compare" / "comparison.json").read_text())
    toy_tests = [t for t in comparison["quality"] if t["metric"] == TOY_LABEL]
    assert len(toy_tests) == 4 and all(t["worse"] for t in toy_tests)
    changed = [c for c in comparison["numerics"]["changes"] if c["metric"] == TOY_COLUMN]
    assert len(changed) == 8 and all(c["candidate"] > c["baseline"] for c in changed)
    # claims (CLAIMABLE): bs 256's share is 0.3 above bs 64's, seed by seed: not "no worse"
    (verdict,) = json.loads((tmp_path / "claims" / "claims.json").read_text())
    assert verdict["claim"]["metric"] == TOY and verdict["verdict"] == schema.CLAIM_FAILS


@pytest.mark.slow  # TensorFlow's start, the classifier and the reference statistics: 40 s here
def test_score_evaluates_the_toy_metric_on_real_digits(added, tmp_path):
    import evalsets
    import numpy as np

    copy = added.copy
    split = evalsets.mnist_5k()
    ones, others = np.flatnonzero(split.labels == 1)[:150], np.flatnonzero(split.labels != 1)
    picks = np.concatenate([ones, others[::len(others) // 350][:350]])
    np.savez(tmp_path / "digits.npz", images=split.images[picks])
    # a fresh reference cache: the copy computes its reference statistics itself
    result = _run(["-m", "bench", "score", tmp_path / "digits.npz", "--json"], copy, copy,
                  DCGAN_BENCH_CACHE=tmp_path / "cache")
    assert result.returncode == 0, result.stderr[-3000:]
    printed = json.loads(result.stdout)
    assert printed[schema.N] == 500
    # the toy against the class histogram the same evaluation prints, and against the labels
    assert printed[TOY] == printed[schema.CLASS_HISTOGRAM][1] / 500
    assert abs(printed[TOY] - 150 / 500) <= 0.02


if __name__ == "__main__":
    if sys.argv[1:2] == ["readers"]:
        readers(Path(sys.argv[2]))
