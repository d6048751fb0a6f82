"""Fixtures shared across the tests: the data cache, the embedded corpus, the CLI, a small split of the real
corpus with its TFRecords (for the strategy contract and tfrecord), a one-worker tf.data service, a small
hand-made corpus for the online strategies whose labels are example ids, and the processes a test started (killed
after it)."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from inputs import corpus, text

# Quiet TensorFlow's C++ logs in tests; they go to stderr and only add noise.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Seconds a process given up for ended may take to be gone: generous on a loaded 2-core machine; the mechanisms
# (the supervisor, parent-death signals, the tree kill) act within about a second.
GONE_WITHIN = 20
SMALL_SPLIT = corpus.DataSettings(train_size=200, validation_size=50)  # 200 real reviews: 12 batches of 16 + 8


@pytest.fixture(scope="session", autouse=True)
def study_cache_dir(tmp_path_factory):
    """One tokenized-data cache for the whole session (and the trial processes it starts)."""
    if "STUDY_CACHE_DIR" not in os.environ:
        os.environ["STUDY_CACHE_DIR"] = str(tmp_path_factory.mktemp("study-cache"))
    return Path(os.environ["STUDY_CACHE_DIR"])


@pytest.fixture(scope="session")
def embedded_data(study_cache_dir):
    return corpus.prepare(corpus.DataSettings(), study_cache_dir)


@pytest.fixture(scope="session")
def small_split(tmp_path_factory):
    """(data, cache_dir): SMALL_SPLIT with its texts, and its TFRecords written into cache_dir while every
    network connection is refused (the records never need the network)."""
    from inputs.corpus.records import prepared_builder, records_dir

    cache_dir = tmp_path_factory.mktemp("small-split")
    data = corpus.prepare(SMALL_SPLIT, cache_dir, with_texts=True)

    def refuse(*args):
        raise OSError("no network in this test")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        prepared_builder(SMALL_SPLIT, records_dir(str(cache_dir)))
    return data, cache_dir


@pytest.fixture(scope="session")
def one_worker_service():
    """The address of a local tf.data service dispatcher with one worker, for the whole session."""
    from inputs.service import local_cluster

    with local_cluster(1) as address:
        yield address


class StartedProcesses:
    """The processes a test started, to SIGKILL after it. Each is remembered as a psutil.Process when it is
    added, so a pid that the kernel has handed to another process since (the session's tf.data service, say) is
    never signalled: psutil checks the process' start time before it sends a signal."""

    def __init__(self):
        self._processes = []

    def append(self, pid: int) -> None:
        try:
            self._processes.append(psutil.Process(pid))
        except psutil.Error:  # ended already
            pass

    def extend(self, pids) -> None:
        for pid in pids:
            self.append(pid)

    def kill_all(self) -> None:
        for process in self._processes:
            try:
                process.kill()
            except psutil.Error:
                pass


@pytest.fixture
def cleanup():
    """Pids to SIGKILL after the test, whatever happened (never anything the test did not start)."""
    started = StartedProcesses()
    yield started
    started.kill_all()


@pytest.fixture
def closed_port():
    """A port the kernel just handed out and nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_cli(*arguments, env_extra=None, timeout=600, cwd=PROJECT_ROOT):
    """Runs `python run_study.py ...` as a user would, from `cwd`; returns the CompletedProcess."""
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "run_study.py"), *arguments],
        capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env,
    )


# Text on which a careless tf.strings spelling of the rule would differ from Python's.
ONLINE_TRICKY_TEXTS = (
    "Hello, WORLD!<br />Next<BR/>line<br>end <br\t/>tab <br\v/>vtab",
    "İstanbul ΣΑΣ ΟΔΟΣ straße Ǆemal KELVIN K café CAFÉ Café",
    "tabs\tand\vvertical\fform\rreturn\nnewline   runs",
    "nbsp\u00a0glued em\u2003space file\x1cseparator <br\u00a0/>kept",
    "don't stop-believing (really?) [yes] {no} a_b ~x~ `q` \"quoted\" 50% #1 @me $5 ^^ |pipe| \\slash",
    "",
    "!!! ... ---",
    " ".join(f"word{i % 7} Great" for i in range(60)),  # longer than 80 tokens: only the last 80 are kept
)
ONLINE_WORDS = ("great", "film", "bad", "Plot", "acting!", "the", "a", "Movie,", "boring", "<br />", "fun")


def online_prepared(count, seed=0, vocab_size=40, sequence_length=80):
    """PreparedData of `count` texts (the tricky ones first) whose labels are their ids 0..count-1."""
    rng = np.random.default_rng(seed)
    random_texts = [
        " ".join(rng.choice(ONLINE_WORDS, size=rng.integers(0, 120)).tolist() + [f"id{i}"])
        for i in range(count - len(ONLINE_TRICKY_TEXTS))
    ]
    texts = tuple(ONLINE_TRICKY_TEXTS + tuple(random_texts))[:count]
    vocabulary = corpus.build_vocabulary([text.tokenize(review) for review in texts], vocab_size)
    x_train = text.encode_texts(texts, text.word_index(vocabulary), sequence_length)
    ids = np.arange(count, dtype=np.int32)
    return corpus.PreparedData(
        x_train=x_train,
        y_train=ids,
        x_val=x_train[:0],
        y_val=ids[:0],
        vocabulary=vocabulary,
        sequence_length=sequence_length,
        train_texts=texts,
    )


@pytest.fixture(scope="session")
def online_data():
    """203 examples: batches of 16 leave a partial last batch of 11."""
    return online_prepared(203)


def alive(pid) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def all_gone(pids, timeout=GONE_WITHIN) -> bool:
    """Whether every one of `pids` has ended (a zombie counts as ended) within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(alive(pid) for pid in pids):
            return True
        time.sleep(0.05)
    return False
