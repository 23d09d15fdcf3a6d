"""The report under faults (issue 46): a disk that fills while the pages are written is one line,
exit 2, the old pages left as they were and nothing half-written beside them; a render killed
with -9 leaves its scratch directory, which the next render removes. A real tmpfs and real
processes."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from mounts import small_tmpfs
from test_report import copy_golden

from bench.cli import main as bench_main

ROOT = Path(__file__).resolve().parent.parent


def test_a_full_disk_is_one_line_and_leaves_nothing_half_written(tmp_path, capsys):
    run = copy_golden(tmp_path)
    with small_tmpfs(tmp_path / "disk", "96k") as disk:
        (disk / "old").mkdir()
        assert bench_main(["report", str(run), "--out", str(disk / "reports")]) == 2
        err = capsys.readouterr().err
        assert "No space left on device" in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1
        assert sorted(p.name for p in disk.iterdir()) == ["old"]


def test_a_render_killed_mid_way_leaves_scratch_that_the_next_render_removes(tmp_path):
    run = copy_golden(tmp_path)
    out = tmp_path / "pages" / "report"
    out.parent.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "bench", "report", str(run), "--out", str(out)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    prefix = f".report.tmp-{proc.pid}-"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None and \
            not any(p.name.startswith(prefix) for p in out.parent.iterdir()):
        time.sleep(0.05)
    assert proc.poll() is None, "the render ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert any(p.name.startswith(prefix) for p in out.parent.iterdir())
    assert bench_main(["report", str(run), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.parent.iterdir()) == ["report"]
