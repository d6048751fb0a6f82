"""--dataset tfds / keras: local copies are read, a missing one is one clear line, the network never touched."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import json
import socket

import numpy as np
import pytest

from inputs import corpus
from inputs.corpus import sources


@pytest.fixture(autouse=True)
def online_no_network(monkeypatch):
    def refuse(*args):
        raise AssertionError("a source tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def one_line(error):
    message = str(error.value)
    assert "\n" not in message
    return message


def write_fake_keras_copy(directory):
    """imdb.npz and imdb_word_index.json as keras.datasets leaves them: word ranks, ragged object arrays."""
    directory.mkdir(parents=True, exist_ok=True)
    sequences = np.empty(3, dtype=object)
    sequences[:] = [[1, 2, 3], [4, 2, 99], []]  # 99: a rank missing from the index is left out
    np.savez(directory / "imdb.npz", x_train=sequences, y_train=np.array([1, 0, 1]), x_test=sequences[:1],
             y_test=np.array([1]))
    (directory / "imdb_word_index.json").write_text(json.dumps({"great": 1, "film": 2, "the": 3, "bad": 4}))


def test_keras_copy_is_decoded_back_to_words(tmp_path, monkeypatch):
    write_fake_keras_copy(tmp_path / "datasets")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    texts, labels = sources.load("keras")
    assert texts == ["great film the", "bad film", ""]
    assert labels.dtype == np.int32 and labels.tolist() == [1, 0, 1]


def test_missing_keras_copy_names_the_files(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(corpus.DataError) as error:
        sources.load("keras")
    message = one_line(error)
    assert message.startswith("--dataset keras needs ")
    assert str(tmp_path / "datasets" / "imdb.npz") in message and "imdb_word_index.json" in message


def test_damaged_keras_copy_names_the_folder(tmp_path):
    write_fake_keras_copy(tmp_path)
    (tmp_path / "imdb.npz").write_bytes(b"not a zip file")
    with pytest.raises(corpus.DataError, match=f"cannot read the keras IMDB copy in {tmp_path}"):
        sources.load_keras(tmp_path)


FAKE_TFDS_REVIEWS = [("Great film!", 1), ("Bad <br />plot", 0), ("Ünïcode ok", 1)]


def write_fake_tfds_copy(data_dir):
    """A prepared `imdb_reviews/plain_text` of three reviews, with the features of TFDS' own."""
    import tensorflow_datasets as tfds

    class FakeImdbReviews(tfds.core.GeneratorBasedBuilder, skip_registration=True):
        name = "imdb_reviews"
        VERSION = tfds.core.Version("1.0.0")
        BUILDER_CONFIGS = [tfds.core.BuilderConfig(name="plain_text")]
        code_path = None  # no download checksums to look up (see inputs.corpus.records)

        def _info(self):
            features = {"text": tfds.features.Text(), "label": tfds.features.ClassLabel(names=["neg", "pos"])}
            return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict(features))

        def _split_generators(self, dl_manager):
            return {"train": self._generate_examples()}

        def _generate_examples(self):
            yield from enumerate([{"text": text, "label": label} for text, label in FAKE_TFDS_REVIEWS])

    tfds.disable_progress_bar()
    FakeImdbReviews(data_dir=str(data_dir)).download_and_prepare()


def test_tfds_copy_is_read(tmp_path):
    write_fake_tfds_copy(tmp_path)
    texts, labels = sources.load_tfds(tmp_path)
    assert sorted(zip(texts, labels.tolist())) == sorted(FAKE_TFDS_REVIEWS)  # TFDS stores them shuffled
    assert labels.dtype == np.int32


def test_missing_tfds_copy_names_the_folder(tmp_path):
    with pytest.raises(corpus.DataError) as error:
        sources.load_tfds(tmp_path)
    message = one_line(error)
    assert message.startswith("--dataset tfds needs imdb_reviews prepared in ")
    assert str(tmp_path / "imdb_reviews" / "plain_text") in message


def test_unknown_source_lists_the_choices():
    with pytest.raises(corpus.DataError, match="unknown dataset 'imdb': choose embedded, tfds or keras"):
        sources.load("imdb")


def test_prepare_with_too_small_a_copy_says_so(tmp_path, monkeypatch):
    write_fake_keras_copy(tmp_path / "keras" / "datasets")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    with pytest.raises(corpus.DataError, match="the corpus has 3 examples, fewer than 25000"):
        corpus.prepare(corpus.DataSettings(source="keras"), tmp_path / "cache")
