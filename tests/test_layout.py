"""The package's seams: what may import what, commands that work without TensorFlow, golden data.

`analysis/` and `report/` read run records only. They must never import TensorFlow, nor the
stages that do (`cell/`, `evaluate/`, `grid/`), so that reports, tables, comparisons and claims run
in milliseconds on any machine. These tests check it twice: statically (the import statements)
and by behaviour (the commands run in a process where importing TensorFlow raises).
"""

import ast
import filecmp
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
    assert "ok: no regression, no drift" in compare.stdout
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
