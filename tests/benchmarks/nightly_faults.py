"""The nightly job under faults, night after night (issue 46): is every night after a fault
judged, does the history stay whole, is any finished cell lost?

    python tests/benchmarks/nightly_faults.py --out /tmp/faults [--nights 50] [--seed 0]
        [--real]

Two series in one history (a SQLite file under --out):

1. Crafted nights (tests/nights.py: copies of the golden grid, each with its start time and its
   throughput times a night level of 3% noise), each ingested and judged with `last-good`
   through the command line, as the nightly job does. On a night drawn at random for each:
   - `kill-ingest`: the ingest killed with -9 inside its transaction, then run again;
   - `hostile-why`: the night before accepted with a `--why` of rich markup, an ANSI escape and
     Markdown; tonight's comparison printed and written;
   - `half-written`: the night ingested while a cell is still `running` and its grid holds the
     lock (refused), then with the lock let go (kept as it is), then again once finished
     (completed);
   - `full-disk`: the comparison's pages written to a full disk (a 16 KB tmpfs; root only), then
     written again elsewhere.
2. With --real, real nights of a one-cell spec (`dcgan-bench nightly`, TensorFlow, 60 steps:
   five measured windows): a normal night, `kill-driver` (the nightly job killed with -9
   mid-cell: its cell must die with it; the run then resumed with `grid --resume`, ingested
   and judged), a normal night, `kill-cell` (the cell's process killed with -9: recorded
   failed, the night judged), a normal night, `full-disk-cell` (the night's runs on a 4 MB
   tmpfs: the cell cannot save its generator; recorded so, the night judged, the run copied
   off before the tmpfs goes), and a last normal night.

After every night: SQLite's integrity and foreign-key checks pass, every run in the history has
its cells, and every cell `ok` in a run directory is `ok` in the history. Prints a line a night
and the counts; writes faults.json.
"""

import argparse
import json
import math
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from hogs import TINY_TF_CELL, tiny_tf_spec  # noqa: E402
from nights import craft_night  # noqa: E402
from process_faults import KILL_MID_INGEST, cell_pids  # noqa: E402

from bench import rundirs, schema  # noqa: E402
from bench.analysis import history  # noqa: E402

CRAFTED_FAULTS = ("kill-ingest", "hostile-why", "half-written", "full-disk")
HOSTILE_WHY = "[/x] [bold]accepted[/bold] \x1b[2J\x1b[1A forged line ![i](http://e.org) @team"
CELL = "cpu_float32_xla-off_bs64_seed0"
HOLD_LOCK = """
import sys, time
from bench.grid.lock import RunDirLock
with RunDirLock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(3600)
"""
REAL_SPEC = tiny_tf_spec("faults", steps=60)  # five measured windows
REAL_CELL = TINY_TF_CELL


def bench(*args, cwd=ROOT, **popen) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, **popen)


def integrity(db: Path) -> list[str]:
    """What is wrong with the history as a database: [] when nothing."""
    con = sqlite3.connect(db)
    try:
        problems = [r[0] for r in con.execute("PRAGMA integrity_check") if r[0] != "ok"]
        problems += [f"foreign key: {r}" for r in con.execute("PRAGMA foreign_key_check")]
        problems += [f"run {r[0]} has no cells" for r in con.execute(
            "SELECT id FROM runs WHERE id NOT IN (SELECT run_id FROM cells)")]
    finally:
        con.close()
    return problems


def lost_cells(run_dir: Path, db: Path) -> list[str]:
    """Cells `ok` in the run directory and not `ok` in the history's copy of the run."""
    loaded = history.kept_id(history.run_dir_to_run(run_dir), db) if db.is_file() else None
    if loaded is None:
        return []  # not in the history (yet): nothing there to lose
    kept = history.run_results(loaded, db).set_index("cell_id")["status"]
    return [cell.name for _, cell in rundirs.find_cell_dirs([run_dir])
            if rundirs.cell_status(cell) == schema.STATUS_OK
            and kept.get(cell.name) != schema.STATUS_OK]


def judged(run_dir: Path, db: Path) -> bool:
    run_id = history.kept_id(history.run_dir_to_run(run_dir), db)
    return run_id is not None and history.run_info(run_id, db)["verdict"] is not None


