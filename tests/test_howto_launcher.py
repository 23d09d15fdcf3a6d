"""docs/how-to/add-a-launcher.md, done as it says: a toy launcher (`serial`) on a copy of the package.

The page's worked example is read from the page and applied to a copy of `bench/`: the name and
the branch into bench/grid/launchers.py, the `--launcher` option with its words into
bench/cli/grid.py, and the new module bench/grid/serial_launcher.py (one cell process at a time).
The copy is only run in subprocesses with PYTHONPATH at the copy, so this process keeps the
repository's own `bench`. Checked: the files that change are the files the page's table marks
*always*; the name alone (no branch) would build Ray's launcher and leave `--help` without its
words, so both edits are needed; and a grid run through the toy leaves the record the local
launcher leaves, with `placement.launcher` naming the toy.
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

import pytest

from bench.grid.ray_launcher import RAY_MISSING

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "how-to" / "add-a-launcher.md"
NAME, TOY_CLASS = "serial", "SerialProcesses"
LOCAL_BRANCH = '    if launcher == "local":\n'
# Two cells, a few steps each, no evaluation: the cells finish in seconds.
SPEC = """
name = "howto launcher"
data = "mnist-5k"
[axes]
seeds = [0, 1]
batch_sizes = [16]
devices = ["cpu"]
xla = [false]
precision = ["float32"]
[budget]
steps = 4
log_every = 2
[eval]
final_n = 0
"""


def _page_blocks() -> dict[str, str]:
    """The worked example: the file named before each python block -> the block."""
    text = PAGE.read_text(encoding="utf-8")
    example = text[text.index("## A worked example"):]
    return dict(re.findall(r"In `(bench/[^`]+\.py)`[^\n]*:\n\n```python\n(.*?)```", example,
                           re.S))


def _table_rows() -> list[tuple[str, str]]:
    """The page's table: (the file a row names, <name> read as the toy's; its "when" cell)."""
    rows = []
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        if line.startswith("| `"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            rows.append((cells[0].strip("`").replace("<name>", NAME), cells[1]))
    return rows


def _edit_launchers(source: str, block: str) -> str:
    """The block's `LAUNCHERS = ...` line in place of the module's, and the lines the block shows
    between `...` and the local branch put before the local branch."""
    names = re.search(r"^LAUNCHERS = .*$", block, re.M).group(0)
    branch = block[block.index("    ...\n") + len("    ...\n"):block.index(LOCAL_BRANCH)]
    assert len(re.findall(r"^LAUNCHERS = .*$", source, re.M)) == 1, "no one LAUNCHERS line"
    assert source.count(LOCAL_BRANCH) == 1, "no one local branch in make_launcher"
    source = re.sub(r"^LAUNCHERS = .*$", names, source, count=1, flags=re.M)
    return source.replace(LOCAL_BRANCH, branch + LOCAL_BRANCH)


def _edit_cli(source: str, block: str) -> str:
    """The block's `--launcher` option in place of the module's, whole."""
    option = re.compile(r'    p\.add_argument\("--launcher",.*?\n(?=    p\.add_argument\()', re.S)
    assert len(option.findall(source)) == 1, "no one --launcher option in bench/cli/grid.py"
    return option.sub(lambda _: block, source)


EDITS = {"bench/grid/launchers.py": _edit_launchers, "bench/cli/grid.py": _edit_cli}


def _copy(root: Path) -> Path:
    shutil.copytree(ROOT / "bench", root / "bench",
                    ignore=shutil.ignore_patterns("__pycache__", "instruments"))
    # the shipped instrument is data, read where the package is: link it, do not edit it
    (root / "bench" / "evaluate" / "instruments").symlink_to(
        ROOT / "bench" / "evaluate" / "instruments")
    return root


def _apply(root: Path, blocks: dict[str, str]):
    """The page's edits on the copy: a file that exists is edited, a new one written whole."""
    for name, block in blocks.items():
        path = root / name
        if path.exists():
            assert name in EDITS, f"the page edits {name}, which this proof cannot edit"
            path.write_text(EDITS[name](path.read_text(encoding="utf-8"), block),
                            encoding="utf-8")
        else:
            path.write_text(block, encoding="utf-8")


def _digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((root / "bench").rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts and "instruments" not in p.parts}


def _run(root: Path, *args, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1",
           "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run([sys.executable, *map(str, args)], cwd=root, env=env, text=True,
                          capture_output=True, timeout=600, **kwargs)


PROBE = """
import json
from bench.errors import BenchError
from bench.grid.launchers import LAUNCHERS, make_launcher
def built(*args, **kwargs):
    try:
        return type(make_launcher(*args, **kwargs)).__name__
    except BenchError as e:
        return f"BenchError: {e}"
print(json.dumps({"launchers": LAUNCHERS, "serial": built("serial"),
                  "address": built("serial", address="10.0.0.5:6379"),
                  "retries": built("serial", retries=1), "local": built("local")}))
"""


