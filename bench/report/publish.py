"""Publishing pages: every page dcgan-bench renders is written through `publish`.

    publish(Path("reports/cpu"), lambda out: out.text("index.html", html))

`write(out)` is called on a temporary directory beside `out_dir`, which is then renamed over
`out_dir`: a reader sees the old pages or the new ones, never half of them, and a failed render
leaves the old pages as they were. `out_dir` is replaced only if it is empty or holds pages this
module wrote (it leaves a marker file), so a mistyped --out never deletes someone's directory.
Each file is itself written atomically (bench.records). The report, the comparison, the trend
page and the claims page all go through here. Nothing here imports TensorFlow.
"""

import errno
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

from bench import records
from bench.errors import BenchError
from bench.report.figures import figure_to_png

MARKER = ".dcgan-bench-report"


class Output:
    """Writes the report's files under one directory, atomically each; returns relative names."""

    def __init__(self, root: Path):
        self.root = root

    def _write(self, name, data_bytes: bytes) -> str:
        records.write_bytes_atomic(self.root / name, data_bytes)
        return name

    def figure(self, name, fig):
        return None if fig is None else self._write(name, figure_to_png(fig))

    def table(self, name, frame) -> str:
        return self._write(name, frame.to_csv(index=False).encode("utf-8"))

    def text(self, name, text) -> str:
        return self._write(name, text.encode("utf-8"))

    def copy(self, src: Path, name, within: Path) -> str | None:
        """A copy of `src` as `name` where it is a regular file in a directory inside `within`
        (no symbolic link out of it, at `src` or on the way); None otherwise. A run's records
        name the files: nothing else of the machine is published through them."""
        src = Path(src)
        if not src.parent.resolve().is_relative_to(Path(within).resolve()):
            return None
        try:
            fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return None
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                return None
            return self._write(name, f.read())


def check_out_dir(out_dir: Path):
    """BenchError when `out_dir` is something publish must not replace."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise BenchError("exists and is not a directory; choose another --out", path=out_dir)
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MARKER).is_file():
        raise BenchError(f"exists and is not a report (no {MARKER}); choose another --out or "
                         "remove it", path=out_dir)


def _scratch_prefix(out_dir: Path, kind: str, pid: int | None = None) -> str:
    """A scratch directory's name beside `out_dir`: its kind and the process that made it."""
    return f".{out_dir.name}.{kind}-{os.getpid() if pid is None else pid}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _remove_stale_scratch(out_dir: Path):
    """The scratch directories of renders that were killed (their process is gone): a kill -9
    mid-render left them beside the pages for good."""
    if not out_dir.parent.is_dir():
        return
    pattern = re.compile(rf"\.{re.escape(out_dir.name)}\.(tmp|old)-(\d+)-")
    for path in out_dir.parent.iterdir():
        found = pattern.match(path.name)
        if found and path.is_dir() and not path.is_symlink() and not _alive(int(found[2])):
            shutil.rmtree(path, ignore_errors=True)


def _replace_dir(new: Path, out_dir: Path):
    old = None
    if out_dir.exists():
        old = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=_scratch_prefix(out_dir, "old")))
        os.replace(out_dir, old / "report")
    os.replace(new, out_dir)
    if old is not None:
        shutil.rmtree(old)


def publish(out_dir: Path, write):
    """Call `write(Output)` on a temporary directory beside `out_dir`, then rename it over
    `out_dir`: a reader sees the old pages or the new ones, never half of them."""
    out_dir = Path(out_dir)
    check_out_dir(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_scratch(out_dir)
    try:
        tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=_scratch_prefix(out_dir, "tmp")))
    except OSError as e:
        raise BenchError(f"cannot write the pages here ({e.strerror or e})", path=out_dir) from None
    try:
        os.chmod(tmp, 0o755)
        write(Output(tmp))
        Output(tmp).text(MARKER, "written by dcgan-bench; the directory is replaced on re-render\n")
        _replace_dir(tmp, out_dir)
    except OSError as e:  # a full disk, a file system gone read-only: the old pages stay
        shutil.rmtree(tmp, ignore_errors=True)
        if e.errno not in (errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EACCES):
            raise
        raise BenchError(f"cannot write the pages ({e.strerror}); the pages that were there "
                         "are left as they were", path=out_dir) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
