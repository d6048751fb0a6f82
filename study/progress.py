"""What a running study shows: one live line for the running trial on a terminal, plain lines elsewhere.

On a terminal, a tqdm line is redrawn in place from the child's throttled `progress` events: the trial's
strategy and block, the epoch, steps done of the epoch's steps, steps per second, the epoch's time left and
the study's. Each finished epoch also leaves a plain line above it. When standard output is not a terminal
(CI, a log file, a pipe), only the plain lines are printed: one per finished epoch and per failed trial.

The study's time left comes from finished work only - medians of the first (warm-up) and the steady epochs
finished so far and of each trial's time outside its epochs (start-up, validation, the pipeline-only pass) - so
it moves when an epoch ends, not with the pace of the current step.
"""

from __future__ import annotations

import math
import statistics
import sys

from study import schema

LIVE_FORMAT = "{desc}  {n_fmt}/{total_fmt} steps |{bar:12}| {rate_fmt}, epoch {remaining} left{postfix}"


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class TimeLeft:
    """The study's time left, estimated from the epochs and trials finished so far (nan before any epoch)."""

    def __init__(self, epochs_per_trial: int):
        self.epochs_per_trial = epochs_per_trial
        self.first_epochs: list[float] = []
        self.steady_epochs: list[float] = []
        self.outside_epochs: list[float] = []  # per trial: wall time minus its epochs

    def add_epoch(self, epoch: int, seconds: float) -> None:
        (self.first_epochs if schema.is_warmup(epoch) else self.steady_epochs).append(seconds)

    def add_trial(self, wall_seconds: float, epochs_seconds: float) -> None:
        self.outside_epochs.append(max(0.0, wall_seconds - epochs_seconds))

    def epoch_seconds(self, epoch: int) -> float:
        """The expected length of a trial's `epoch` (1-based): its kind's median, else the other kind's."""
        own, other = (self.first_epochs, self.steady_epochs) if schema.is_warmup(epoch) else (self.steady_epochs, self.first_epochs)
        values = own or other
        return statistics.median(values) if values else math.nan

    def seconds_left(self, trials_after: int, epoch: int, epoch_left: float, projection: float = math.nan) -> float:
        """What is left of the running trial - `epoch_left` of its `epoch`, its later epochs and its time outside
        epochs - plus `trials_after` more trials. Before any epoch has ended, every epoch is taken to last
        `projection` (the first epoch's length at its pace so far; nan: no estimate yet)."""

        def expected(number):
            value = self.epoch_seconds(number)
            return projection if math.isnan(value) else value

        overhead = statistics.median(self.outside_epochs) if self.outside_epochs else 0.0
        later_epochs = sum(expected(number) for number in range(epoch + 1, self.epochs_per_trial + 1))
        trial = sum(expected(number) for number in range(1, self.epochs_per_trial + 1)) + overhead
        return epoch_left + later_epochs + overhead + trials_after * trial


class Progress:
    """The runner's display. `live` None: redraw in place when `stream` (standard output) is a terminal."""

    def __init__(self, config, total_trials: int, echo=print, live: bool | None = None, stream=None):
        self.config, self.total, self.echo = config, total_trials, echo
        self.stream = stream or sys.stdout
        self.live = _is_terminal(self.stream) if live is None else live
        self.finished_trials = 0
        self.time_left = TimeLeft(config.epochs)
        self._bar = None
        self._bar_epoch = None
        self._trial_epochs: list[dict] = []  # the running trial's finished epochs

    # --- events from the running trial ----------------------------------------------------------------------

    def step(self, position: int, trial, event: dict) -> None:
        """A `progress` event: the child is `steps` steps into `epoch`, `epoch_seconds` after it began."""
        if not self.live:
            return
        bar = self._open_bar(position, trial)
        epoch, steps = event["epoch"], event["steps"]
        if epoch != self._bar_epoch:
            bar.reset(total=event.get("steps_in_epoch") or self._last_epoch_steps())
            bar.set_description_str(self._label(position, trial, epoch), refresh=False)
            self._bar_epoch = epoch
        elapsed = event["epoch_seconds"]
        projection = elapsed / steps * bar.total if bar.total and steps else math.nan
        expected = self.time_left.epoch_seconds(epoch)
        expected = projection if math.isnan(expected) else expected
        epoch_left = math.nan if math.isnan(expected) else max(0.0, expected - elapsed)
        left = self.time_left.seconds_left(self._trials_after(), epoch, epoch_left, projection)
        bar.set_postfix_str("study " + _left(left), refresh=False)
        bar.update(steps - bar.n)

    def epoch(self, position: int, trial, event: dict) -> None:
        """An `epoch` event: a finished epoch, as one plain line."""
        self.time_left.add_epoch(event["epoch"], event["epoch_seconds"])
        self._trial_epochs.append(event)
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
            self.time_left.add_trial(outcome.wall_seconds, sum(event["epoch_seconds"] for event in self._trial_epochs))
        self._trial_epochs = []
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

    def _open_bar(self, position: int, trial):
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(
                total=None, file=self.stream, bar_format=LIVE_FORMAT, unit=" steps", leave=False,
                dynamic_ncols=True, desc=self._label(position, trial, 1),
                mininterval=0, miniters=0,  # redraw on every event: the child already throttles them
            )
        return self._bar

    def _print(self, line: str) -> None:
        if self._bar is not None:
            self._bar.write(line, file=self.stream)  # above the live line, which is then redrawn
        else:
            self.echo(line)


def _left(seconds: float) -> str:
    return "time left: after the first epoch" if math.isnan(seconds) else f"~{duration(seconds)} left"


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
