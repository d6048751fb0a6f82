"""In a child: end when the parent dies, within about a second, however the parent dies."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time

PARENT_PID_VARIABLE = "STUDY_PARENT_PID"  # set by whoever starts a child that must share its life
_WATCHDOG_SECONDS = 1.0
PR_SET_PDEATHSIG = 1


def set_parent_death_signal(signal_number: int) -> None:
    """Linux prctl PR_SET_PDEATHSIG: the kernel sends `signal_number` when the parent's thread that started
    this process ends (nothing elsewhere)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal_number))


def exit_with_parent(parent_pid: int, death_signal: int = signal.SIGTERM, whole_group: bool = False) -> None:
    """End when the parent `parent_pid` dies, within about a second.

    Two ways, because either alone can miss: the kernel's parent-death signal (it needs no Python code to
    run, so it works while a C++ call holds the GIL), and a watchdog thread that sees os.getppid() change (any
    POSIX system; also when the signal was caught). The watchdog SIGKILLs this process, or its whole process
    group when `whole_group` (a process leading its own group takes its own children along).
    Leaves at once if the parent is gone already."""
    set_parent_death_signal(death_signal)
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
