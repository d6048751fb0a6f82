import numpy as np
import pytest

from inputs import corpus
from inputs import text


def test_tokenize_lowercases_and_removes_line_breaks_and_punctuation():
    assert text.tokenize("A <br />Great film!<br/>It's <BR>10/10.") == ["a", "great", "film", "its", "1010"]


def test_tokenize_splits_on_any_ascii_whitespace_and_drops_empties():
    assert text.tokenize("  one\ttwo\n\nthree  ") == ["one", "two", "three"]


def test_vocabulary_is_by_frequency_with_alphabetical_ties():
    tokens = [["b", "a", "c"], ["a", "b"], ["a", "d"]]
    assert corpus.build_vocabulary(tokens, vocab_size=5) == ("a", "b", "c")


def test_encode_keeps_the_last_tokens_and_pads_on_the_left():
    index = {"good": 2, "film": 3}
    assert text.encode(["good", "film"], index, 4).tolist() == [0, 0, 2, 3]
    assert text.encode(["film", "good", "unknown", "film", "good"], index, 3).tolist() == [1, 3, 2]
    assert text.encode([], index, 3).tolist() == [0, 0, 0]
    assert text.encode(["good"], index, 3).dtype == np.int32


def test_encoding_matches_keras_pad_sequences_defaults():
    from keras.utils import pad_sequences

    sequences = [[5, 6, 7, 8, 9], [4], []]
    index = {str(i): i for i in range(2, 10)}
    ours = np.stack([text.encode([str(i) for i in seq], index, 3) for seq in sequences])
    assert ours.tolist() == pad_sequences(sequences, maxlen=3).tolist()


def test_split_is_stratified_seeded_and_exact():
    labels = np.array([0] * 60 + [1] * 40)
    train, val = corpus.stratified_split(labels, 50, 20, seed=1)
    assert len(train) == 50 and len(val) == 20 and not set(train) & set(val)
    assert labels[train].sum() == 20 and labels[val].sum() == 8
    again, _ = corpus.stratified_split(labels, 50, 20, seed=1)
    assert train.tolist() == again.tolist()
    other, _ = corpus.stratified_split(labels, 50, 20, seed=2)
    assert train.tolist() != other.tolist()


def test_embedded_imdb_is_the_real_training_split(embedded_data):
    assert embedded_data.x_train.shape == (20_000, 80) and embedded_data.x_val.shape == (5_000, 80)
    assert embedded_data.x_train.dtype == np.int32
    assert embedded_data.y_train.sum() == 10_000 and embedded_data.y_val.sum() == 2_500
    assert embedded_data.x_train.max() == 19_999 and embedded_data.x_train.min() == 0
    assert len(embedded_data.vocabulary) == 19_998 and embedded_data.vocabulary[:3] == ("the", "and", "a")


def test_texts_align_with_the_tokenized_rows(study_cache_dir):
    prepared = corpus.prepare(corpus.DataSettings(), study_cache_dir, with_texts=True)
    index = text.word_index(prepared.vocabulary)
    for row in (0, 1, 19_999):
        expected = text.encode(text.tokenize(prepared.train_texts[row]), index, 80)
        assert prepared.x_train[row].tolist() == expected.tolist()


@pytest.mark.parametrize("damage", [b"not a zip file", b""])
def test_corrupt_cache_is_rebuilt(study_cache_dir, embedded_data, tmp_path, damage):
    settings = corpus.DataSettings()
    good = (study_cache_dir / f"{settings.cache_key()}.npz").read_bytes()
    (tmp_path / f"{settings.cache_key()}.npz").write_bytes(good[: len(good) // 2] if damage == b"" else damage)
    rebuilt = corpus.prepare(settings, tmp_path)
    assert np.array_equal(rebuilt.x_train, embedded_data.x_train)
    assert corpus.prepare(settings, tmp_path).x_val.shape == (5_000, 80)  # and the rebuilt file is valid


def test_cache_of_other_settings_is_not_reused(study_cache_dir):
    assert corpus.DataSettings(seed=1).cache_key() != corpus.DataSettings().cache_key()
    assert corpus.DataSettings(sequence_length=100).cache_key() != corpus.DataSettings().cache_key()


def test_limit_and_replication():
    prepared = corpus.PreparedData(np.arange(10)[:, None], np.arange(10), None, None, (), 1, tuple("abcdefghij"))
    assert prepared.limited(4).x_train.ravel().tolist() == [0, 1, 2, 3]
    assert prepared.limited(4).train_texts == tuple("abcd")
    doubled = prepared.limited(3).replicated(2)
    assert doubled.x_train.ravel().tolist() == [0, 1, 2, 0, 1, 2] and doubled.train_texts == tuple("abcabc")