def compare(run_dir: Path, db: Path, out: Path) -> subprocess.CompletedProcess:
    return bench("compare", "last-good", run_dir, "--db", db, "--out", out)


def mount_tmpfs(path: Path, size: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    return os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True).returncode == 0


def crafted_night(i: int, fault: str | None, root: Path, db: Path, rng) -> dict:
    started = f"2026-01-{1 + i // 24:02d}T{i % 24:02d}:00:00+00:00"
    run = craft_night(root / "nightly", f"N{i:02d}", started,
                      speed=math.exp(rng.gauss(0, 0.03)))
    night = {"night": run.name, "fault": fault, "notes": []}
    if fault == "kill-ingest":
        proc = subprocess.run([sys.executable, "-c", KILL_MID_INGEST, str(run), str(db)],
                              cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        night["notes"].append(f"ingest killed: exit {proc.returncode}")
    if fault == "half-written":
        summary = run / CELL / schema.SUMMARY_FILE
        finished = summary.read_text()
        summary.write_text(json.dumps({**json.loads(finished), "status": "running"}))
        holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(run)], cwd=ROOT,
                                  stdout=subprocess.PIPE, text=True)
        holder.stdout.readline()
        refused = bench("history", "ingest", run, "--db", db)
        night["notes"].append(f"ingest while the lock is held: exit {refused.returncode} "
                              f"({refused.stderr.strip()[-120:]})")
        holder.kill()
        holder.wait()
        half = bench("history", "ingest", run, "--db", db)
        night["notes"].append(f"ingest half-written: {half.stdout.strip()}")
        summary.write_text(finished)
    ingest = bench("history", "ingest", run, "--db", db)
    night["notes"].append(ingest.stdout.strip() or ingest.stderr.strip()[-200:])
    if fault == "hostile-why" and i > 0:
        before = history.kept_id(history.run_dir_to_run(root / "nightly" / f"N{i - 1:02d}"), db)
        accepted = bench("history", "accept", before, "--why", HOSTILE_WHY, "--db", db)
        night["notes"].append(f"accept --why hostile: exit {accepted.returncode}")
    pages = root / "compare" / run.name
    if fault == "full-disk" and mount_tmpfs(root / "disk", "16k"):
        try:
            full = compare(run, db, root / "disk" / "compare")
            night["notes"].append(f"compare onto a full disk: exit {full.returncode} "
                                  f"({full.stderr.strip()[-160:]})")
        finally:
            subprocess.run(["umount", str(root / "disk")], capture_output=True)
    result = compare(run, db, pages)
    night.update(compare_exit=result.returncode, run=run,
                 crashed="Traceback" in result.stderr,
                 printed_escape="\x1b" in result.stdout)
    return night


