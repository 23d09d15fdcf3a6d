"""The package's seams: what may import what, commands that work without TensorFlow, golden data.

The stages are layered, lowest first: the contract and shared layer (the modules at the top of
`bench/`: errors, schema, records, config, data sets, the outcome rule, the run-directory reader),
then `evaluate/`, `cell/`, `grid/`, `analysis/`, `report/`, `jobs/`, `cli/`. A module imports only
from its own stage or a lower one, and no chain of imports comes back to where it started; both
are checked on every import statement in the package, those inside functions included.

`analysis/` and `report/` read run records only. They must never import TensorFlow, nor the
stages that do (`cell/`, `evaluate/`, `grid/`), so that reports, tables, comparisons and claims run
in milliseconds on any machine. These tests check it twice: statically (the import statements)
and by behaviour (the commands run in a process where importing TensorFlow raises).
"""

import ast
import filecmp
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
GOLDEN = ROOT / "tests" / "data" / "runs" / "golden"
RECORD_READERS = ("analysis", "report")
FORBIDDEN = ("tensorflow", "keras", "tensorflow_gan", "bench.cell", "bench.evaluate", "bench.grid")

# Runs `bench.cli.main(argv)` in a fresh interpreter where `import tensorflow` (and keras) raises.
BLOCKED = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "keras"):
            raise ImportError(f"{name} is blocked in this test")
sys.meta_path.insert(0, Block())
from bench.cli import main
code = main(sys.argv[1:])
assert "tensorflow" not in sys.modules
sys.exit(code)
"""


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


# Lowest first; a module's stage is its subpackage, or "contract" for the modules of bench/ itself.
STAGES = ("contract", "evaluate", "cell", "grid", "analysis", "report", "jobs", "cli")
# Imports against the layering that are there on purpose, each with why.
SANCTIONED = {
    ("bench", "bench.analysis.results"):
        "bench.load_results, the package's one convenience, imports the results table when called",
}
MAX_MODULE_LINES = 400
# scipy.stats calls that decide verdicts: one module makes them all.
STATISTICS = ("mannwhitneyu", "fisher_exact", "binomtest", "bootstrap")
STATISTICS_MODULE = BENCH / "analysis" / "stats.py"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(BENCH.rglob("*.py"))}


def _absolute(module: str, node: ast.ImportFrom) -> str | None:
    """The module an ImportFrom names, a relative one (`from ..grid import run`) resolved
    against the importing module's package."""
    if not node.level:
        return node.module
    package = module.split(".")
    if not MODULES.get(module, Path()).name == "__init__.py":
        package = package[:-1]
    base = package[:len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


DYNAMIC_IMPORTS = ("import_module", "__import__")


def _source_imports(source: str, module: str) -> set[str]:
    """Every bench module the source imports: import statements (those inside functions and
    relative ones included, `from bench import records` resolved to bench.records) and
    importlib.import_module / __import__ of a constant name."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "bench"}
        elif isinstance(node, ast.ImportFrom):
            target = _absolute(module, node)
            if target and target.split(".")[0] == "bench":
                subs = {f"{target}.{a.name}" for a in node.names}
                found |= (subs & set(MODULES)) or {target}
                found |= {target} if subs - set(MODULES) else set()
        elif isinstance(node, ast.Call) and _called_name(node) in DYNAMIC_IMPORTS and node.args \
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            name = node.args[0].value
            if name.split(".")[0] == "bench":
                found.add(name)
    return found - {module}


def _called_name(call: ast.Call) -> str | None:
    return getattr(call.func, "attr", None) or getattr(call.func, "id", None)


def _bench_imports(path: Path) -> set[str]:
    """The bench modules a file imports (see _source_imports)."""
    return _source_imports(path.read_text(encoding="utf-8"), _module_name(path))


def _stage(module: str) -> str:
    parts = module.split(".")
    if module == "bench.__main__":
        return "cli"  # `python -m bench` is the command line
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in STAGES) else "contract"


GRAPH = {name: {m for m in _bench_imports(path) if m in MODULES} for name, path in MODULES.items()}


def _upward(graph: dict) -> list[str]:
    rank = {stage: i for i, stage in enumerate(STAGES)}
    return sorted(f"{a} ({_stage(a)}) imports {b} ({_stage(b)})" for a, targets in graph.items()
                  for b in targets if rank[_stage(b)] > rank[_stage(a)]
                  and (a, b) not in SANCTIONED)


def test_stages_import_only_their_own_or_lower_ones():
    # planted: the cell stage reaching up to the report, by a relative import, by importlib and
    # by __import__; each is caught
    for planted in ("from ..report import render", "from bench.report import render",
                    "import importlib\nimportlib.import_module('bench.report.render')",
                    "__import__('bench.report.render')"):
        found = _source_imports(planted, "bench.cell.loop")
        assert found == {"bench.report.render"}, planted
        assert _upward({"bench.cell.loop": found}), planted
    upward = _upward(GRAPH)
    assert not upward, "imports from a lower stage to a higher one:\n" + "\n".join(upward)
    assert _stage("bench.grid.run") == "grid" and _stage("bench.rundirs") == "contract"
    assert ("bench.grid.run", "bench.grid.cellrecord") in {(a, b) for a in GRAPH for b in GRAPH[a]}


def _relative_crossings(source: str, module: str) -> list[str]:
    """Relative imports that leave the module's stage: `from ..grid import run` in a cell."""
    return [f"{module}: from {'.' * node.level}{node.module or ''} import ..."
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.ImportFrom) and node.level
            and _stage(_absolute(module, node)) != _stage(module)]


