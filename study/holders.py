"""Trials that go on after their results are saved: each holds a used input iterator, idle, until it is as old as
a full-size epoch, destroys it, reports that one `boundary` event and exits (study/boundary_probe.py).

The runner hands such a trial's process here and starts the next trial at once, so probing the boundary at the
user's real epoch length costs the study almost no time. Each held process is watched by a thread of its own,
which saves its boundary row as soon as it comes and reaps the process; a held process that outlives its
deadline is stopped (its probe is lost, nothing else). The study waits for the last ones before its report, and
stops them all when it is stopped.
"""

from __future__ import annotations

import math
import queue
import signal
import statistics
import threading
import time

from study import supervise
from study.boundary_probe import FULL_FIT_EPOCHS
from study.protocol_events import events_until

# Destroying an iterator waits at most for the autotune thread's next wake-up (60 s apart at most); plus room.
DESTROY_ALLOWANCE_SECONDS = 180.0
# After the full age a probe holds on until that thread next wakes (study/boundary_probe.py): at the default study's
# ages (55-75 s) the next wake-up is at 81.9 s (benchmarks/autotune_wakeups.py), so up to about 27 s more.
WAKEUP_WAIT_SECONDS = 30.0
_REAP_SECONDS = 10.0


class HeldTrials:
    def __init__(self, on_boundary):
        """`on_boundary(trial, done_event, boundary_event)` saves one probe; it is called from the watching
        threads, one at a time."""
        self._on_boundary = on_boundary
        self._save_lock = threading.Lock()
        self._held: list[tuple[object, threading.Thread]] = []

    def adopt(self, trial, process, lines: queue.Queue, done: dict) -> None:
        """A trial's own process, holding its one iterator (`done["holding_seconds"]`)."""
        self._adopt(process, lines, {(trial.strategy, trial.sweep_value): (trial, done)}, float(done["holding_seconds"]))

    def adopt_block(self, process, lines: queue.Queue, probes: dict, holding_seconds: float) -> None:
        """A block's shared process (study/shared_process.py), holding one iterator for each of its trials in
        `probes`: (strategy, swept value) -> (trial, its done event); the longest holds `holding_seconds`."""
        self._adopt(process, lines, probes, holding_seconds)

    def _adopt(self, process, lines: queue.Queue, probes: dict, holding_seconds: float) -> None:
        deadline = time.monotonic() + holding_seconds + DESTROY_ALLOWANCE_SECONDS
        thread = threading.Thread(target=self._watch, args=(process, lines, probes, deadline), daemon=True)
        self._held.append((process, thread))
        thread.start()

    def _watch(self, process, lines: queue.Queue, probes: dict, deadline: float) -> None:
        """Saves each probe's `boundary` event (keyed by its strategy and swept value) as it comes, until all have
        come, the process' output ends (the probes it did not report are lost) or the deadline passes; then reaps it."""
        for event in events_until(lines, deadline):
            if event.get("event") == "boundary":
                trial, done = probes.pop((event.get("strategy"), event.get("sweep_value")))
                with self._save_lock:
                    self._on_boundary(trial, done, event)
                if not probes:
                    break
        if supervise.reap(process, _REAP_SECONDS) is None:
            supervise.stop([process])

    @property
    def adopted(self) -> bool:
        """Whether any trial was handed here to hold a probe (then the study's end waits for a last destruction)."""
        return bool(self._held)

    @property
    def waiting(self) -> int:
        return sum(thread.is_alive() for _, thread in self._held)

    def wait(self) -> None:
        """Until every held trial has reported (or passed its deadline)."""
        for _, thread in self._held:
            thread.join()

    def stop(self) -> None:
        """End every held trial now (the study is being stopped): its probe is lost, and its watching thread,
        which sees its output end, reaps it (only that thread waits for it, so no two wait for one pid).
        SIGTERM first, so that a trial's supervisor ends everything the trial started (given the time it says that
        takes, `stops_within_seconds`); SIGKILL what remains. One deadline for all of them at each step."""
        stops_within = max([getattr(process, "stops_within_seconds", 0.0) for process, _ in self._held], default=0.0)
        for signal_number, seconds in ((signal.SIGTERM, max(stops_within, _REAP_SECONDS / 2)), (signal.SIGKILL, _REAP_SECONDS)):
            for process, thread in self._held:
                if thread.is_alive():
                    supervise.signal_group(process, signal_number)
            deadline = time.monotonic() + seconds
            for _, thread in self._held:
                thread.join(timeout=max(0.0, deadline - time.monotonic()))


class ProbeWindow:
    """Whether a trial about to start may probe its boundary at full age: only if its hold can end before the study
    has to (`deadline`, a time.monotonic() reading). A probe started later would keep the study waiting, idle, at its
    end for up to a full epoch's hold - about 164 s, a tenth of the budget, after reports/all-30min-fork's last trial -
    time the planner would otherwise have to set aside instead of measuring; the trials near the end skip the probe
    and their strategy's boundary figures come from its other blocks. The hold is estimated from the trials so far
    (`note`): the full epoch's steps at the slowest median step measured, after the longest trial's time, and the
    wait for the autotune thread's next wake-up - generous, so that a hold rarely outlasts the deadline. A strategy
    that keeps one iterator holds it FULL_FIT_EPOCHS epochs (the age fit's teardown has at full size), and so does
    one not yet seen to make an iterator each epoch. Before any trial has ended every trial may probe."""

    def __init__(self, deadline: float = math.inf, clock=time.monotonic):
        self.deadline, self._clock = deadline, clock
        self._trial_seconds = 0.0
        self._step_seconds = 0.0
        self._epoch_boundary: set = set()  # the strategies whose fit was seen to make a new iterator each epoch

    def note(self, outcome, strategy: str | None = None) -> None:
        """A finished trial (study.trial_process.TrialOutcome) of `strategy`: its time, its last epoch's median step
        and where its fit destroys its iterator."""
        self._trial_seconds = max(self._trial_seconds, outcome.wall_seconds)
        steps = outcome.epochs[-1].get("step_seconds") if outcome.epochs else None
        if steps:
            self._step_seconds = max(self._step_seconds, statistics.median(steps))
        if strategy is not None and (outcome.done or {}).get("new_iterator_each_epoch"):
            self._epoch_boundary.add(strategy)

    def allows(self, full_steps: int, now: float | None = None, strategy: str | None = None) -> bool:
        """Whether a trial of `strategy` starting `now` whose full epoch has `full_steps` steps would end its hold in
        time."""
        now = self._clock() if now is None else now
        if not self._trial_seconds:  # nothing measured yet
            return now <= self.deadline
        epochs = 1 if strategy in self._epoch_boundary else FULL_FIT_EPOCHS
        return now + self._trial_seconds + epochs * full_steps * self._step_seconds + WAKEUP_WAIT_SECONDS <= self.deadline