def _probe(root: Path) -> dict:
    proc = _run(root, "-c", PROBE)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _grid_help(root: Path) -> str:
    proc = _run(root, "-m", "bench", "grid", "--help")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return " ".join(proc.stdout.split())


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """A copy of the package with the page's edits made, and the files they changed."""
    root = _copy(tmp_path_factory.mktemp("launcher"))
    before = _digests(root)
    _apply(root, _page_blocks())
    after = _digests(root)
    changed = {f for f in before.keys() | after.keys() if before.get(f) != after.get(f)}
    return root, changed


def test_the_files_that_change_are_the_files_the_page_marks_always(toy):
    _, changed = toy
    rows = _table_rows()
    always = {f for f, when in rows if when == "always"}
    assert changed == always == set(_page_blocks())
    assert always == {"bench/grid/launchers.py", f"bench/grid/{NAME}_launcher.py",
                      "bench/cli/grid.py"}


def test_the_test_module_the_page_names_passes_the_layout_rule(toy):
    from test_layout import _test_subject

    root, _ = toy
    names = {p.stem for p in (root / "bench").rglob("*.py")}
    (test_module,) = [f for f, _ in _table_rows() if f.startswith("tests/")]
    assert _test_subject(Path(test_module).stem, names) == f"{NAME}_launcher"


def test_the_name_alone_builds_rays_launcher_and_the_help_lacks_its_words(tmp_path):
    """Why the page asks for a branch and for the help's words: neither follows from the name."""
    root = _copy(tmp_path)
    blocks = _page_blocks()
    names = re.search(r"^LAUNCHERS = .*$", blocks["bench/grid/launchers.py"], re.M).group(0)
    launchers = root / "bench" / "grid" / "launchers.py"
    launchers.write_text(re.sub(r"^LAUNCHERS = .*$", names, launchers.read_text(), count=1,
                                flags=re.M))
    (root / "bench" / "grid" / f"{NAME}_launcher.py").write_text(
        blocks[f"bench/grid/{NAME}_launcher.py"])
    built = _probe(root)
    assert NAME in built["launchers"]
    # Ray's launcher, or its refusal where the ray extra is not installed
    assert built["serial"] in ("RayCells", f"BenchError: {RAY_MISSING}"), built
    text = _grid_help(root)
    assert "{local,ray,serial}" in text and f"{NAME}:" not in text


def test_the_branch_builds_the_toy_refuses_rays_options_and_the_help_says_each(toy):
    root, _ = toy
    built = _probe(root)
    assert built["serial"] == TOY_CLASS and built["local"] == "LocalProcesses"
    assert built["address"] == built["retries"] == \
        "BenchError: --address and --retries are for --launcher ray"
    text = _grid_help(root)
    assert all(f"{name}:" in text for name in built["launchers"]), text


def _grid(root: Path, spec: Path, out: Path, launcher: str) -> subprocess.CompletedProcess:
    # DCGAN_BENCH_ESTIMATE (off in the suite, tests/conftest.py) reaches the grid's process
    return _run(root, "-m", "bench", "grid", spec, "--launcher", launcher, "--out", out)


def _cell_files(cell_dir: Path) -> set[str]:
    return {p.relative_to(cell_dir).as_posix() for p in cell_dir.rglob("*")
            if p.is_file() and "tb" not in p.relative_to(cell_dir).parts}


@pytest.mark.slow
def test_a_grid_through_the_toy_leaves_the_local_launchers_record(toy, tmp_path):
    root, _ = toy
    spec = tmp_path / "tiny.toml"
    spec.write_text(SPEC)
    # the local launcher's record to compare with: one cell of the same grid
    local_spec = tmp_path / "local.toml"
    local_spec.write_text(SPEC.replace("seeds = [0, 1]", "seeds = [0]"))
    runs = {}
    for launcher, grid_spec in ((NAME, spec), ("local", local_spec)):
        out = tmp_path / launcher
        proc = _grid(root, grid_spec, out, launcher)
        assert proc.returncode == 0, proc.stderr[-3000:]
        runs[launcher] = out
    with open(runs[NAME] / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    with open(runs["local"] / "results.csv", newline="") as f:
        (local_row,) = list(csv.DictReader(f))
    assert [r["cell_id"] for r in rows] == [
        "cpu_float32_xla-off_bs16_seed0", "cpu_float32_xla-off_bs16_seed1"]
    assert list(rows[0]) == list(local_row)  # the same columns
    assert {r["status"] for r in rows} == {"ok"} and {r["steps"] for r in rows} == {"4"}
    assert {r["concurrent_cells"] for r in rows} == {"1"}
    local_cell = runs["local"] / local_row["cell_id"]
    for row in rows:
        cell = runs[NAME] / row["cell_id"]
        assert _cell_files(cell) == _cell_files(local_cell)
        assert (cell / "tb").is_dir() and (cell / "samples.png").is_file()
        summary = json.loads((cell / "summary.json").read_text())
        local = json.loads((local_cell / "summary.json").read_text())
        assert summary["status"] == "ok" and set(summary) == set(local)
        assert summary["placement"]["launcher"] == NAME
        assert local["placement"]["launcher"] == "local"
        assert set(summary["placement"]) == set(local["placement"])
        assert (runs[NAME] / "logs" / summary["placement"]["log"]).is_file()
    manifest = json.loads((runs[NAME] / "manifest.json").read_text())
    assert [c["id"] for c in manifest["cells"]] == [r["cell_id"] for r in rows]
