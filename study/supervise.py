"""Child processes: each started in a session (process group) of its own, reaped with its resource usage,
stopped with a grace period, tied to its parent's life; and every stop signal (SIGINT, SIGTERM, SIGHUP)
turned into KeyboardInterrupt.

Used by the runner (one fresh process per trial) and by the tf.data service's local cluster (its server
processes). A child in its own session does not get the terminal's Ctrl-C: the parent receives it and stops
the child's whole group (the child's own workers included), so nothing outlives the study.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STOP_GRACE_SECONDS = 5.0  # SIGTERM first; whatever still runs after this gets SIGKILL
_POLL_SECONDS = 0.05


@dataclasses.dataclass(frozen=True)
class Ended:
    exit_code: int  # negative: killed by that signal
    usage: object | None  # resource.struct_rusage (CPU time, peak memory), None when reaped by Popen.poll


def child_environment() -> dict:
    """This process' environment with the project importable (its root first on PYTHONPATH)."""
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), environment.get("PYTHONPATH")]))
    return environment


def start(command: list[str], stdout, stderr, environment=None, cwd=None, text=False) -> subprocess.Popen:
    """`command` as the leader of a new session, with no standard input."""
    return subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, text=text,
        env=child_environment() if environment is None else environment, cwd=cwd, start_new_session=True,
    )


def reap(process: subprocess.Popen, timeout: float | None) -> Ended | None:
    """Waits (at most `timeout` seconds; None: as long as it takes) for the child to end; None if it still runs.

    os.wait4 rather than Popen.wait, because its rusage is the child's CPU time and peak memory.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        if process.returncode is not None:  # already reaped, by Popen.poll
            return Ended(process.returncode, None)
        pid, wait_status, usage = os.wait4(process.pid, 0 if timeout is None else os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(wait_status)
            return Ended(process.returncode, usage)
        if time.monotonic() > deadline:
            return None
        time.sleep(_POLL_SECONDS)


def signal_group(process: subprocess.Popen, signal_number: int) -> None:
    # The child leads its own session, so its process group id is its pid. Only a child not yet reaped is
    # signalled: until then its pid, and so its group id, cannot belong to anything else.
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal_number)


def stop(processes: list[subprocess.Popen], grace_seconds: float = STOP_GRACE_SECONDS) -> list[Ended]:
    """SIGTERM to every child's group, in the order given; SIGKILL to those still running after the grace
    period; returns how each ended. Stopping a child that has ended already costs nothing."""
    for process in processes:
        signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    ended = []
    for process in processes:
        outcome = reap(process, max(0.0, deadline - time.monotonic()))
        if outcome is None:
            signal_group(process, signal.SIGKILL)
            outcome = reap(process, None)
        ended.append(outcome)
    return ended


PARENT_PID_VARIABLE = "STUDY_PARENT_PID"  # set by the runner for a trial: the process whose life it shares
_WATCHDOG_SECONDS = 1.0


def exit_with_parent(parent_pid: int, death_signal: int = signal.SIGTERM, whole_group: bool = False) -> None:
    """In a child: end when the parent `parent_pid` dies, within about a second.

    Two ways, because either alone can miss: the kernel's parent-death signal (Linux prctl PR_SET_PDEATHSIG;
    it fires when the parent's thread that started this process ends, and needs no Python code to run, so
    it works while a C++ call holds the GIL), and a watchdog thread that sees os.getppid() change (any
    POSIX system; also when the signal was caught). The watchdog SIGKILLs this process, or its whole process
    group when `whole_group` (a trial leading its own group takes its own children along).
    Leaves at once if the parent is gone already."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(death_signal))
    if os.getppid() != parent_pid:
        _kill_self(whole_group)

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(_WATCHDOG_SECONDS)
        _kill_self(whole_group)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _kill_self(whole_group: bool) -> None:
    if whole_group and os.getpgrp() == os.getpid():
        with contextlib.suppress(OSError):
            os.killpg(os.getpid(), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)


def exit_with_parent_from_environment(whole_group: bool = True) -> None:
    """exit_with_parent for the parent named in $STUDY_PARENT_PID (nothing when unset: run by hand)."""
    parent = os.environ.pop(PARENT_PID_VARIABLE, "")
    if parent.isdigit():
        exit_with_parent(int(parent), signal.SIGKILL, whole_group)


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


def last_error_line(log_path: Path, default: str = "") -> str:
    """The last line of a child's log that names an error, else its last line (at most 300 characters)."""
    try:
        lines = [line.strip() for line in Path(log_path).read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return default
    for line in reversed(lines):
        if "Error" in line or "error" in line or "Exception" in line:
            return line[:300]
    return lines[-1][:300] if lines else default
