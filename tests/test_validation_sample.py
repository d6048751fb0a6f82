"""The trial's evaluation reads a sample of the validation split: small, and with each label in its share."""

from types import SimpleNamespace

import numpy as np

from study.trial import EVALUATION_EXAMPLES, validation_sample


def split(size: int):
    # Labels in runs, as the embedded split keeps them: all negatives first, then all positives.
    return SimpleNamespace(x_val=np.arange(size).reshape(size, 1), y_val=np.repeat([0, 1], [size // 2, size - size // 2]))


def test_a_large_split_is_sampled_evenly_and_keeps_each_label_s_share():
    x, y = validation_sample(split(5000))
    assert len(x) == len(y) == EVALUATION_EXAMPLES
    assert y.mean() == 0.5
    assert np.array_equal(x[:, 0], np.arange(0, 5000, 5))  # rows and their labels stay paired


def test_a_split_smaller_than_the_sample_is_evaluated_whole():
    x, y = validation_sample(split(50))
    assert len(x) == 50 and y.sum() == 25


def test_an_uneven_split_never_exceeds_the_sample():
    x, _ = validation_sample(split(5001))
    assert 0 < len(x) <= EVALUATION_EXAMPLES
