"""A bad record costs only itself: a cell whose records cannot be read (not UTF-8, truncated, not a
JSON object, a field of the wrong type, a broken log) is `unreadable`, with its reason, in the
results, `table`, `report`, `claims`, `compare` and `history ingest`, and every other cell is read
as usual. Crafted from the golden run (tests/data/runs/golden)."""

import json
import shutil
from pathlib import Path

import pytest

from bench import schema
from bench.analysis.results import load_results
from bench.cli import main

GOLDEN = Path(__file__).parent / "data" / "runs" / "golden"
CLAIMS = """
[[claims]]
name = "cpu-bs64-rarely-collapses"
kind = "collapse_rate"
config = { device = "cpu", batch_size = 64, precision = "float32", xla = false }
max_rate = 0.5
"""
# cell -> (file, bytes it is overwritten with, words its reason must hold)
BROKEN = {
    "cpu_float32_xla-off_bs64_seed0": ("summary.json", b'{"status": "ok", \xff\xfe}', "not UTF-8"),
    "cpu_float32_xla-off_bs64_seed1": ("config.json", b'{"schema_version": 3, "seed": 1, "ba',
                                       "broken JSON record"),
    "cpu_float32_xla-on_bs64_seed0": ("env.json", b"[1, 2, 3]\n", "expected a JSON object"),
    "cpu_float32_xla-on_bs64_seed1": ("summary.json", None, "wrong shape"),
    "cpu_float32_xla-off_bs256_seed0": ("steps.jsonl", None, "not UTF-8"),
}


@pytest.fixture
def broken(tmp_path):
    run = tmp_path / "golden"
    shutil.copytree(GOLDEN, run)
    for cell, (name, content, _) in BROKEN.items():
        path = run / cell / name
        if content is None and name == "summary.json":  # a field of the wrong type
            summary = json.loads(path.read_text())
            content = json.dumps({**summary, "images_per_sec": "fast"}).encode()
        elif content is None:  # a log with a non-UTF-8 line in its middle
            lines = path.read_bytes().splitlines(keepends=True)
            content = b"".join(lines[:2] + [b"\x80\x81 garbage\n"] + lines[2:])
        path.write_bytes(content)
    return run


def test_each_unreadable_cell_is_itself_and_the_others_read_as_before(broken):
    rows = load_results([broken]).set_index("cell_id")
    golden = load_results([GOLDEN]).set_index("cell_id")
    for cell, (name, _, words) in BROKEN.items():
        assert rows.loc[cell, "status"] == schema.STATUS_UNREADABLE, cell
        assert words in rows.loc[cell, "reason"] and name in rows.loc[cell, "reason"], cell
        # its coordinates from the manifest's plan, so it still shows where it belongs
        assert rows.loc[cell, "batch_size"] == golden.loc[cell, "batch_size"]
    for cell in set(golden.index) - set(BROKEN):
        assert rows.loc[cell, "status"] == golden.loc[cell, "status"]
        assert rows.loc[cell, schema.FINAL_FID] == golden.loc[cell, schema.FINAL_FID] or \
            golden.loc[cell, schema.FINAL_FID] != golden.loc[cell, schema.FINAL_FID]


def test_table_report_claims_compare_and_ingest_go_on(broken, tmp_path, capsys):
    assert main(["table", str(broken)]) == 0
    printed = capsys.readouterr().out
    assert printed.count("unreadable") >= len(BROKEN)
    assert main(["report", str(broken), "--out", str(tmp_path / "report")]) == 0
    page = (tmp_path / "report" / "index.html").read_text()
    assert "unreadable" in page and "not UTF-8" in page
    claims = tmp_path / "claims.toml"
    claims.write_text(CLAIMS)
    assert main(["claims", str(claims), str(broken), "--out", str(tmp_path / "claims")]) in (0, 1)
    assert "Traceback" not in capsys.readouterr().err
    assert main(["compare", str(GOLDEN), str(broken), "--out", str(tmp_path / "compare")]) in (0, 1)
    compared = json.loads((tmp_path / "compare" / "comparison.json").read_text())
    not_compared = {c["cell"]: c["note"] for c in compared["cells_not_compared"]}
    for cell in BROKEN:
        assert cell in not_compared, cell
    assert main(["history", "ingest", str(broken), "--db", str(tmp_path / "h.sqlite")]) == 0
    assert "ingested" in capsys.readouterr().out


def test_ingest_refuses_a_run_with_no_finished_cell(tmp_path, capsys):
    run = tmp_path / "golden"
    run.mkdir()
    shutil.copy(GOLDEN / schema.MANIFEST_FILE, run / schema.MANIFEST_FILE)  # cells never started
    assert main(["history", "ingest", str(run), "--db", str(tmp_path / "h.sqlite")]) == 2
    err = capsys.readouterr().err
    assert "no cell of this run has finished (11 missing)" in err
    assert not (tmp_path / "h.sqlite").exists() or \
        main(["history", "list", "--db", str(tmp_path / "h.sqlite")]) == 0


def test_the_same_run_given_twice_is_counted_once(tmp_path, capsys):
    grid = tmp_path / "golden-grid"
    grid.mkdir()
    shutil.copytree(GOLDEN, grid / "20261204-000000")
    (grid / schema.LATEST_LINK).symlink_to("20261204-000000")
    once = load_results([grid / "20261204-000000"])
    for paths in ([grid / schema.LATEST_LINK, grid / "20261204-000000"], [grid, grid],
                  [grid / "20261204-000000", tmp_path / "golden-grid" / ".." / "golden-grid"]):
        assert len(load_results(paths)) == len(once), paths
    assert main(["report", str(grid / schema.LATEST_LINK), str(grid / "20261204-000000"),
                 "--out", str(tmp_path / "report")]) == 0
    summary = (tmp_path / "report" / "summary.md").read_text()
    assert f"Ran {len(once)} cells" in summary
