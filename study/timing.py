"""Clocks, and the Keras callback that records every epoch and every step of a trial.

Wall time is `time.perf_counter`; CPU time is `time.process_time`, the whole process (all threads, user plus
system), which a neighbour stealing the machine barely changes and which shows input work even when it overlaps
with training. Step times come from `on_train_batch_begin/end`: in Keras 3's TensorFlow trainer the batch is
pulled from the input iterator inside the step, so a step's time includes waiting for its batch.

Epoch boundaries are measured apart from the steps: the wait before an epoch's first step and after its last,
each with the process CPU time over it, so an idle wait (CPU near zero: e.g. tf.data destroying last epoch's
iterator, see benchmarks/iterator_teardown.py) is told apart from input work (CPU busy).

Progress for the runner's live line is throttled: at most one report per `progress_interval` seconds, checked
against the step's end time the callback takes anyway, so a step costs one comparison and no I/O.
"""

from __future__ import annotations

import dataclasses
import resource
import time

import keras


@dataclasses.dataclass(frozen=True)
class EpochRecord:
    epoch: int  # 1-based
    started_at: float  # Unix time, for the timeline
    epoch_seconds: float
    cpu_seconds: float
    before_first_step_seconds: float  # epoch start -> first step start (iterator creation, buffer filling)
    before_first_step_cpu_seconds: float  # process CPU over that wait: near 0 when the process sat idle
    after_last_step_seconds: float  # last step end -> epoch end (end-of-data detection, iterator teardown)
    after_last_step_cpu_seconds: float
    minor_faults: int  # the process' minor page faults over the epoch: memory faulted in again (benchmarks/page_faults.py)
    steps: int  # counted by the callback
    examples: int  # counted by the model's ExampleCount metric: what was actually fed
    loss: float
    accuracy: float
    step_seconds: tuple[float, ...]


PROGRESS_INTERVAL_SECONDS = 0.5


def _minor_faults() -> int:
    """The process' minor page faults so far (all its threads): a step whose freed memory glibc handed back to the
    kernel faults it in again, at a cost of several percent of the step (reports/benchmarks/page_faults.txt)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


class EpochTimer(keras.callbacks.Callback):
    """Records each epoch's wall and CPU seconds and each step's duration, and hands the record to `on_record`.

    `on_progress(epoch=, steps=, steps_in_epoch=, epoch_seconds=)`, if given, hears where the epoch is: once as
    it begins (0 steps) and then after a step at most every `progress_interval` seconds. `steps_in_epoch` is
    Keras' `params["steps"]` (None when the data's length is unknown)."""

    def __init__(self, on_record, on_progress=None, progress_interval: float = PROGRESS_INTERVAL_SECONDS):
        super().__init__()
        self._on_record = on_record
        self._on_progress = on_progress
        self._progress_interval = progress_interval
        self._next_progress_at = float("inf")

    def _steps_in_epoch(self):
        return (self.params or {}).get("steps")

    def _report_progress(self, now: float) -> None:
        self._on_progress(
            epoch=self._epoch_number, steps=len(self._step_seconds), steps_in_epoch=self._steps_in_epoch(),
            epoch_seconds=now - self._wall_start,
        )
        self._next_progress_at = now + self._progress_interval

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_number = epoch + 1
        self._step_seconds = []
        if self._on_progress is not None:  # before the clocks start: the report is not the epoch's cost
            self._on_progress(epoch=self._epoch_number, steps=0, steps_in_epoch=self._steps_in_epoch(), epoch_seconds=0.0)
        self._started_at = time.time()
        self._faults_start = _minor_faults()
        self._cpu_start = time.process_time()
        self._wall_start = time.perf_counter()
        if self._on_progress is not None:
            self._next_progress_at = self._wall_start + self._progress_interval

    def on_train_batch_begin(self, batch, logs=None):
        self._step_start = time.perf_counter()
        if not self._step_seconds:
            self._first_step_start = self._step_start
            self._first_step_cpu = time.process_time()

    def on_train_batch_end(self, batch, logs=None):
        self._step_end = time.perf_counter()
        self._step_end_cpu = time.process_time()
        self._step_seconds.append(self._step_end - self._step_start)
        if self._step_end >= self._next_progress_at:  # inf without on_progress
            self._report_progress(self._step_end)

    def on_epoch_end(self, epoch, logs=None):
        wall_end, cpu_end = time.perf_counter(), time.process_time()
        faults = _minor_faults() - self._faults_start
        self.last_epoch_end = (wall_end, cpu_end)  # where fit's teardown starts (see trial.py)
        epoch_seconds = wall_end - self._wall_start
        stepped = bool(self._step_seconds)
        cpu_seconds = cpu_end - self._cpu_start
        logs = logs or {}
        self._on_record(
            EpochRecord(
                epoch=epoch + 1,
                started_at=self._started_at,
                epoch_seconds=epoch_seconds,
                cpu_seconds=cpu_seconds,
                before_first_step_seconds=(self._first_step_start - self._wall_start) if stepped else epoch_seconds,
                before_first_step_cpu_seconds=(self._first_step_cpu - self._cpu_start) if stepped else cpu_seconds,
                after_last_step_seconds=(wall_end - self._step_end) if stepped else 0.0,
                after_last_step_cpu_seconds=(cpu_end - self._step_end_cpu) if stepped else 0.0,
                minor_faults=faults,
                steps=len(self._step_seconds),
                examples=int(round(float(logs.get("examples", 0)))),
                loss=float(logs.get("loss", float("nan"))),
                accuracy=float(logs.get("accuracy", float("nan"))),
                step_seconds=tuple(self._step_seconds),
            )
        )


class StepClock(keras.callbacks.Callback):
    """The median time and the process CPU per step of one fit's steps after its first `skip` (which may trace the
    step again: seconds that are not the step's cost)."""

    def __init__(self, skip: int = 2):
        super().__init__()
        self._skip = skip
        self.step_seconds = []
        self._cpu_start = self._cpu_end = None

    def on_train_batch_begin(self, batch, logs=None):
        if len(self.step_seconds) == self._skip:
            self._cpu_start = time.process_time()
        self._step_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.step_seconds.append(time.perf_counter() - self._step_start)
        self._cpu_end = time.process_time()

    def figures(self, prefix: str) -> dict:
        measured = self.step_seconds[self._skip:]
        if not measured or self._cpu_start is None:
            return {}
        return {
            f"{prefix}_step_seconds": sorted(measured)[len(measured) // 2],
            f"{prefix}_cpu_seconds_per_step": (self._cpu_end - self._cpu_start) / len(measured),
        }
