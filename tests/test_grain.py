"""grain, grain-threads: a Grain pipeline tokenizing each review, on worker processes or threads, straight into
fit - what is special about them (the promises are in test_strategy_contract.py)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import gc
import subprocess
import sys
import threading
import time
import numpy as np
import psutil
import pytest

from inputs import grain_text
from inputs.grain_text import GrainProcessesStrategy, GrainThreadsStrategy
from inputs.options import FeedOptions
from tests.strategy_checks import draw

BATCH = 16  # 203 examples: 12 full batches and one of 11
POOLS = {
    "one process": (GrainProcessesStrategy(), FeedOptions(batch_size=BATCH, seed=3, workers=1)),
    "two processes": (GrainProcessesStrategy(), FeedOptions(batch_size=BATCH, seed=3, workers=2)),
    "two threads": (GrainThreadsStrategy(), FeedOptions(batch_size=BATCH, seed=3, workers=2)),
}
ONE_THREAD = FeedOptions(batch_size=BATCH, seed=3, workers=1)


def _worker_processes():
    """This process's children other than multiprocessing's resource tracker (which lives as long as we do)."""
    children = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "resource_tracker" not in " ".join(child.cmdline()):
                children.append(child)
        except psutil.NoSuchProcess:
            pass
    return children


@pytest.fixture(scope="module", autouse=True)
def no_worker_left_behind():
    before = {child.pid for child in _worker_processes()}
    yield
    gc.collect()  # Grain stops an iterator's processes when the iterator is collected
    deadline = time.monotonic() + 10
    while (left := [c for c in _worker_processes() if c.pid not in before]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"Grain worker processes still running: {left}"


def _orders(epochs):
    return [np.concatenate([y for _, y in epoch]) for epoch in epochs]


@pytest.fixture(scope="module")
def one_thread_epochs(online_data):
    return draw(GrainThreadsStrategy(), online_data, ONE_THREAD, epochs=3)


def test_listing_strategies_loads_neither_grain_nor_keras():
    code = "import sys, inputs.registry; print(sorted({'grain', 'keras', 'tensorflow'} & set(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_fit_gets_a_grain_dataset_and_the_epoch_length(online_data):
    from keras.src.trainers.data_adapters import is_grain_dataset

    for strategy, options in POOLS.values():
        arguments = strategy.fit_arguments(online_data, options)
        assert is_grain_dataset(arguments["x"])  # Keras' GrainDatasetAdapter takes it as it is
        assert arguments["steps_per_epoch"] == 13  # the stream is endless: fit must be told where epochs end
        assert arguments["shuffle"] is False and "y" not in arguments  # fit would warn that it ignores shuffle


@pytest.mark.parametrize("pool", list(POOLS))
def test_any_pool_delivers_the_batches_of_one_thread(pool, one_thread_epochs, online_data):
    strategy, options = POOLS[pool]
    for epoch, expected in zip(draw(strategy, online_data, options, epochs=3), one_thread_epochs, strict=True):
        for (x, y), (x2, y2) in zip(epoch, expected, strict=True):
            np.testing.assert_array_equal(y, y2)
            np.testing.assert_array_equal(x, x2)


def test_another_seed_gives_other_orders(online_data, one_thread_epochs):
    one_thread_orders = _orders(one_thread_epochs)
    other = _orders(draw(GrainThreadsStrategy(), online_data, FeedOptions(batch_size=BATCH, seed=4, workers=1), epochs=1))
    assert not np.array_equal(other[0], one_thread_orders[0])
    # Grain shuffles epoch e with (seed + e): unspread, seed 4's first epoch would be seed 3's second.
    assert not np.array_equal(other[0], one_thread_orders[1])


def test_grain_pipeline_alone_gives_each_epoch_its_own_partial_batch(online_data):
    batches = grain_text.review_batches(
        online_data.train_texts, online_data.y_train, online_data.vocabulary, 80, BATCH, seed=3
    )
    for epoch in range(3):
        sizes = [len(batches[epoch * 13 + step][1]) for step in range(13)]
        assert sizes == [16] * 12 + [11]
        ids = np.concatenate([batches[epoch * 13 + step][1] for step in range(13)])
        assert sorted(ids) == list(range(online_data.num_train))


def test_grain_uses_worker_processes_and_grain_threads_uses_threads(online_data):
    processes = GrainProcessesStrategy().fit_arguments(online_data, FeedOptions(batch_size=BATCH, workers=2))
    before = {child.pid for child in _worker_processes()}
    iterator = iter(processes["x"])
    try:
        next(iterator)
        assert len([c for c in _worker_processes() if c.pid not in before]) == 2
    finally:
        iterator.close()

    threads = GrainThreadsStrategy().fit_arguments(online_data, FeedOptions(batch_size=BATCH, workers=2))
    iterator = iter(threads["x"])
    try:
        for _ in range(5):
            next(iterator)
        names = [thread.name for thread in threading.enumerate() if thread.name.startswith("grain-prefetch")]
        assert len(names) == 2
        assert not [c for c in _worker_processes() if c.pid not in before]
    finally:
        iterator.close()


def test_model_fit_trains_on_worker_processes_epoch_by_epoch(online_data):
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((80,), dtype="int32"), keras.layers.Embedding(64, 4), keras.layers.GlobalAveragePooling1D(),
         keras.layers.Dense(1)]
    )
    model.compile(optimizer="sgd", loss="mse")
    steps = []
    count = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: steps.append(model.optimizer.iterations.numpy()))
    arguments = GrainProcessesStrategy().fit_arguments(online_data, FeedOptions(batch_size=BATCH, workers=2))
    history = model.fit(**arguments, epochs=2, verbose=0, callbacks=[count])
    assert steps == [13, 26] and len(history.history["loss"]) == 2