def _wait_for_cell(runs: Path, before: set, timeout: float = 900) -> Path:
    """Tonight's cell, once it has logged a window (earlier nights' runs are `before`)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = [p for p in runs.glob(f"*/{REAL_CELL}/{schema.STEPS_FILE}")
                 if not p.parent.parent.is_symlink() and p.parent.parent not in before]
        if found:
            return found[0].parent
        time.sleep(0.2)
    raise RuntimeError(f"no cell started under {runs} in {timeout:.0f} s")


def real_night(i: int, fault: str | None, work: Path, db: Path) -> dict:
    spec = work / "faults.toml"
    runs = work / "runs" / "faults"
    before = set(runs.iterdir()) if runs.is_dir() else set()
    night = {"night": f"R{i:02d}", "fault": fault, "notes": []}
    args = [sys.executable, "-m", "bench", "nightly", str(spec), "--db", str(db), "--reports",
            str(work / "reports")]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    disk = fault == "full-disk-cell" and mount_tmpfs(work / "disk", "4m")
    if disk:
        runs.mkdir(parents=True, exist_ok=True)
        # the night's run directory on the small disk: its grid's --out through a link
        stamp = time.strftime("%Y%m%d-%H%M%S")
        (runs / stamp).symlink_to(work / "disk")
        args = [sys.executable, "-m", "bench", "grid", str(spec), "--out", str(runs / stamp)]
    proc = subprocess.Popen(args, cwd=work, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    if fault in ("kill-driver", "kill-cell"):
        cell = _wait_for_cell(runs, before)
        victims = [proc.pid] if fault == "kill-driver" else cell_pids(cell)
        if not victims:
            raise RuntimeError(f"no process found training {cell}")
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        night["notes"].append(f"killed {fault[5:]} ({victims})")
        if fault == "kill-driver":
            deadline = time.time() + 30
            while time.time() < deadline and cell_pids(cell):
                time.sleep(0.1)
            night["notes"].append(f"cell processes alive after the driver: "
                                  f"{len(cell_pids(cell))}")
    out, err = proc.communicate()
    night["exit"] = proc.returncode
    night["said"] = (out + err)[-1500:]
    night["crashed"] = "Traceback" in err
    (run,) = [p for p in runs.iterdir() if p not in before and p.name != "latest"]
    if disk:
        copy = runs / f"{run.name}-copied"
        shutil.copytree(run.resolve(), copy)
        run.unlink()
        subprocess.run(["umount", str(work / "disk")], capture_output=True)
        run = copy
        (run / ".grid.lock").unlink(missing_ok=True)
        (run / ".grid.lock.json").unlink(missing_ok=True)
    if fault == "kill-driver":
        resumed = bench("grid", spec, "--out", run, "--resume", cwd=work)
        night["notes"].append(f"resumed: exit {resumed.returncode}")
    if fault in ("kill-driver", "full-disk-cell"):
        ingest = bench("history", "ingest", run, "--db", db, cwd=work)
        night["notes"].append(ingest.stdout.strip() or ingest.stderr.strip()[-200:])
        result = compare(run, db, work / "reports" / "faults-compare")
        night["compare_exit"] = result.returncode
        night["crashed"] |= "Traceback" in result.stderr
    night["run"] = run
    night["cell"] = rundirs.cell_status(run / REAL_CELL)
    return night


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--nights", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--real", action="store_true", help="the real nights' series too")
    args = parser.parse_args(argv)
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    db = args.out / "history.sqlite"
    rng = random.Random(args.seed)
    fault_nights = dict(zip(rng.sample(range(2, args.nights - 1), len(CRAFTED_FAULTS)),
                            CRAFTED_FAULTS)) if args.nights > len(CRAFTED_FAULTS) + 2 else {}
    nights, t0 = [], time.time()
    plan = [("crafted", i, fault_nights.get(i)) for i in range(args.nights)]
    if args.real:
        work = args.out / "real"
        work.mkdir()
        (work / "faults.toml").write_text(REAL_SPEC)
        plan += [("real", i, f) for i, f in enumerate(
            (None, "kill-driver", None, "kill-cell", None, "full-disk-cell", None))]
    for kind, i, fault in plan:
        night = crafted_night(i, fault, args.out, db, rng) if kind == "crafted" else \
            real_night(i, fault, args.out / "real", db)
        night["integrity"] = integrity(db)
        night["lost"] = lost_cells(night["run"], db)
        night["judged"] = judged(night["run"], db)
        night["run"] = str(night["run"])
        nights.append(night)
        print(f"{night['night']} {fault or '-'}: judged {night['judged']}, integrity "
              f"{night['integrity'] or 'ok'}, lost {night['lost'] or 'none'}; "
              f"{' | '.join(night['notes'])[-300:]}", flush=True)
    after = {}
    for kind in ("crafted", "real"):
        series = [n for n in nights if n["night"][0] == ("N" if kind == "crafted" else "R")]
        for k, night in enumerate(series):
            if night["fault"]:
                rest = series[k + 1:]
                after[night["fault"]] = {"nights_after": len(rest),
                                         "judged_after": sum(n["judged"] for n in rest)}
    summary = {"nights": nights, "after_each_fault": after,
               "not_judged": [n["night"] for n in nights if not n["judged"]],
               "integrity_problems": sum(bool(n["integrity"]) for n in nights),
               "cells_lost": sum(len(n["lost"]) for n in nights),
               "crashes": [n["night"] for n in nights if n.get("crashed")],
               "escapes_printed": [n["night"] for n in nights if n.get("printed_escape")],
               "seconds": time.time() - t0}
    (args.out / "faults.json").write_text(json.dumps(summary, indent=1, default=str))
    print(json.dumps({k: v for k, v in summary.items() if k != "nights"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
