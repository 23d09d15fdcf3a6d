"""docs/how-to/add-a-claim-kind.md, done on a copy: its worked example (`digits_share`) added to a
copy of `bench/` with exactly the edits the page lists, and `dcgan-bench claims` run with the copy
on the crafted seed study (tests/data/runs/collapse-study: 10 of 10 seeds of part `base` make
digits, 3 of 10 of part `bs256`).

Hand-worked intervals (level 0.95): 10 of 10, the exact lower bound 0.025^(1/10) = 0.691503;
3 of 10, Clopper-Pearson [Beta(0.025; 3, 8), Beta(0.975; 4, 7)] = [0.066740, 0.652453].
The page's rows for docs/statistics.md and tests/test_claims.py are prose and tests, not code the
command runs: they are not made here.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "how-to" / "add-a-claim-kind.md"
STUDY = ROOT / "tests" / "data" / "runs" / "collapse-study"
KIND = "digits_share"

CLAIMS = f"""
[[claims]]
name = "base-makes-digits"
kind = "{KIND}"
config = {{ part = "base" }}
min_share = 0.6

[[claims]]
name = "bs256-makes-digits"
kind = "{KIND}"
config = {{ part = "bs256" }}
min_share = 0.7
"""

# The registrations the page shows, each a line `NAME = (..., entry)` or `NAME = {..., entry}`
# in its block: the test puts each entry first in today's table of that name.
REGISTRATION = re.compile(r"^([A-Z_]+) = ([({])\.\.\., (.*)[)}]$")


def _page_blocks() -> dict:
    """The worked example's code: the file named before each python block -> the block."""
    text = PAGE.read_text(encoding="utf-8")
    example = text[text.index("## A worked example"):]
    return dict(re.findall(r"In `(bench/[^`]+\.py)`[^\n]*:\n\n```python\n(.*?)```", example,
                           re.S))


def _table_rows() -> list[tuple[set, bool]]:
    """The page's table: (the bench/ files a row names, whether the row applies only sometimes)."""
    rows = []
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 2:
            files = set(re.findall(r"`(bench/[^`]+\.py)`", cells[0]))
            rows.append((files, cells[1].startswith("only")))
    return rows


def _edited(source: str, block: str) -> str:
    """`source` with a block of the page in it: its registrations into their tables, its imports
    after the module's last top-level import, its definitions at the end."""
    lines = block.strip("\n").splitlines()
    imports = [ln for ln in lines if ln.startswith(("from ", "import "))]
    for line in lines:
        if found := REGISTRATION.match(line):
            name, opening, entry = found.groups()
            anchor = f"{name} = {opening}"
            assert source.count(anchor) == 1, f"no one table {name} where the page says"
            source = source.replace(anchor, f"{anchor}{entry}, ")
    last_import = max(m.end() for m in re.finditer(r"^(from|import) [^\n(]+(\([^)]*\))?\n",
                                                   source, re.M))
    source = source[:last_import] + "".join(i + "\n" for i in imports) + source[last_import:]
    definitions = "\n".join(ln for ln in lines if ln not in imports
                            and not REGISTRATION.match(ln)).strip()
    return source.rstrip("\n") + "\n\n\n" + definitions + "\n" if definitions else source


def _add_the_kind(bench_copy: Path) -> set:
    """The page's edits, made on the copy; the files edited."""
    blocks = _page_blocks()
    for name, block in blocks.items():
        path = bench_copy.parent / name
        path.write_text(_edited(path.read_text(encoding="utf-8"), block), encoding="utf-8")
    return set(blocks)


def _claims(copy_root: Path, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(copy_root)}
    return subprocess.run([sys.executable, "-m", "bench", "claims", *map(str, args)],
                          cwd=copy_root, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def copy_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("howto")
    shutil.copytree(ROOT / "bench", root / "bench",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (root / "claims.toml").write_text(CLAIMS, encoding="utf-8")
    return root


def test_without_the_edits_the_kind_is_refused(copy_root):
    result = _claims(copy_root, copy_root / "claims.toml", STUDY)
    assert result.returncode == 2, result.stderr
    assert "kind: expected one of" in result.stderr and f"found '{KIND}'" in result.stderr


def test_the_pages_edits_make_a_working_claim_kind(copy_root):
    edited = _add_the_kind(copy_root / "bench")
    # the page's table names every file edited, and each file it always needs was edited
    rows = _table_rows()
    assert edited <= set().union(*(files for files, _ in rows))
    assert all(files & edited for files, sometimes in rows if files and not sometimes)

    judged = _claims(copy_root, copy_root / "claims.toml", STUDY, "--family",
                     "--out", copy_root / "out")
    assert judged.returncode == 1, judged.stderr  # a claim fails
    out = " ".join(judged.stdout.split())
    assert "base-makes-digits holds 10/10 seeds make digits; exact 95% interval [0.692, " \
           "1.000] against at least 0.6" in out
    assert "bs256-makes-digits fails 3/10 seeds make digits; exact 95% interval [0.067, " \
           "0.652] against at least 0.7" in out
    assert "Holm across the file's 2 claims" in out  # the family correction read its shape
    page = (copy_root / "out" / "claims.md").read_text(encoding="utf-8")
    assert "digits_share" in page and (copy_root / "out" / "claims.png").is_file()

    planned = _claims(copy_root, copy_root / "claims.toml", STUDY, "--plan")
    assert planned.returncode == 0, planned.stderr
    assert "observed share 1.000" in planned.stdout and "observed share 0.300" in planned.stdout