def test_no_relative_import_crosses_stages():
    assert _relative_crossings("from ..grid import run", "bench.cell.loop")  # planted
    assert not _relative_crossings("from .timing import WindowLog", "bench.cell.loop")
    found = [c for name, path in MODULES.items()
             for c in _relative_crossings(path.read_text(encoding="utf-8"), name)]
    assert not found, found


# What starts the package's own command line in a child process, and the calls that start one.
COMMAND_LINES = {"bench", "bench.cli", "bench.__main__"}
PROCESS_STARTS = {"run", "Popen", "call", "check_call", "check_output", "spawnv", "execv",
                  "execvp", "create_subprocess_exec"}


def _runs_command_line(source: str) -> list[int]:
    """Lines of calls that start the package's command line (`python -m bench ...`, a module
    of bench.cli, or the dcgan-bench script) in a process: what only the CLI stage may do."""
    lines = []
    for call in ast.walk(ast.parse(source)):
        if not isinstance(call, ast.Call) or _called_name(call) not in PROCESS_STARTS \
                or not call.args or not isinstance(call.args[0], (ast.List, ast.Tuple)):
            continue
        node = call.args[0]
        words = [e.value if isinstance(e, ast.Constant) else None for e in node.elts]
        after_m = [b for a, b in zip(words, words[1:]) if a == "-m"]
        if "dcgan-bench" in words or any(isinstance(w, str) and (
                w in COMMAND_LINES or w.startswith("bench.cli")) for w in after_m):
            lines.append(node.lineno)
    return lines


def test_no_stage_below_the_cli_runs_the_command_line():
    planted = 'subprocess.run([sys.executable, "-m", "bench", "eval", cell])'
    assert _runs_command_line(planted) == [1]
    assert _runs_command_line('subprocess.run(["dcgan-bench", "eval", cell])') == [1]
    # a grid's cell process is the worker, not the command line; a list that starts nothing
    # (a command line recorded as text) is no process
    assert not _runs_command_line('Popen([sys.executable, "-m", "bench.grid.worker", cell])')
    assert not _runs_command_line('" ".join(["dcgan-bench", *sys.argv[1:]])')
    found = {name: lines for name, path in MODULES.items() if _stage(name) != "cli"
             and (lines := _runs_command_line(path.read_text(encoding="utf-8")))}
    assert not found, f"modules below the CLI that run the command line: {found}"


