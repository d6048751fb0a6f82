"""Strategies that fail on purpose, loaded into trials through INPUT_STUDY_PLUGINS by the runner tests."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from inputs.base import FeedStrategy, steps_per_epoch
from inputs.generator import shuffled_batches
from inputs.tfrecord import TfRecordStrategy


def _failing_batches(data, options, failure, after_batches=3):
    for count, batch in enumerate(shuffled_batches(data.x_train, data.y_train, options.batch_size, options.seed)):
        if count == after_batches:
            failure()
        yield batch


class _Faulty(FeedStrategy):
    def fit_arguments(self, data, options):
        steps = steps_per_epoch(data.num_train, options.batch_size)
        return {"x": _failing_batches(data, options, self.failure), "steps_per_epoch": steps}


class RaisesMidEpoch(_Faulty):
    name, description = "raises-mid-epoch", "a generator that raises on its fourth batch"

    @staticmethod
    def failure():
        raise RuntimeError("the data source broke on batch 4")


class RaisesThenHangsAtExit(_Faulty):
    """Raises on its fourth batch, and its process then never ends (an exit hook that sleeps for ever): what
    it reported must stand, not a time-out."""

    name, description = "raises-then-hangs-at-exit", "a generator that raises, in a process that hangs at exit"
    failure = staticmethod(RaisesMidEpoch.failure)

    def fit_arguments(self, data, options):
        import atexit

        atexit.register(lambda: time.sleep(3600))
        return super().fit_arguments(data, options)


class KilledMidEpoch(_Faulty):
    name, description = "killed-mid-epoch", "a trial process killed by SIGKILL (as the OOM killer would)"

    @staticmethod
    def failure():
        os.kill(os.getpid(), signal.SIGKILL)


class HangsMidEpoch(_Faulty):
    name, description = "hangs-mid-epoch", "a generator that never yields its fourth batch"

    @staticmethod
    def failure():
        while True:
            time.sleep(1)


class SlowToExit(FeedStrategy):
    """Trains normally, but its process lingers 60 s after reporting its results (in an atexit hook, which
    first touches $SLOW_TO_EXIT_MARKER): the moment between "done" and the process' end, made long."""

    name, description = "slow-to-exit", "a trial whose process lingers after it reported its results"

    def fit_arguments(self, data, options):
        import atexit

        def linger():
            marker = os.environ.get("SLOW_TO_EXIT_MARKER")
            if marker:
                open(marker, "w").close()
            time.sleep(60)

        atexit.register(linger)
        steps = steps_per_epoch(data.num_train, options.batch_size)
        return {"x": shuffled_batches(data.x_train, data.y_train, options.batch_size, options.seed), "steps_per_epoch": steps}


def start_a_daemon():
    """A process in a session of its own whose parent exits at once: out of the trial's process group and
    orphaned, as a daemon (or anything a plugin starts and forgets) is."""
    subprocess.run([sys.executable, "-c", "import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', "
                    "'import time; time.sleep(600)'], start_new_session=True)"], check=True)


class StartsADaemonThenHangs(_Faulty):
    name, description = "starts-a-daemon", "a trial that starts a daemon of its own, then hangs mid-epoch"
    failure = staticmethod(HangsMidEpoch.failure)

    def fit_arguments(self, data, options):
        start_a_daemon()
        return super().fit_arguments(data, options)


class LeavesADaemon(FeedStrategy):
    name, description = "leaves-a-daemon", "a trial that trains normally but leaves a daemon of its own running"

    def fit_arguments(self, data, options):
        start_a_daemon()
        steps = steps_per_epoch(data.num_train, options.batch_size)
        return {"x": shuffled_batches(data.x_train, data.y_train, options.batch_size, options.seed), "steps_per_epoch": steps}


class DamagesARecordOnce(TfRecordStrategy):
    """tfrecord, but its first trial damages a training shard (cut short, as a failing disk or a full one
    would leave it) just before the strategy checks the shards; it writes the shard's path to
    $SHARD_DAMAGE_MARKER, and later trials leave the shards alone."""

    name, description = "damages-a-record-once", "tfrecord whose first trial finds a training shard damaged"

    def fit_arguments(self, data, options):
        marker = Path(os.environ["SHARD_DAMAGE_MARKER"])
        if not marker.exists():
            from inputs.corpus.records import prepared_builder, records_dir

            builder = prepared_builder(data.settings, records_dir(options.cache_dir))
            shard = Path(builder.info.splits["train"].filepaths[2])
            shard.write_bytes(shard.read_bytes()[:-10])
            marker.write_text(str(shard))
        return super().fit_arguments(data, options)
