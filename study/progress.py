"""What a running study shows: one live line for the running trial on a terminal, plain lines elsewhere.

On a terminal, a tqdm line is redrawn in place from the child's throttled `progress` events: the trial's
strategy and block, the epoch, steps done of the epoch's steps, steps per second, the epoch's time left and
the study's. Each finished epoch also leaves a plain line above it. When standard output is not a terminal
(CI, a log file, a pipe), only the plain lines are printed: one per finished epoch and per failed trial.

The study's time left comes from finished work only - medians of the first (warm-up) and the steady epochs
finished so far, of each trial's start-up before its first epoch and of its work after the last (validation,
the pipeline-only pass) - so it moves when an epoch ends, not with the pace of the current step.
"""

from __future__ import annotations

import contextlib
import math
import os
import statistics
import sys
import time

from study import schema

LIVE_FORMAT = "{desc}  {n_fmt}/{total_fmt} steps |{bar:12}| {rate_fmt}, epoch {remaining} left{postfix}"


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class TimeLeft:
    """The study's time left, from the epochs and trials measured so far (nan until the first epoch ends)."""

    def __init__(self, epochs_per_trial: int):
        self.epochs_per_trial = epochs_per_trial
        self.first_epochs: list[float] = []
        self.steady_epochs: list[float] = []
        self.startup: list[float] = []  # per trial: its start to its first epoch's (process, imports, data)
        self.after_epochs: list[float] = []  # per trial: its last epoch's end to the trial's end

    def add_epoch(self, epoch: int, seconds: float) -> None:
        (self.first_epochs if schema.is_warmup(epoch) else self.steady_epochs).append(seconds)

    def add_startup(self, seconds: float) -> None:
        self.startup.append(max(0.0, seconds))

    def add_after_epochs(self, seconds: float) -> None:
        self.after_epochs.append(max(0.0, seconds))

    def epoch_seconds(self, epoch: int) -> float:
        """The expected length of a trial's `epoch` (1-based): its kind's median, else the other kind's."""
        own, other = (self.first_epochs, self.steady_epochs) if schema.is_warmup(epoch) else (self.steady_epochs, self.first_epochs)
        values = own or other
        return statistics.median(values) if values else math.nan

    def seconds_left(self, trials_after: int, epoch: int, epoch_left: float) -> float:
        """What is left of the running trial - `epoch_left` of its `epoch`, its later epochs and its work after
        them - plus `trials_after` more trials."""
        startup = statistics.median(self.startup) if self.startup else 0.0
        after = statistics.median(self.after_epochs) if self.after_epochs else 0.0
        later_epochs = sum(self.epoch_seconds(number) for number in range(epoch + 1, self.epochs_per_trial + 1))
        trial = startup + sum(self.epoch_seconds(number) for number in range(1, self.epochs_per_trial + 1)) + after
        return epoch_left + later_epochs + after + trials_after * trial


