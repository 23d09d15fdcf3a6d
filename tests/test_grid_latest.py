"""`runs/<spec>/latest` that is not a link (a copy that followed it, issue 46): the grid trains
and records every cell as always, says at the start and at the end that `latest` is left as it
is, and exits 0; before, it trained every cell and then ended in an IsADirectoryError traceback,
and the nightly job never ingested the night. A real grid of one short cell."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hogs import TINY_TF_CELL, tiny_tf_spec

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
SPEC = tiny_tf_spec("latest", steps=20)


def test_a_latest_that_is_a_directory_costs_no_run(tmp_path):
    (tmp_path / "latest.toml").write_text(SPEC)
    kept = tmp_path / "runs" / "latest" / "latest"
    kept.mkdir(parents=True)
    (kept / "a-copy.txt").write_text("someone's copy\n")
    proc = subprocess.run([sys.executable, "-m", "bench", "grid", "latest.toml"], cwd=tmp_path,
                          capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("is a directory, not the link the grid keeps to the newest run") == 2
    (run,) = [p for p in (tmp_path / "runs" / "latest").iterdir() if p.name != "latest"]
    assert list(pd.read_csv(run / "results.csv")["status"]) == ["ok"]
    assert not kept.is_symlink() and (kept / "a-copy.txt").read_text() == "someone's copy\n"


def test_a_disk_that_fills_during_a_cell_is_named_in_its_record(tmp_path):
    """A real tmpfs of 4 MB for the run: the cell cannot save its generator (9 MB) and its
    process dies (a segmentation fault in the file library, here). Its record says the disk is
    full, not only "ended with signal 11"."""
    from mounts import small_tmpfs

    (tmp_path / "latest.toml").write_text(SPEC)
    with small_tmpfs(tmp_path / "disk", "4m") as disk:
        proc = subprocess.run([sys.executable, "-m", "bench", "grid", "latest.toml", "--out",
                               str(disk / "run")], cwd=tmp_path, capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        cell = disk / "run" / TINY_TF_CELL
        summary = json.loads((cell / "summary.json").read_text())
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert summary["status"] == "failed"
    assert summary["reason"].startswith(f"the disk holding {cell} is full ("), summary["reason"]