def _cycles(graph: dict) -> list[list[str]]:
    """Every strongly connected set of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circle():
    # the detector itself finds a planted circle, and the package has none
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    circles = _cycles({a: {b for b in targets if (a, b) not in SANCTIONED}
                       for a, targets in GRAPH.items()})
    assert not circles, f"import circles: {circles}"


def test_no_module_over_400_lines():
    long = {name: n for name, path in MODULES.items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def test_verdict_statistics_come_from_one_module():
    callers = {}
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            called = node.func if isinstance(node, ast.Call) else None
            called_name = getattr(called, "attr", None) or getattr(called, "id", None)
            if called_name in STATISTICS:
                callers.setdefault(name, set()).add(called_name)
    assert set(callers) == {_module_name(STATISTICS_MODULE)}, callers
    assert callers[_module_name(STATISTICS_MODULE)] == set(STATISTICS)


def _scipy_stats_uses(source: str) -> list[int]:
    """Lines that reach scipy.stats under any name: `import scipy.stats`, `from scipy import
    stats as x`, `from scipy.stats import f as g`, or `scipy.stats.f` after `import scipy`."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import) and any(a.name.startswith("scipy.stats") for a in node.names):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module and (
                node.module.startswith("scipy.stats")
                or (node.module == "scipy" and any(a.name == "stats" for a in node.names))):
            lines.append(node.lineno)
        elif isinstance(node, ast.Attribute) and node.attr == "stats" and \
                isinstance(node.value, ast.Name) and node.value.id == "scipy":
            lines.append(node.lineno)
    return lines


def test_scipy_tests_are_called_from_the_statistics_module_only():
    """Every test, interval and distribution of scipy.stats goes through bench.analysis.stats,
    whatever name it is imported under."""
    for planted in ("from scipy.stats import mannwhitneyu as rank_sum", "from scipy import stats",
                    "from scipy import stats as distributions", "import scipy.stats",
                    "import scipy\nscipy.stats.ranksums(a, b)"):
        assert _scipy_stats_uses(planted), planted
    assert not _scipy_stats_uses("from scipy import linalg, special")
    users = {name for name, path in MODULES.items()
             if _scipy_stats_uses(path.read_text(encoding="utf-8"))}
    assert users == {_module_name(STATISTICS_MODULE)}, users


@pytest.mark.parametrize("package", RECORD_READERS)
def test_record_readers_import_no_training_stage(package):
    bad = {}
    for path in sorted((BENCH / package).rglob("*.py")):
        found = [n for n in _imports(path) if n.startswith(FORBIDDEN)]
        if found:
            bad[str(path.relative_to(ROOT))] = found
    assert not bad, f"record readers import training stages: {bad}"


def _run_blocked(*argv):
    return subprocess.run([sys.executable, "-c", BLOCKED, *map(str, argv)], cwd=ROOT,
                          capture_output=True, text=True)


def test_report_and_table_work_where_tensorflow_cannot_be_imported(tmp_path):
    report = _run_blocked("report", GOLDEN, "--out", tmp_path / "report")
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "report" / "index.html").is_file()
    table = _run_blocked("table", GOLDEN)
    assert table.returncode == 0, table.stderr
    assert "cpu_float32_xla-on_bs256_seed1" in table.stdout


def test_history_compare_trend_and_claims_work_where_tensorflow_cannot_be_imported(tmp_path):
    db = tmp_path / "h.sqlite"
    ingest = _run_blocked("history", "ingest", GOLDEN, "--db", db)
    assert ingest.returncode == 0, ingest.stderr
    compare = _run_blocked("compare", GOLDEN, GOLDEN, "--out", tmp_path / "compare")
    assert compare.returncode == 0, compare.stderr
    assert "ok: nothing new is slower or worse" in compare.stdout
    trend = _run_blocked("trend", "--db", db, "--out", tmp_path / "trend")
    assert trend.returncode == 0, trend.stderr
    claims = _run_blocked("claims", ROOT / "runs" / "claims" / "example.toml", "--plan")
    assert claims.returncode == 0, claims.stderr
    assert "batch64-rarely-collapses" in claims.stdout


def test_collapse_study_records_are_what_make_collapse_study_writes(tmp_path):
    sys.path.insert(0, str(ROOT / "tests" / "data"))
    try:
        import make_collapse_study
    finally:
        sys.path.remove(str(ROOT / "tests" / "data"))
    study = ROOT / "tests" / "data" / "runs" / "collapse-study"
    fresh = tmp_path / "runs" / "collapse-study"
    make_collapse_study.main(fresh)
    committed = sorted(p.relative_to(study) for p in study.rglob("*") if p.is_file())
    assert sorted(p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file()) == committed
    _, mismatch, errors = filecmp.cmpfiles(study, fresh, [str(p) for p in committed],
                                           shallow=False)
    assert mismatch == [] and errors == []


def test_bad_train_option_is_refused_before_tensorflow_loads(tmp_path):
    result = _run_blocked("train", "--precision", "float8", "--out", tmp_path / "cell")
    assert result.returncode == 2
    assert "precision: expected one of float32, mixed_float16, mixed_bfloat16, found 'float8'" \
        in result.stderr
    assert not (tmp_path / "cell").exists()


