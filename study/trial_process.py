"""One trial in a fresh process of its own (`python -m study.trial`), seen from the runner: the child started
under a supervisor, its `@study` event lines read as they come, its time limit, and its outcome.

A trial's own failure never raises here: it is its outcome (failed, timeout, killed by a signal), recorded and
the study goes on. Only a stop signal (KeyboardInterrupt) raises, and not even that once the trial has reported
its results: they are returned, marked `interrupted`, so that they are saved before the study stops.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

from study import schema, supervise
from study.config import StudyConfig
from study.holders import HeldTrials
from study.plan import Trial
from study.trial import PROTOCOL_PREFIX


@dataclasses.dataclass
class TrialOutcome:
    status: str  # schema.OK, schema.FAILED, schema.TIMEOUT
    error: str
    epochs: list
    done: dict
    wall_seconds: float
    cpu_user_seconds: float
    cpu_system_seconds: float
    peak_rss_mb: float
    interrupted: bool = False  # a stop signal came after the trial reported its results: saved, then stop
    held: bool = False  # it goes on holding an iterator to probe the boundary at full age (study/holders.py)
    damaged_file: str = ""  # the trial failed on this data file, which the study can rebuild (study.repair)


# --- the time limit -------------------------------------------------------------------------------------

# A trial with no --trial-timeout may run this many times the slowest finished trial (or this trial's own
# pace projected from its epochs so far), plus the floor: generous, so that a slow trial is never cut, yet
# a hung one ends instead of blocking the study forever.
DEFAULT_TIMEOUT_FACTOR = 10
DEFAULT_TIMEOUT_FLOOR_SECONDS = 300.0
UNMEASURED_TIMEOUT_SECONDS = 3 * 3600.0
_WATCH_SECONDS = 2.0  # how often a trial's tf.data service is looked at
# A trial that reported its results or its error has this long to end on its own; then it is stopped, and what
# it reported stands (a process may hang at exit, e.g. destroying a failed fit's tf.data iterators).
REPORTED_EXIT_GRACE_SECONDS = 20.0


def trial_time_limit(config: StudyConfig, finished_seconds: list, epochs_done: int, seconds_to_last_epoch: float):
    """(seconds, how) a trial may run: --trial-timeout if given, else a default from the measured pace
    (UNMEASURED_TIMEOUT_SECONDS while nothing is measured yet: the first trial, before its first epoch)."""
    if config.trial_timeout is not None:
        return config.trial_timeout, "--trial-timeout"
    paces = list(finished_seconds)
    if epochs_done:
        paces.append(seconds_to_last_epoch / epochs_done * config.epochs)
    if not paces:  # the first trial, before its first epoch: only a hang can take this long
        return UNMEASURED_TIMEOUT_SECONDS, f"the default before any pace is measured: {UNMEASURED_TIMEOUT_SECONDS / 3600:g} h; set --trial-timeout to change it"
    seconds = DEFAULT_TIMEOUT_FACTOR * max(paces) + DEFAULT_TIMEOUT_FLOOR_SECONDS
    return seconds, f"the default: {DEFAULT_TIMEOUT_FACTOR} x the measured pace + {DEFAULT_TIMEOUT_FLOOR_SECONDS:g} s; set --trial-timeout to change it"


# --- the child and what it reports ----------------------------------------------------------------------


def trial_spec(config: StudyConfig, trial: Trial, service_address: str | None, probe_boundary: bool) -> dict:
    """What a trial's process needs to run it (study/trial.py; study/shared_trials.py takes the same)."""
    return {"config": config.to_dict(), "strategy": trial.strategy, "sweep_value": trial.sweep_value,
            "service_address": service_address, "probe_boundary": probe_boundary}


def _child_command(config: StudyConfig, trial: Trial, service_address: str | None, probe_boundary: bool) -> list[str]:
    return [sys.executable, "-m", "study.trial", json.dumps(trial_spec(config, trial, service_address, probe_boundary))]


