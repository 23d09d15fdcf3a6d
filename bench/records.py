"""Writing and reading run records: atomic files and versioned JSON.

Writers never leave a half-written file: each file is written to a temporary name in the same
directory and renamed over the target, so a killed process leaves either the old file or the new
one. `atomic_path` is the one routine that does this, for every file the harness writes (records,
reports, reference caches, generator and instrument weights). `steps.jsonl` and `evals.jsonl`
are appended a line at a time; a reader drops a torn last line (the only damage a kill can do to
them) and says so.

Nothing here imports TensorFlow.
"""

import contextlib
import json
import math
import os
import tempfile
from fractions import Fraction
from pathlib import Path

from bench import schema
from bench.errors import BenchError


@contextlib.contextmanager
def atomic_path(path):
    """A temporary path beside `path`; renamed over `path` when the block ends without an error.

    For writers that want a file name (Keras' save_weights, NumPy's savez): the temporary name
    ends with the target's name, because Keras insists on a ".weights.h5" ending. The file is made
    readable by everyone (mkstemp creates it 0600; records, reports and weights are shared).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=f".{path.name}")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_bytes_atomic(path, data: bytes):
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def write_text_atomic(path, text: str):
    write_bytes_atomic(path, text.encode("utf-8"))


def jsonable(value):
    """Plain JSON: NaN and Inf become null (JSON has no such numbers), numpy scalars become
    Python, an exact p-value (a Fraction) its "numerator/denominator" text."""
    if isinstance(value, Fraction):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def write_json_record(path, record: dict):
    """Write a JSON record with its schema_version, atomically."""
    body = {"schema_version": schema.SCHEMA_VERSION, **jsonable(record)}
    write_text_atomic(path, json.dumps(body, indent=2, sort_keys=False) + "\n")


def append_jsonl(path, record: dict):
    line = json.dumps({"schema_version": schema.SCHEMA_VERSION, **jsonable(record)})
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")
        f.flush()


def _check_version(path, record):
    if not isinstance(record, dict):
        raise BenchError(f"expected a JSON object, found {type(record).__name__}", path=path)
    version = record.get("schema_version")
    if not isinstance(version, int):
        raise BenchError(f"schema_version: expected an integer, found {version!r}", path=path)
    if version > schema.SCHEMA_VERSION:
        raise BenchError(
            f"schema_version {version} is newer than this dcgan-bench understands "
            f"({schema.SCHEMA_VERSION}); upgrade dcgan-bench to read it", path=path)
    return record


def _read_text(path: Path) -> str:
    """A record's text; BenchError when it is missing, unreadable or not UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BenchError("no such file", path=path) from None
    except UnicodeDecodeError as e:
        raise BenchError(f"not UTF-8 text (byte {e.start}: {e.reason})", path=path) from None
    except OSError as e:
        raise BenchError(f"cannot read it ({e.strerror})", path=path) from None


def read_json_record(path) -> dict:
    path = Path(path)
    text = _read_text(path)
    try:
        record = json.loads(text)
    except json.JSONDecodeError as e:
        raise BenchError(f"broken JSON record ({e})", path=path) from None
    return _check_version(path, record)


def read_jsonl(path) -> list[dict]:
    """All records of a JSON-lines file; a torn last line (a killed writer) is dropped."""
    path = Path(path)
    if not path.exists():
        return []
    lines = _read_text(path).splitlines()
    records = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            records.append(_check_version(path, json.loads(line)))
        except json.JSONDecodeError:
            if i == len(lines) - 1:
                break  # torn by a kill mid-write: everything before it is whole
            raise BenchError(f"line {i + 1}: broken JSON", path=path) from None
    return records


def read_toml(path, what: str) -> dict:
    """A TOML file (a grid spec, a claims file) as a dict; BenchError naming the file when it is
    missing or not TOML."""
    import tomllib

    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BenchError(f"no such {what}", path=path) from None
    except tomllib.TOMLDecodeError as e:
        raise BenchError(f"not valid TOML ({e})", path=path) from None
