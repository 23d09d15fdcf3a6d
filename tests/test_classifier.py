"""The instrument: hash checks, accuracy, float32 under mixed policies, reproducible training."""

import json
import shutil

import evalsets
import numpy as np
import pytest

from bench.errors import BenchError
from bench.evaluate import classifier as clf


@pytest.fixture
def instrument_copy(tmp_path):
    """The shipped mnist weights and card, copied where a test may damage them."""
    shutil.copy(clf.weights_path("mnist"), tmp_path / "mnist.weights.h5")
    shutil.copy(clf.card_path("mnist"), tmp_path / "mnist.card.json")
    return tmp_path / "mnist.weights.h5", tmp_path / "mnist.card.json"


def test_shipped_instruments_load_and_verify():
    mnist = clf.load_classifier("mnist")
    assert clf.load_classifier("mnist-5k").sha256 == mnist.sha256  # one instrument, two data sets
    assert mnist.sha256 == clf.file_sha256(clf.weights_path("mnist"))
    assert mnist.sha256 == mnist.card["weights_sha256"]
    fashion = clf.load_classifier("fashion-mnist")
    assert fashion.sha256 != mnist.sha256
    for instrument in (mnist, fashion):
        assert clf.weights_path(instrument.card["instrument"]).stat().st_size < 4_000_000
        assert "--epochs" in instrument.card["training_command"]
    assert mnist.card["test_accuracy"] >= 0.993 and mnist.card["test_split"]["n"] == 10000
    assert fashion.card["test_accuracy"] >= 0.90 and fashion.card["test_split"]["n"] == 10000


def test_the_code_holds_each_cards_hash():
    for name, digest in clf.SHIPPED_SHA256.items():
        card = json.loads(clf.card_path(name).read_text())
        assert card["weights_sha256"] == digest == clf.file_sha256(clf.weights_path(name))


def test_an_edited_card_cannot_vouch_for_edited_weights(tmp_path, monkeypatch):
    # Weights changed and their card changed to match: the card agrees, the code does not.
    shutil.copytree(clf.INSTRUMENTS_DIR, tmp_path / "instruments")
    weights, card = clf.weights_path("mnist", tmp_path / "instruments"), \
        clf.card_path("mnist", tmp_path / "instruments")
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x01
    weights.write_bytes(bytes(data))
    body = json.loads(card.read_text())
    body["weights_sha256"] = clf.file_sha256(weights)
    card.write_text(json.dumps(body))
    monkeypatch.setattr(clf, "INSTRUMENTS_DIR", tmp_path / "instruments")
    with pytest.raises(BenchError, match="this dcgan-bench ships"):
        clf.load_classifier("mnist")


def test_tampered_weights_are_refused(instrument_copy):
    weights, card = instrument_copy
    clf.load_instrument(weights, card)  # intact: loads
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit inside the weight values
    weights.write_bytes(bytes(data))
    with pytest.raises(BenchError, match="SHA-256 mismatch") as err:
        clf.load_instrument(weights, card)
    assert str(weights) in str(err.value)


def test_card_that_names_another_hash_is_refused(instrument_copy):
    weights, card = instrument_copy
    body = json.loads(card.read_text())
    body["weights_sha256"] = "0" * 64
    card.write_text(json.dumps(body))
    with pytest.raises(BenchError, match="mnist.weights.h5: SHA-256 mismatch"):
        clf.load_instrument(weights, card)
    card.unlink()
    with pytest.raises(BenchError, match="model card not found"):
        clf.load_instrument(weights, card)


def test_shipped_accuracy_on_mnist_5k():
    assert clf.check_accuracy("mnist-5k") >= 0.99


def test_shipped_accuracy_on_the_official_test_digits():
    accuracy = clf.check_accuracy("mnist", evalsets.require_mnist_dir())
    assert accuracy >= 0.993
    assert accuracy == pytest.approx(clf.load_classifier("mnist").card["test_accuracy"], abs=1e-9)


def test_a_global_mixed_policy_does_not_change_the_numbers():
    import keras

    images = evalsets.mnist_5k().images[::10]
    reference = clf.load_instrument(clf.weights_path("mnist"), clf.card_path("mnist"))
    logits32, features32 = reference.images_to_logits_and_features(images)
    try:
        keras.mixed_precision.set_global_policy("mixed_float16")
        mixed = clf.load_instrument(clf.weights_path("mnist"), clf.card_path("mnist"))
        logits, features = mixed.images_to_logits_and_features(images)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    # The input layer computes nothing (it takes the global policy's name); its tensor is float32.
    assert mixed.network.inputs[0].dtype == "float32"
    assert all(layer.compute_dtype == "float32" for layer in mixed.network.layers
               if not isinstance(layer, keras.layers.InputLayer))
    np.testing.assert_array_equal(logits, logits32)
    np.testing.assert_array_equal(features, features32)


def test_inference_mode_is_deterministic():
    # Dropout left on (training=True) would give different features on every call.
    instrument = evalsets.instrument()
    images = evalsets.mnist_5k().images[:300]
    first = instrument.images_to_logits_and_features(images)
    second = instrument.images_to_logits_and_features(images)
    np.testing.assert_array_equal(first[1], second[1])


@pytest.mark.slow
def test_brief_training_is_reproducible(tmp_path):
    from bench.evaluate.training import train_classifier

    def train(out, seed):
        return train_classifier("mnist-5k", None, tmp_path / out, seed=seed, epochs=1,
                                command="test", log=lambda _: None)["weights_sha256"]

    first, again, other_seed = train("a", 7), train("b", 7), train("c", 8)
    assert first == again
    assert other_seed != first
    card = json.loads((tmp_path / "a" / "mnist.card.json").read_text())
    assert card["weights_sha256"] == clf.file_sha256(tmp_path / "a" / "mnist.weights.h5")
    assert card["seed"] == 7 and card["epochs"] == 1 and card["dataset"] == "mnist-5k"
    clf.load_instrument(tmp_path / "a" / "mnist.weights.h5", tmp_path / "a" / "mnist.card.json")


def test_unknown_data_set_is_refused():
    with pytest.raises(BenchError, match="choose one of"):
        clf.load_classifier("cifar10")