def start_child(command: list[str], log, stdin=subprocess.DEVNULL):
    """The child, under a supervisor and in a session of its own: Ctrl-C reaches the runner, which stops the
    child, and nothing the trial starts, at any depth, outlives the study, however the study ends."""
    env = supervise.child_environment()
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env[supervise.PARENT_PID_VARIABLE] = str(os.getpid())  # the child ends when this process does
    return supervise.start_supervised(command, subprocess.PIPE, log, environment=env, text=True, stdin=stdin)


def read_lines(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


class RunningTrial:
    """A trial's process and what it has reported so far."""

    def __init__(self, process, started: float, lines: queue.Queue | None = None):
        """`lines`: the process' lines, when it is a block's shared process (study/shared_process.py) that the
        trial does not own; its results are in when it reports them, and the process goes on."""
        self.process, self.started, self.last_epoch_at = process, started, started
        self.shared = lines is not None
        self.lines: queue.Queue = queue.Queue() if lines is None else lines
        self.epochs, self.done, self.status, self.error, self.damaged_file = [], {}, schema.OK, "", ""
        self.ended = None  # the reaped process (its resource usage)
        self.reported_at = None  # when it reported its results or its error
        self.lingered = False  # it did not end within REPORTED_EXIT_GRACE_SECONDS of that, and was stopped
        self.interrupted = self.held = False

    def read_lines(self) -> None:
        threading.Thread(target=read_lines, args=(self.process.stdout, self.lines), daemon=True).start()

    def stop(self, status: str, error: str) -> None:
        self.status, self.error = status, error
        (self.ended,) = supervise.stop([self.process])

    def stop_lingering(self) -> None:
        """Ends a process that reported its outcome but did not exit; the outcome stands."""
        self.lingered = True
        (self.ended,) = supervise.stop([self.process])

    def take(self, event: dict, on_epoch, on_progress, holding: bool) -> bool:
        """Records one event; True when the trial is now held (its results are in, it holds its iterator on)."""
        if event["event"] == "progress":
            if on_progress is not None:
                on_progress(event)
        elif event["event"] == "epoch":
            self.epochs.append(event)
            self.last_epoch_at = time.perf_counter()
            on_epoch(event)
        elif event["event"] == "done":
            self.done, self.reported_at = event, time.perf_counter()
            self.held = holding and bool(event.get("holding_seconds"))
            return self.held
        elif event["event"] == "error":
            self.status, self.error, self.damaged_file = schema.FAILED, event["error"], event.get("damaged_file", "")
            self.reported_at = time.perf_counter()
        return False

    def outcome(self, log_path: Path) -> TrialOutcome:
        # A held trial still runs: its own account of its CPU time and peak memory so far (study/trial_measurements.py).
        still_running = self.held or (self.shared and self.ended is None)
        usage = _reported_usage(self.done) if still_running and self.done else ((self.ended and self.ended.usage) or _no_usage())
        wall_seconds = time.perf_counter() - self.started
        status, error = self._final_status(log_path)
        return TrialOutcome(
            status=status, error=error, epochs=self.epochs, done=self.done, wall_seconds=wall_seconds,
            cpu_user_seconds=usage.ru_utime, cpu_system_seconds=usage.ru_stime, peak_rss_mb=usage.ru_maxrss / 1024,
            interrupted=self.interrupted, held=self.held, damaged_file=self.damaged_file,
        )

    def _final_status(self, log_path: Path) -> tuple[str, str]:
        """The status and error, the way the process ended included (a signal, an exit status, no results)."""
        status, error, returncode = self.status, self.error, self.process.returncode
        if status == schema.OK and returncode is not None and returncode != 0 and not (self.interrupted or self.lingered):
            status = schema.FAILED
            if returncode < 0:
                name = signal.Signals(-returncode).name
                hint = " (out of memory?)" if name == "SIGKILL" else ""
                error = f"killed by {name}{hint}"
            else:
                error = supervise.last_error_line(log_path) or f"exited with status {returncode}"
        if status == schema.OK and not self.done:
            status, error = schema.FAILED, "the trial ended without reporting its results"
        return status, error


def _no_usage():
    return types.SimpleNamespace(ru_utime=0.0, ru_stime=0.0, ru_maxrss=0)


def _reported_usage(done: dict):
    return types.SimpleNamespace(
        ru_utime=done["cpu_user_seconds"], ru_stime=done["cpu_system_seconds"], ru_maxrss=done["peak_rss_mb"] * 1024
    )


def follow(child: RunningTrial, config: StudyConfig, finished_seconds: list, watch, on_epoch, on_progress,
           holding: bool) -> None:
    """Reads the child's events until its output ends, it is held, it has reported (a block's shared process,
    which goes on), or the runner stops it: past its time limit, or a part it depends on is dead (`watch`)."""
    next_watch = child.started + _WATCH_SECONDS
    while True:
        try:
            line = child.lines.get(timeout=0.2)
        except queue.Empty:
            now = time.perf_counter()
            if child.reported_at is not None:  # its outcome is in: only its exit is awaited
                if now > child.reported_at + REPORTED_EXIT_GRACE_SECONDS:
                    child.stop_lingering()
                    return
                continue
            limit, how = trial_time_limit(config, finished_seconds, len(child.epochs), child.last_epoch_at - child.started)
            if limit is not None and now > child.started + limit:
                child.stop(schema.TIMEOUT, f"timed out after {limit:g} s ({how})")
                return
            if watch is not None and now > next_watch:
                next_watch = now + _WATCH_SECONDS
                problem = watch()
                if problem:
                    child.stop(schema.FAILED, problem)
                    return
            continue
        if line is None:
            return
        if line.startswith(PROTOCOL_PREFIX):
            if child.take(json.loads(line[len(PROTOCOL_PREFIX):]), on_epoch, on_progress, holding):
                return
            if child.shared and (child.done or child.status != schema.OK):
                return


def run_trial_process(
    config: StudyConfig, trial: Trial, log_path: Path, on_epoch, service_address: str | None = None,
    watch=None, finished_seconds: list | None = None, on_progress=None, holders: HeldTrials | None = None,
) -> TrialOutcome:
    """Runs one trial in a fresh process; never raises for the trial's own failures, only for
    KeyboardInterrupt (any stop signal) - and not even then once the trial has reported its results: it
    returns them, marked `interrupted`, so that they are saved before the study stops.

    `service_address` is a tf.data service dispatcher started for this trial (None: none, or the user's).
    `watch()` is called every few seconds and returns one line naming a dead part the trial depends on
    (a tf.data service server), which fails the trial at once. `finished_seconds`: the wall times of the
    trials finished so far, for the default time-out. `on_progress` hears the child's throttled `progress`
    events (where the running epoch is). `holders`: given, the trial probes its epoch boundary at the full
    epoch's age (study/boundary_probe.py) and, once it has reported its results, is handed to them while it
    holds its iterator; this returns at once."""
    started = time.perf_counter()
    holding = holders is not None
    with open(log_path, "w", encoding="utf-8") as log:
        child = RunningTrial(start_child(_child_command(config, trial, service_address, holding), log), started)
        try:
            child.read_lines()
            follow(child, config, finished_seconds or [], watch, on_epoch, on_progress, holding)
            if child.held:
                holders.adopt(trial, child.process, child.lines, child.done)
            else:
                child.ended = child.ended or supervise.reap(child.process, None)
        except KeyboardInterrupt:
            with contextlib.suppress(KeyboardInterrupt), supervise.signals_deferred():  # we are stopping already
                (child.ended,) = supervise.stop([child.process])
            if not (child.done and child.status == schema.OK):
                raise
            child.interrupted = True  # the results are in: keep them, stop the study after saving
        except BaseException:
            supervise.stop([child.process])
            raise
    return child.outcome(log_path)
