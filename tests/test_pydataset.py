"""pydataset: a keras.utils.PyDataset tokenizing per batch on threads or processes - what is special about it
(the promises are in test_strategy_contract.py, on its default pool of two threads)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import subprocess
import sys

import numpy as np
import pytest

from inputs.options import FeedOptions
from inputs.pydataset import PyDatasetStrategy
from tests.strategy_checks import draw

POOLS = {
    "main thread": FeedOptions(batch_size=16, seed=3, workers=1),
    "two threads": FeedOptions(batch_size=16, seed=3, workers=2),
    "two processes": FeedOptions(batch_size=16, seed=3, workers=2, use_multiprocessing=True),
}


@pytest.fixture(scope="module")
def main_thread_epochs(online_data):
    return draw(PyDatasetStrategy(), online_data, POOLS["main thread"], epochs=3)


def test_listing_strategies_does_not_load_keras():
    code = "import sys, inputs.pydataset; print(sorted({'keras', 'tensorflow'} & set(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_fit_gets_no_keras_shuffle_and_the_pool_asked_for(online_data):
    arguments = PyDatasetStrategy().fit_arguments(online_data, POOLS["two processes"])
    assert arguments["shuffle"] is False  # Keras would reorder batches with the unseeded `random` module
    assert (arguments["x"].workers, arguments["x"].use_multiprocessing) == (2, True)


@pytest.mark.parametrize("pool", ["two threads", "two processes"])
def test_any_pool_delivers_the_main_threads_batches(pool, main_thread_epochs, online_data):
    for epoch, expected in zip(draw(PyDatasetStrategy(), online_data, POOLS[pool], epochs=3), main_thread_epochs, strict=True):
        for (x, y), (x2, y2) in zip(epoch, expected, strict=True):
            np.testing.assert_array_equal(y, y2)
            np.testing.assert_array_equal(x, x2)