class Progress:
    """The runner's display. `live` None: redraw in place when `stream` (standard output) is a terminal."""

    def __init__(self, config, total_trials: int, echo=print, live: bool | None = None, stream=None):
        self.config, self.total, self.echo = config, total_trials, echo
        self.stream = stream or sys.stdout
        self.live = _is_terminal(self.stream) if live is None else live
        self.finished_trials = 0
        self.trial_seconds: list[float] = []  # wall time of each finished trial (the runner's default time-out)
        self.time_left = TimeLeft(config.epochs)
        self._bar = None
        self._bar_epoch = None
        self._trial_began = time.monotonic()  # the runner starts the next trial right after the last one ends
        self._trial_epochs: list[dict] = []  # the running trial's finished epochs
        self._last_epoch_end = None  # time.monotonic() when its last epoch was reported

    # --- events from the running trial ----------------------------------------------------------------------

    def step(self, position: int, trial, event: dict) -> None:
        """A `progress` event: the child is `steps` steps into `epoch`, `epoch_seconds` after it began."""
        if not self.live:
            return
        epoch, steps, elapsed = event["epoch"], event["steps"], event["epoch_seconds"]
        if epoch != self._bar_epoch:
            self._open_bar(self._label(position, trial, epoch), event.get("steps_in_epoch") or self._last_epoch_steps())
            self._bar_epoch = epoch
        expected = self.time_left.epoch_seconds(epoch)  # the study's estimate moves with finished epochs only
        left = self.time_left.seconds_left(self._trials_after(), epoch, max(0.0, expected - elapsed))
        self._bar.set_postfix_str("study " + _left(left), refresh=False)
        self._bar.update(steps - self._bar.n)

    def epoch(self, position: int, trial, event: dict) -> None:
        """An `epoch` event: a finished epoch, as one plain line."""
        now = time.monotonic()
        if not self._trial_epochs:
            self.time_left.add_startup(now - self._trial_began - event["epoch_seconds"])
        self.time_left.add_epoch(event["epoch"], event["epoch_seconds"])
        self._trial_epochs.append(event)
        self._last_epoch_end = now
        rate = event["examples"] / event["epoch_seconds"]
        note = " (warm-up)" if schema.is_warmup(event["epoch"]) else ""
        left = self.time_left.seconds_left(self._trials_after(), event["epoch"], 0.0)
        self._print(
            f"{self._label(position, trial, event['epoch'])}  {event['epoch_seconds']:7.1f} s  {rate:8,.0f} ex/s"
            f"  cpu {event['cpu_seconds']:6.1f} s{note}  {_left(left)}"
        )

    def trial_end(self, position: int, trial, outcome) -> None:
        self.close()
        self.finished_trials += 1
        if outcome.status == schema.OK:
            self.trial_seconds.append(outcome.wall_seconds)
        now = time.monotonic()
        if outcome.status == schema.OK and self._last_epoch_end is not None:
            self.time_left.add_after_epochs(now - self._last_epoch_end)
        self._trial_began, self._trial_epochs, self._last_epoch_end = now, [], None
        if outcome.status != schema.OK:
            self.echo(f"[{position:>3}/{self.total}] block {trial.repeat}  {trial.label()} FAILED: {outcome.error}")

    def close(self) -> None:
        """Remove the live line (a trial ended, or the study was interrupted)."""
        if self._bar is not None:
            self._bar.close()
            self._bar, self._bar_epoch = None, None

    # --- helpers ----------------------------------------------------------------------------------------------

    def _label(self, position: int, trial, epoch: int) -> str:
        return f"[{position:>3}/{self.total}] block {trial.repeat}  {trial.label():<18} epoch {epoch}/{self.config.epochs}"

    def _trials_after(self) -> int:
        return max(0, self.total - self.finished_trials - 1)

    def _last_epoch_steps(self):
        return self._trial_epochs[-1]["steps"] if self._trial_epochs else None

    def _open_bar(self, label: str, total):
        """The live line, (re)started for a new epoch of `total` steps (None: unknown)."""
        if self._bar is not None:
            self._bar.set_description_str(label, refresh=False)
            self._bar.reset(total=total)
            return self._bar
        from tqdm import tqdm

        width = _terminal_columns(self.stream)
        self._bar = tqdm(
            total=total, file=self.stream, bar_format=LIVE_FORMAT, unit="step", leave=False, desc=label,
            dynamic_ncols=width > 0, ncols=None if width > 0 else 120,  # a pty of unknown size reports 0 columns
            mininterval=0, miniters=0,  # redraw on every event: the child already throttles them
        )
        return self._bar

    def _print(self, line: str) -> None:
        if self._bar is not None:
            self._bar.write(line, file=self.stream)  # above the live line, which is then redrawn
        else:
            self.echo(line)


def echo_quietly(echo, message: str) -> None:
    """A closing line that a closed terminal (SIGHUP) does not turn from a clean stop into an error."""
    with contextlib.suppress(OSError):
        echo(message)


def _left(seconds: float) -> str:
    return "time left: after the first epoch" if math.isnan(seconds) else f"~{duration(seconds)} left"


def _terminal_columns(stream) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):  # not a terminal, or a stream without a file (io.StringIO)
        return 0


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