def test_golden_records_are_what_make_golden_writes(tmp_path):
    sys.path.insert(0, str(ROOT / "tests" / "data"))
    try:
        import make_golden
    finally:
        sys.path.remove(str(ROOT / "tests" / "data"))
    fresh = tmp_path / "runs" / "golden"
    make_golden.main(fresh)
    committed = sorted(p.relative_to(GOLDEN) for p in GOLDEN.rglob("*") if p.is_file())
    written = sorted(p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file())
    assert written == committed
    _, mismatch, errors = filecmp.cmpfiles(GOLDEN, fresh, [str(p) for p in committed],
                                           shallow=False)
    assert mismatch == [] and errors == []


# Test modules named for no one module or command, each with why.
CROSS_CUTTING_TESTS = {"layout": "the package's seams: every module, imports and records",
                       "howto": "each docs/how-to page, done as it says on a copy of the package"}


def _test_subject(stem: str, names: set[str]) -> str | None:
    """The module or command a test module `test_<name>[_<aspect>]` covers: the longest
    `<name>` among `names` that its stem starts with (test_ray_launcher_node_loss: ray_launcher)."""
    subject = stem.removeprefix("test_")
    found = [n for n in names if subject == n or subject.startswith(n + "_")]
    return max(found, key=len) if found else None


def test_each_test_module_is_named_after_the_module_or_command_it_covers():
    """One rule: tests/test_<module or command>[_<aspect>].py, so that a contributor finds the
    tests of bench/analysis/stats.py in tests/test_stats.py and of `dcgan-bench eval` in
    tests/test_eval.py."""
    from bench.cli import COMMANDS

    names = {name.rsplit(".", 1)[-1] for name in MODULES} | set(COMMANDS) | set(CROSS_CUTTING_TESTS)
    assert _test_subject("test_ray_launcher_node_loss", names) == "ray_launcher"
    assert _test_subject("test_gpu_ready", names) is None  # planted: names nothing
    unnamed = [p.name for p in sorted((ROOT / "tests").glob("test_*.py"))
               if _test_subject(p.stem, names) is None]
    assert not unnamed, f"test modules named after no module or command: {unnamed}"


def test_the_readme_is_a_users_page_and_its_links_lead_somewhere():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    # the two set-up commands, the quick start and the install from a clone
    for said in ("tox -e bench-cpu", "tox -e py", "pip install -e '.[tensorflow]'",
                 "dcgan-bench grid runs/grids/smoke.toml"):
        assert said in readme, said
    import re

    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme):
        if not target.startswith(("http://", "https://")):
            assert (ROOT / target).exists(), target


IMPORT_EVERYTHING = """
import importlib, json, os, sys
names = json.loads(sys.argv[1])
before = (list(sys.meta_path), dict(os.environ))
failed = {}
for name in names:
    try:
        importlib.import_module(name)
    except ImportError as e:  # an optional package absent here (ray): not a side effect
        failed[name] = str(e)
after = (list(sys.meta_path), dict(os.environ))
# the harness's own finders (a library's, as absl's reload detector, is that library's business)
print(json.dumps({"meta_path": [repr(f) for f in after[0] if f not in before[0]
                                and type(f).__module__.startswith("bench")],
                  # what the harness sets when it starts a framework (libraries set their own)
                  "environ": sorted(k for k in set(before[1]) | set(after[1])
                                    if before[1].get(k) != after[1].get(k)
                                    and k.startswith(("KERAS_", "TF_CPP_", "DCGAN_BENCH_"))),
                  "failed": failed}))
"""


