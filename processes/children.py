"""Child processes: each started in a session (process group) of its own, reaped with its resource usage,
stopped with a grace period.

A child in its own session does not get the terminal's Ctrl-C: the parent receives it and stops the child's
whole group (the child's own workers included).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
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

    os.wait4 rather than Popen.wait, because its rusage is the child's CPU time and peak memory. A child that
    runs a command for us (processes.supervisor) reports that command's exit and usage instead of its own.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        if process.returncode is not None:  # already reaped, by Popen.poll
            return Ended(process.returncode, None)
        pid, wait_status, usage = os.wait4(process.pid, 0 if timeout is None else os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(wait_status)
            command_ended = getattr(process, "command_ended", None)
            return command_ended(usage) if command_ended else Ended(process.returncode, usage)
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
    period; returns how each ended. Stopping a child that has ended already costs nothing.

    A child that stops a command of its own on SIGTERM (processes.supervisor) says how long that takes
    (`stops_within_seconds`); it gets at least that long, so that it is not killed in the middle of it."""
    for process in processes:
        signal_group(process, signal.SIGTERM)
    signalled = time.monotonic()
    ended = []
    for process in processes:
        grace = max(grace_seconds, getattr(process, "stops_within_seconds", 0.0))
        outcome = reap(process, max(0.0, signalled + grace - time.monotonic()))
        if outcome is None:
            signal_group(process, signal.SIGKILL)
            outcome = reap(process, None)
        ended.append(outcome)
    return ended


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
