"""A block's one process (`--process-per block` or `fork`), seen from the runner: started for the block's first trial
(and again after a trial that ended it), fed one trial at a time on its standard input - which it runs itself
(study/shared_trials.py) or forks a process for (study/fork_server.py) - its events read as a trial's own process'
are (study/trial_process.py); at the block's end, handed to the held trials while it probes the boundary at full age
(study/holders.py), or ended.

A trial's outcome is as in the fresh-process design: a trial that fails, times out, is killed or is stopped ends the
process (the next trial starts a fresh one; a forked trial that reports its own failure leaves it running) and is
recorded the same way; its CPU time is its own part of the process' (study/trial_measurements.usage_since), or a
forked trial's own. The process runs under a supervisor, like a trial's own, so that nothing it starts at any depth
outlives the study.
"""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

from study import schema, supervise
from study.config import StudyConfig
from study.plan import Trial
from study.protocol_events import events_until
from study.trial_process import RunningTrial, TrialOutcome, follow, read_lines, start_child, trial_spec

# Building every probe's used iterator at the block's end: a few seconds each; far more only when something hangs.
PROBE_BUILD_LIMIT_SECONDS = 900.0
_REAP_SECONDS = 10.0


# What the block's process runs, by --process-per.
_MODULES = {"block": "study.shared_trials", "fork": "study.fork_server"}


class SharedProcess:
    def __init__(self, log_path: Path, process_per: str = "block"):
        self.log_path = log_path  # the process' standard error, every trial of the block in turn
        self.module = _MODULES[process_per]
        # Forked trials: a trial that fails on its own leaves the block's process, and the probes the block's earlier
        # trials hold in it, running.
        self.forks = process_per == "fork"
        self.process = None
        self.lines: queue.Queue | None = None
        self.probed: dict = {}  # (strategy, sweep value) -> (trial, its done event): trials whose probe is due

    def _start(self) -> None:
        with open(self.log_path, "a", encoding="utf-8") as log:
            self.process = start_child([sys.executable, "-m", self.module], log, stdin=subprocess.PIPE)
        self.lines = queue.Queue()
        threading.Thread(target=read_lines, args=(self.process.stdout, self.lines), daemon=True).start()

    def _send(self, message: dict) -> bool:
        try:
            self.process.stdin.write(json.dumps(message) + "\n")
            self.process.stdin.flush()
            return True
        except (BrokenPipeError, OSError):  # it has died: its output ends, which says how
            return False

    def run_trial(self, config: StudyConfig, trial: Trial, on_epoch, service_address, watch, finished_seconds,
                  on_progress, probe: bool, log_path: Path | None = None) -> TrialOutcome:
        """One trial in the block's process (started if none runs); as trial_process.run_trial_process. A forked
        trial writes its standard error to `log_path`, its own log, as a trial in a fresh process does (None: the
        block's)."""
        started = time.perf_counter()
        if self.process is None:
            self._start()
        child = RunningTrial(self.process, started, self.lines)
        log_path = log_path if self.forks and log_path is not None else self.log_path
        try:
            self._send(dict(trial_spec(config, trial, service_address, probe), **({"log": str(log_path)} if self.forks else {})))
            follow(child, config, finished_seconds or [], watch, on_epoch, on_progress, holding=False)
            if not (child.done and child.status == schema.OK) and not (self.forks and self._alive(child)):
                ended = self.end()  # it failed (or was stopped already): the next trial gets a fresh process
                child.ended = child.ended or ended
            elif probe:
                self.probed[(trial.strategy, trial.sweep_value)] = (trial, child.done)
        except KeyboardInterrupt:
            with contextlib.suppress(KeyboardInterrupt), supervise.signals_deferred():  # we are stopping already
                child.ended = self.end()
            if not (child.done and child.status == schema.OK):
                raise
            child.interrupted = True  # the results are in: keep them, stop the study after saving
        except BaseException:
            self.end()
            raise
        return child.outcome(log_path)

    def _alive(self, child: RunningTrial) -> bool:
        """The trial reported its own failure (`error`), and the runner did not stop the block's process for it (a
        time limit, a dead server): a forked trial's failure leaves the block's process running."""
        return child.ended is None and child.status == schema.FAILED and bool(child.error)

    def end(self, wait_seconds: float = 0.0):
        """Its ending, reaped: waited for `wait_seconds` (after the block's end), then stopped (SIGTERM, then
        SIGKILL; everything it started with it). None if no process runs."""
        if self.process is None:
            return None
        process, self.process, self.probed = self.process, None, {}
        with contextlib.suppress(OSError):
            process.stdin.close()
        ended = supervise.reap(process, wait_seconds)
        if ended is None:
            (ended,) = supervise.stop([process])
        return ended

    def finish(self, holders, echo) -> None:
        """The block's end: the process told so; with probes due, it builds them (waited for: that is work on
        the cores) and is handed to `holders` while it holds them; else it exits and is reaped."""
        if self.process is None:
            return
        process, lines, probed = self.process, self.lines, self.probed
        if not self._send({"finish": True}) or not probed or holders is None:
            self.end(_REAP_SECONDS)
            return
        with contextlib.suppress(OSError):
            process.stdin.close()
        holding = next((event for event in events_until(lines, time.monotonic() + PROBE_BUILD_LIMIT_SECONDS)
                        if event.get("event") == "holding"), None)
        if holding is None:
            echo(f"The block's probes of the boundary at full age did not start; see {self.log_path}.")
            self.end()
            return
        for error in holding["errors"]:
            echo(f"Probe of the boundary at full age failed for {error.get('strategy', 'the block')}: {error['probe_error']}")
        held = {(one["strategy"], one["sweep_value"]): one["holding_seconds"] for one in holding["probes"]}
        if not held:  # none could be built: nothing to hold
            self.end(_REAP_SECONDS)
            return
        self.process, self.probed = None, {}  # the holders own it now
        holders.adopt_block(process, lines, {key: probed[key] for key in held}, max(held.values()))