def test_importing_any_module_changes_nothing_in_the_process():
    """No module acts on the process when imported: no import blocker of the harness's installed,
    no Keras backend or other setting of the harness put in the environment. Such effects belong
    to the functions that start a process (bench.imports.start_framework), or tests collect
    differently in different orders and subsets (issue 42: models.py's import blocked JAX)."""
    import json

    names = sorted(n for n in MODULES if n != "bench.__main__")
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    proc = subprocess.run([sys.executable, "-c", IMPORT_EVERYTHING, json.dumps(names)],
                          cwd=ROOT, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert found["meta_path"] == [] and found["environ"] == [], found
    # every module imported, but those that need an optional package this install lacks
    assert set(found["failed"]) <= {n for n in names if "ray" in n}, found["failed"]


# What the repository may hold: source, specs, docs, test data, and the few files at the top
# that configure it. A build output, a downloaded wheel or a run's records committed by mistake
# fails here.
TRACKED = (
    r"(\.ci/run|\.gitignore|README\.md|mkdocs\.yml|pyproject\.toml|tox\.ini)",
    r"bench/(.+/)?[\w-]+\.(py|sh)",
    r"bench/evaluate/instruments/[\w-]+\.(card\.json|weights\.h5)",  # the shipped classifiers
    r"docs/(.+/)?[\w-]+\.md", r"docs/images/[\w-]+\.(png|py)",  # a figure, and what draws it
    r"runs/README\.md", r"runs/(grids|claims)/[\w-]+\.toml", r"reports/README\.md",
    r"tests/(benchmarks/)?[\w-]+\.(py|sh)", r"tests/data/.+",
)


def _is_allowed_tracked(path: str) -> bool:
    import re

    return any(re.fullmatch(pattern, path) for pattern in TRACKED)


def test_nothing_but_source_specs_docs_and_test_data_is_tracked():
    assert not _is_allowed_tracked("filelock-4.3.2-py3-none-any.whl")  # planted: the old wheel
    assert not _is_allowed_tracked("runs/cpu/20261207-0600/results.csv")  # a run's records
    assert not _is_allowed_tracked("bench/__pycache__/cli.cpython-311.pyc")
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if listed.returncode != 0:
        pytest.skip(f"not a git checkout: {listed.stderr.strip()}")
    stray = [p for p in listed.stdout.splitlines() if not _is_allowed_tracked(p)]
    assert not stray, f"tracked, and not source, a spec, docs or test data: {stray}"


def test_the_docs_state_the_schema_versions_the_code_writes():
    """A sentence that says "(now N)" of a schema goes stale with the next migration: it is
    checked against the constants the writers use."""
    import re

    from bench import schema
    from bench.analysis.history_schema import HISTORY_SCHEMA_VERSION

    stated = {
        "docs/numbers.md": (r"`schema_version` \(now (\d+)\)", schema.SCHEMA_VERSION),
        "docs/nightly.md": (r"`schema_version` \(now (\d+)\)", HISTORY_SCHEMA_VERSION),
    }
    for doc, (pattern, version) in stated.items():
        found = re.findall(pattern, (ROOT / doc).read_text(encoding="utf-8"))
        assert found == [str(version)], f"{doc} states schema {found}; the code writes {version}"


def test_every_tox_environment_is_in_the_readmes_table():
    import configparser
    import re

    tox = configparser.ConfigParser()
    tox.read(ROOT / "tox.ini")
    envs = {s.removeprefix("testenv:") for s in tox.sections() if s.startswith("testenv:")}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| tox environment |"):]
    table = table[:table.index("\n\n")]
    named = set(re.findall(r"`([\w-]+)`", "\n".join(row.split("|")[1] for row in
                                                      table.splitlines()[2:])))
    assert envs - named == set(), f"tox environments missing from the README's table: {envs - named}"


def _docs_pages():
    return sorted((ROOT / "docs").rglob("*.md"))


def test_the_docs_render_offline_and_their_lists_stay_lists():
    """MkDocs (Python-Markdown) shows a mermaid block as raw code and runs a list into the
    paragraph above it unless a blank line parts them: a chart is an image, and a list follows a
    blank line."""
    import re

    item = re.compile(r"\s*([-*]|\d+\.) ")
    for page in _docs_pages():
        lines = page.read_text(encoding="utf-8").splitlines()
        assert not any(line.strip().startswith("```mermaid") for line in lines), page
        fenced = False
        for i, line in enumerate(lines):
            fenced ^= line.startswith("```")
            before = lines[i - 1] if i else ""
            if not fenced and item.match(line) and before.strip() and not item.match(before) \
                    and not before.startswith((" ", "|")):
                raise AssertionError(f"{page.name}:{i + 1}: a list right after a paragraph "
                                     f"line ({before[:40]!r}) renders as one paragraph")


def test_the_docs_home_page_holds_the_install_and_the_quick_start():
    home = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    for said in ("## Install", "pip install -e '.[tensorflow]'", "## Quick start",
                 "dcgan-bench grid runs/grids/smoke.toml", "build/site/", "mkdocs serve"):
        assert said in home, said
