"""Real file-system faults for the tests: a read-only view of a directory (a read-only bind
mount as root, the files' modes otherwise: root writes whatever the modes say). A test skips,
saying why, where this machine cannot make one."""

import contextlib
import os
import subprocess
from pathlib import Path

import pytest


def _mount(*args) -> subprocess.CompletedProcess:
    """mount(8)'s outcome; a machine without it (or without the right) says so, as mount would."""
    try:
        return subprocess.run(["mount", *args], capture_output=True, text=True)
    except OSError as e:
        return subprocess.CompletedProcess(["mount", *args], 1, "", f"mount: {e}")


@contextlib.contextmanager
def read_only_view(directory: Path):
    """`directory` as a path nobody here can write, for the block's length: the path to use."""
    directory = Path(directory)
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [directory, *directory.rglob("*")]}
        for path in modes:
            path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield directory
        finally:
            for path, mode in modes.items():
                path.chmod(mode)
        return
    view = directory.with_name(directory.name + "-read-only")
    view.mkdir()
    bound = _mount("--bind", str(directory), str(view))
    if bound.returncode != 0:
        view.rmdir()
        pytest.skip(f"root, but cannot bind-mount here ({bound.stderr.strip()}): no read-only "
                    "directory to test with")
    try:
        remounted = _mount("-o", "remount,bind,ro", str(view))
        if remounted.returncode != 0:
            pytest.skip(f"cannot remount a bind mount read-only here ({remounted.stderr.strip()})")
        yield view
    finally:
        if subprocess.run(["umount", str(view)], capture_output=True).returncode == 0:
            view.rmdir()


@contextlib.contextmanager
def small_tmpfs(directory: Path, size: str):
    """A tmpfs of `size` (mount's notation, e.g. "256k") at `directory`, for the block's length:
    a disk that fills. Root only; a test skips, saying why, elsewhere."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("not root: no small file system can be mounted to fill")
    mounted = _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory))
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()})")
    try:
        yield directory
    finally:
        subprocess.run(["umount", str(directory)], capture_output=True)
