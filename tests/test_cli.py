"""The command line's edges, as a user meets them: exits that mean what they say (a closed pipe,
refusals before any start-up), output that fits a terminal, --version and --help."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.cli import EXAMPLES, build_parser, main

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "data" / "runs" / "golden"


def _run(*argv, **kwargs):
    return subprocess.run([sys.executable, "-m", "bench", *map(str, argv)], cwd=ROOT,
                          capture_output=True, text=True, **kwargs)


def test_a_closed_pipe_ends_quietly_with_the_verdicts_exit_code_and_the_files_written(tmp_path):
    out = tmp_path / "compare"
    # `compare A B | head -2`: the reader goes after two lines
    proc = subprocess.run(f'{sys.executable} -m bench compare {GOLDEN} {GOLDEN} --out {out} '
                          f'| head -2; exit "${{PIPESTATUS[0]}}"', shell=True,
                          executable="/bin/bash", cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr  # the verdict's code (ok), not a crash's
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr
    assert len(proc.stdout.splitlines()) == 2
    assert json.loads((out / "comparison.json").read_text())["verdict"] == "ok"
    assert (out / "index.html").is_file() and (out / "summary.md").is_file()


def test_table_and_compare_fit_100_columns_and_wide_shows_every_column(tmp_path, capsys):
    assert main(["table", str(GOLDEN)]) == 0
    narrow = capsys.readouterr().out
    assert max(map(len, narrow.splitlines())) <= 100
    assert "cpu_float32_xla-on_bs256_seed1" in narrow  # a cell id is never cut
    assert main(["table", str(GOLDEN), "--wide"]) == 0
    wide = capsys.readouterr().out
    assert "images_per_sec_p90" in wide and "images_per_sec_p90" not in narrow
    assert main(["compare", str(GOLDEN), str(GOLDEN), "--out", str(tmp_path / "c")]) == 0
    text = capsys.readouterr().out
    assert max(len(line) for line in text.splitlines() if not line.startswith("written:")) <= 100
    assert main(["compare", str(GOLDEN), str(GOLDEN), "--out", str(tmp_path / "c"), "--wide"]) == 0
    assert "night noise" in capsys.readouterr().out


def test_version_and_help_with_defaults_and_an_example_for_every_command(capsys):
    import bench

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"dcgan-bench {bench.__version__}"
    sub = next(a for a in build_parser()._actions if hasattr(a, "choices") and a.choices)
    assert set(sub.choices) == set(EXAMPLES)
    for name, parser in sub.choices.items():
        text = parser.format_help()
        assert f"example:\n  {EXAMPLES[name].splitlines()[0]}" in text, name
    train = sub.choices["train"].format_help()
    for said in ("(default: the model's: 64; 128 for unrolled-dcgan)", "(default: off)",
                 "(default: 10000)", "(default: cpu)"):
        assert said in " ".join(train.split()), said


def test_refusals_decided_from_the_arguments_come_before_any_start_up(tmp_path):
    """Each refused in under 2 s on an idle machine of ours (under three Python start-ups on a
    loaded one): no TensorFlow, no training."""
    spec = tmp_path / "s.toml"
    spec.write_text('name = "s"\n[axes]\nseeds = [0]\nbatch_sizes = [10000]\ndevices = ["cpu"]\n'
                    'xla = [false]\nprecision = ["float32"]\n[budget]\nsteps = 5\n')
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "something").write_text("a user's file")
    fine_spec = ROOT / "runs" / "grids" / "smoke.toml"
    cases = [
        (("grid", spec, "--out", tmp_path / "o1"), "batch_size: expected at most 5000"),
        (("grid", fine_spec, "--out", existing), "run directory exists and is not empty"),
        (("train", "--data", "mnist", "--data-dir", tmp_path / "nowhere", "--out", tmp_path / "c"),
         "data directory not found"),
        (("train", "--batch-size", "6000", "--out", tmp_path / "c2"),
         "batch_size: expected at most 5000"),
        (("train", "--out", existing), "output directory exists and is not empty"),
        (("score", tmp_path / "nowhere.npz"), "nowhere.npz"),
    ]
    for argv, said in cases:
        pace = _python_start_seconds()
        started = time.perf_counter()
        proc = _run(*argv, env={**os.environ, "PYTHONPATH": str(ROOT)})
        seconds = time.perf_counter() - started
        assert proc.returncode == 2 and said in proc.stderr, (argv, proc.stderr[-500:])
        assert "tensorflow" not in proc.stderr.lower()
        # 2 s, or three times what starting Python and the CLI takes on this machine now (a
        # loaded machine's pace): a refusal after TensorFlow's start takes ten times that
        bound = max(2.0, 3 * max(pace, _python_start_seconds()))  # the load before and after
        assert seconds < bound, (argv, seconds, bound)
    assert (existing / "something").read_text() == "a user's file"
    assert not (tmp_path / "o1").exists() and not (tmp_path / "c").exists()


def _python_start_seconds() -> float:
    """How long this machine takes to start Python and import the CLI (a busy machine's excuse)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import bench.cli"], cwd=ROOT, check=True)
    return time.perf_counter() - started


def test_a_tensorflow_process_imports_nothing_of_jax(tmp_path):
    import importlib.metadata

    # asked of the installed packages, not the importer: a test before may have started
    # TensorFlow in this process, which keeps JAX out of it (the subprocess is what is checked)
    try:
        importlib.metadata.version("jax")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("JAX is not installed: nothing to keep out")
    import numpy as np

    npz = tmp_path / "x.npz"
    np.savez(npz, images=np.random.default_rng(0).integers(0, 256, (256, 28, 28), np.uint8))
    code = ("import sys; from bench.cli import main; code = main(['score', sys.argv[1], '--json']); "
            "jax = sorted(m for m in sys.modules if m.split('.')[0] in ('jax', 'jaxlib', 'flax')); "
            "assert not jax, jax; assert 'tensorflow' in sys.modules; sys.exit(code)")
    proc = subprocess.run([sys.executable, "-c", code, str(npz)], cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["n"] == 256


# Installed as sitecustomize: these packages unimportable in the process, as on a machine whose
# install lacks them.
BLOCK = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ImportError(name + " is blocked in this test")
sys.meta_path.insert(0, Block())
"""


def _run_without(tmp_path, blocked, *argv, keras_backend=None):
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(BLOCK.format(blocked=tuple(blocked)))
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    if keras_backend:
        env["KERAS_BACKEND"] = keras_backend
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    return _run(*argv, env=env)


def test_a_missing_framework_is_one_line_naming_its_extra(tmp_path):
    """Since 0.3 a framework comes with an extra: a cell or command without the one it needs
    says which to install, exit 2, no traceback."""
    import numpy as np

    npz = tmp_path / "x.npz"
    np.savez(npz, images=np.zeros((256, 28, 28), np.uint8))
    proc = _run_without(tmp_path, ["tensorflow"], "train", "--framework", "tensorflow",
                        "--steps", "5", "--final-eval-n", "0", "--out", tmp_path / "cell")
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "pip install -e '.[tensorflow]'" in proc.stderr and "Traceback" not in proc.stderr
    proc = _run_without(tmp_path, ["tensorflow", "jax", "jaxlib"], "score", npz)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "none is installed" in proc.stderr and "'.[tensorflow]'" in proc.stderr
    assert "Traceback" not in proc.stderr
    # KERAS_BACKEND naming a framework that is not there: said, not a traceback from Keras
    proc = _run_without(tmp_path, ["tensorflow"], "score", npz, keras_backend="tensorflow")
    assert proc.returncode == 2 and "KERAS_BACKEND=tensorflow" in proc.stderr, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr


def test_trains_old_backend_option_still_names_the_framework():
    args = build_parser().parse_args(["train", "--backend", "jax", "--out", "x"])
    assert args.framework == "jax"
    assert build_parser().parse_args(["train", "--out", "x"]).framework == "tensorflow"


def test_the_version_is_pyprojects_everywhere(capsys):
    """--version, env.json's harness_version (bench.__version__) and pyproject.toml say one
    number (they once said 0.2.0, 0.2.0 and 0.3.0)."""
    import tomllib

    import bench

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert bench.__version__ == declared
    with pytest.raises(SystemExit):
        main(["--version"])
    assert declared in capsys.readouterr().out
