"""Every descendant of a process, at any depth, and ending them all.

Read from /proc (Linux): a process that left its parent's session or process group (setsid, a daemon) is
still found, which a signal to a process group would miss. Elsewhere there is no such view: `descendants`
is empty and only process groups can be signalled.
"""

from __future__ import annotations

import contextlib
import os

_PROC = "/proc"


def descendants(root: int) -> list[int]:
    """The pids of `root`'s living descendants, parents before children. Zombies are left out (they hold
    nothing), but not their children: a multithreaded process whose main thread has ended shows as a zombie
    while its other threads still run and its children keep it as their parent until the last thread ends
    (a SIGKILLed trial, seen mid-exit, with its Grain workers still alive below it)."""
    if not os.path.isdir(_PROC):
        return []
    children: dict[int, list[int]] = {}
    zombies = set()
    for entry in os.scandir(_PROC):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"{_PROC}/{entry.name}/stat", "rb") as stat_file:
                stat = stat_file.read()
        except OSError:  # ended while we looked
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after its last ")".
        state, parent = stat[stat.rindex(b")") + 2 :].split()[:2]
        children.setdefault(int(parent), []).append(int(entry.name))
        if state == b"Z":
            zombies.add(int(entry.name))
    found, parents = [], [root]
    while parents:
        for child in children.get(parents.pop(0), ()):
            if child not in zombies:
                found.append(child)
            parents.append(child)
    return found


def signal_all(pids: list[int], signal_number: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal_number)
