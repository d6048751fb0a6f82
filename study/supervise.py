"""The study's process supervision: the generic helpers of `processes` the runner uses, and what is the
study's own - every stop signal (SIGINT, SIGTERM, SIGHUP) turned into KeyboardInterrupt.

The runner starts each trial under `processes.supervisor` (`start_supervised`), so that everything a trial
starts, at any depth, ends with the study however the study ends; the tf.data service's local cluster
(inputs/service) uses `processes` directly.
"""

from __future__ import annotations

import contextlib
import signal

# The helpers the runner uses, under the names it knows them by.
from processes.children import child_environment, last_error_line, reap, signal_group, stop  # noqa: F401
from processes.parent_death import PARENT_PID_VARIABLE  # noqa: F401
from processes.supervisor import start as start_supervised  # noqa: F401


# --- stopping the study: Ctrl-C, SIGTERM, SIGHUP ---------------------------------------------------------

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _StopSignals:
    """Every way of stopping the study raises KeyboardInterrupt in the main thread, as Ctrl-C does - except
    inside `deferred()`, where it is held until the block ends (a trial's rows are written whole)."""

    def __init__(self):
        self.holding = 0
        self.pending: int | None = None
        self.received: int | None = None  # kept: the raise is lost if it lands in a __del__ or weakref callback

    def handle(self, signal_number, frame):
        self.received = signal_number
        if self.holding:
            self.pending = self.pending or signal_number
            return
        raise KeyboardInterrupt()

    @contextlib.contextmanager
    def deferred(self):
        self.holding += 1
        try:
            yield
        finally:
            self.holding -= 1
            if not self.holding and self.pending is not None:
                self.pending = None
                raise KeyboardInterrupt()


_STOP = _StopSignals()


def stop_signals_interrupt() -> None:
    """SIGINT, SIGTERM and SIGHUP raise KeyboardInterrupt (main thread only; idempotent)."""
    for signal_number in STOP_SIGNALS:
        signal.signal(signal_number, _STOP.handle)


def raise_if_stop_received() -> None:
    """At a checkpoint: a stop signal came but its KeyboardInterrupt was swallowed (Python ignores exceptions
    raised in finalizers and weakref callbacks, where the handler may happen to run): raise it now."""
    if _STOP.received is not None:
        raise KeyboardInterrupt()


def signals_deferred():
    """A block that a stop signal does not cut: the signal takes effect when it ends."""
    return _STOP.deferred()
