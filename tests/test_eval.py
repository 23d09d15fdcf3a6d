"""Evaluation through the command line and inside a training cell."""

import json

import numpy as np
import pytest

from bench import records, schema
from bench.cell.train import run_cell
from bench.cli import main
from bench.config import MIN_EVAL_SAMPLES, CellConfig
from bench.evaluate.score import SCORE_KEYS


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("DCGAN_BENCH_CACHE", str(tmp_path_factory.getbasetemp() / "refcache"))


@pytest.fixture(scope="module")
def evaluated_cell(tmp_path_factory):
    import os

    os.environ["DCGAN_BENCH_CACHE"] = str(tmp_path_factory.getbasetemp() / "refcache")
    cfg = CellConfig(steps=40, log_every=10, batch_size=32, eval_every=20, eval_n=500,
                     final_eval_n=1000)
    out = tmp_path_factory.mktemp("evalcell") / "cell"
    return out, run_cell(cfg, out)


def test_cell_records_periodic_and_final_evaluations(evaluated_cell):
    out, summary = evaluated_cell
    evals = records.read_jsonl(out / schema.EVALS_FILE)
    assert [e["step"] for e in evals] == [20]  # step 40 is the final evaluation, not periodic
    assert evals[0]["n"] == 500 and evals[0]["reference_split"] == "train"
    assert len(evals[0]["classifier_sha256"]) == 64
    final = summary["final"]
    assert final["n"] == 1000 and final["step"] == 40
    for key in SCORE_KEYS:
        assert key in final, key
    assert sum(final["class_histogram"]) == 1000
    assert summary["best_fid"] == evals[0]["fid"] and summary["best_fid_step"] == 20
    assert summary["best_fid_n"] == 500


def test_eval_command_reproduces_the_final_block(evaluated_cell, capsys):
    out, summary = evaluated_cell
    assert main(["eval", str(out), "--n", "1000"]) == 0
    printed = json.loads(capsys.readouterr().out)
    # same saved generator, same fixed evaluation noise, same instrument: same numbers
    assert printed["fid"] == pytest.approx(summary["final"]["fid"], rel=1e-6)
    assert printed["class_histogram"] == summary["final"]["class_histogram"]


@pytest.mark.parametrize("n", ["0", "-1", "10"])
def test_eval_refuses_too_few_samples_in_one_line(evaluated_cell, capsys, n):
    out, _ = evaluated_cell
    assert main(["eval", str(out), "--n", n]) == 2
    err = capsys.readouterr().err
    assert "--n: expected" in err and f"found {n}" in err and "Traceback" not in err


@pytest.mark.parametrize("damage", ["truncated", "foreign"])
def test_eval_names_unreadable_generator_weights(evaluated_cell, tmp_path, capsys, damage):
    """A weights file cut short, or one from another model: one line naming the file, exit 2."""
    import shutil

    out, _ = evaluated_cell
    cell = tmp_path / "cell"
    shutil.copytree(out, cell)
    weights = cell / schema.GENERATOR_FILE
    if damage == "truncated":
        weights.write_bytes(weights.read_bytes()[:5000])
    else:
        config = json.loads((cell / schema.CONFIG_FILE).read_text())
        (cell / schema.CONFIG_FILE).write_text(json.dumps({**config, "model": "unrolled-dcgan",
                                                           "d_width": 0.25}))
    assert main(["eval", str(cell), "--n", "1000"]) == 2
    err = capsys.readouterr().err
    assert "unreadable generator weights" in err and str(weights) in err
    assert "Traceback" not in err


def test_eval_command_refuses_an_unfinished_cell(tmp_path, capsys):
    records.write_json_record(tmp_path / "cell" / schema.CONFIG_FILE, {"data": "mnist-5k"})
    assert main(["eval", str(tmp_path / "cell")]) == 2
    assert "generator.weights.h5" in capsys.readouterr().err


def test_score_command_prints_every_key(tmp_path, capsys, mnist_5k):
    path = tmp_path / "digits.npz"
    np.savez(path, images=mnist_5k.images[::5])
    assert main(["score", str(path), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(SCORE_KEYS) <= set(printed)
    assert printed["n"] == 1000 and printed["classes_covered"] == 10
    assert printed["classifier_score"] > 9


@pytest.mark.parametrize("content, message", [
    (b"not an npz", "not an NPZ"),
    ({"pixels": np.zeros((200, 28, 28), np.uint8), "labels": np.zeros(200, np.uint8)},
     "name the one to score with --key"),
    ({"images": np.zeros((200, 32, 32), np.uint8)}, "shape"),
    ({"images": np.full((200, 28, 28), np.nan, np.float32)}, "NaN"),
    ({"images": np.full((200, 28, 28), 3.0, np.float32)}, "[-1, 1]"),
    ({"images": np.zeros((10, 28, 28), np.uint8)}, "fewer"),
])
def test_score_bad_input_exits_2_naming_the_file(tmp_path, capsys, content, message):
    path = tmp_path / "bad.npz"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        np.savez(path, **content)
    assert main(["score", str(path)]) == 2
    err = capsys.readouterr().err
    assert "bad.npz" in err and message in err
    assert len(err.strip().splitlines()) == 1


def test_classifier_check_reports_accuracy(capsys):
    assert main(["classifier", "check", "--data", "mnist-5k"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["accuracy"] >= 0.99 and len(printed["classifier_sha256"]) == 64


def test_instrument_built_under_a_mixed_policy_gives_float32_numbers(evaluated_cell):
    # A fresh instrument, built while a bfloat16 cell's policy is in force (not one cached from
    # a float32 build), measures the float32 cell's samples exactly as the cell did.
    import keras

    from bench.cell.generate import generator_to_images, load_generator
    from bench.evaluate import classifier as clf
    from bench.evaluate.score import evaluate_images

    out, summary = evaluated_cell
    images = generator_to_images(load_generator(out / schema.GENERATOR_FILE), 1000)
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        fresh = clf.load_instrument(clf.weights_path("mnist"), clf.card_path("mnist"))
        assert fresh is not clf.load_classifier("mnist")
        assert all(w.dtype == "float32" for w in fresh.network.weights)
        result = evaluate_images(images, "mnist-5k", classifier=fresh)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert result["fid"] == pytest.approx(summary["final"]["fid"], rel=1e-6)
    assert result["class_histogram"] == summary["final"]["class_histogram"]


def test_eval_rebuilds_a_bfloat16_cell_in_bfloat16(tmp_path, capsys):
    # bfloat16 is emulated, 9 times slower, on the slow class: the fewest steps and samples
    # that still give a record and its repetition
    n = str(MIN_EVAL_SAMPLES)
    cfg = CellConfig(steps=4, log_every=2, batch_size=32, precision="mixed_bfloat16",
                     final_eval_n=MIN_EVAL_SAMPLES)
    out = tmp_path / "bf16"
    summary = run_cell(cfg, out)
    assert summary["status"] == "ok"
    assert main(["eval", str(out), "--n", n]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["fid"] == pytest.approx(summary["final"]["fid"], rel=1e-9)
    assert printed["class_histogram"] == summary["final"]["class_histogram"]


def test_eval_command_names_a_missing_cell(tmp_path, capsys):
    assert main(["eval", str(tmp_path / "nope")]) == 2
    assert "not a cell directory" in capsys.readouterr().err
