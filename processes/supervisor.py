"""A tiny process between a parent and a command, so that nothing the command starts, at any depth,
outlives the parent - however the parent dies (SIGKILL, the out-of-memory killer, a closed terminal).

`start(command, ...)` runs `python -m processes.supervisor --report-fd FD --grace S -- COMMAND...` in a
session of its own; `processes.children.reap` and `stop` treat it as the command itself. `run(command)` runs a
command to its end that way, as subprocess.run would.

Why a process of its own: the command (a trial) imports TensorFlow and may hold its GIL in C++ for seconds,
and a parent-death signal SIGKILL ends it before it could end its children, whose own parent-death signal
points at it, not at the parent. The supervisor imports only the standard library and spends its life
blocked in sigtimedwait, so it acts within milliseconds:

- It is a child subreaper (Linux prctl PR_SET_CHILD_SUBREAPER): whatever the command starts and leaves
  behind (a worker whose parent died, a daemon in a session of its own) becomes the supervisor's child
  rather than init's, so every descendant stays under it and is found by `processes.tree`.
- The parent's death - its parent-death signal, or its pid no longer being our parent (looked at every half
  second as well) - SIGKILLs every descendant at once; then the supervisor exits.
- SIGTERM, SIGINT or SIGHUP (the parent stopping the command): SIGTERM to every descendant, SIGKILL to what
  still runs after the grace period.
- When the command ends, whatever it left running is SIGKILLed; the supervisor writes the command's exit
  status and its os.wait4 resource usage (the command's CPU time and peak memory, not the supervisor's) to
  FD, and ends as the command did (the same exit status, or killed by the same signal).

The command runs in a process group of its own, so the parent's signals to the supervisor's group reach the
supervisor only, which passes them on in order. It learns the supervisor's pid through $STUDY_PARENT_PID
(processes.parent_death), to end should the supervisor itself be killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import time
import types

from processes import children, tree
from processes.parent_death import PARENT_PID_VARIABLE, set_parent_death_signal

PARENT_DIED = signal.SIGUSR1  # our parent-death signal: apart from the stop signals, so never mistaken for one
STOPS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
_WAKE_ON = (signal.SIGCHLD, PARENT_DIED, *STOPS)
_PARENT_LOOK_SECONDS = 0.5  # also look whether the parent changed: the parent-death signal can miss
_KILL_SECONDS = 10.0  # at most this long making sure everything is gone (a process stuck in the kernel)
_STOP_MARGIN_SECONDS = 3.0  # the caller's SIGKILL waits this long past our own grace period
PR_SET_CHILD_SUBREAPER = 36


# --- the caller's side ---------------------------------------------------------------------------------


class Supervised(subprocess.Popen):
    """The supervisor process, seen as the command it runs (see `start`)."""

    stops_within_seconds = children.STOP_GRACE_SECONDS + _STOP_MARGIN_SECONDS
    report_fd: int | None = None

    def command_ended(self, own_usage) -> children.Ended:
        """How the command ended, from the supervisor's report; without one (the supervisor was killed
        itself), the supervisor's exit and its own usage, which includes whatever it reaped."""
        report = _read_all(self.report_fd) if self.report_fd is not None else b""
        self.report_fd = None
        try:
            ending = json.loads(report)
        except ValueError:
            return children.Ended(self.returncode, own_usage)
        usage = types.SimpleNamespace(ru_utime=ending["user_seconds"], ru_stime=ending["system_seconds"],
                                      ru_maxrss=ending["peak_rss_kb"])
        self.returncode = ending["exit_code"]
        return children.Ended(ending["exit_code"], usage)


def start(command: list[str], stdout, stderr, environment=None, cwd=None, text=False,
          grace_seconds: float = children.STOP_GRACE_SECONDS, stdin=subprocess.DEVNULL) -> Supervised:
    """processes.children.start for `command`, run under a supervisor (see the module docstring). Set
    $STUDY_PARENT_PID in `environment` to this process' pid for the supervisor to end with it. `stdin`
    (subprocess.PIPE: a channel to the command) reaches the command through the supervisor, which never reads it."""
    report_read, report_write = os.pipe()
    try:
        process = Supervised(
            [sys.executable, "-m", "processes.supervisor", "--report-fd", str(report_write),
             "--grace", f"{grace_seconds:g}", "--", *command],
            stdin=stdin, stdout=stdout, stderr=stderr, text=text, cwd=cwd, start_new_session=True,
            env=children.child_environment() if environment is None else environment, pass_fds=(report_write,),
        )
    except BaseException:
        os.close(report_read)
        raise
    finally:
        os.close(report_write)
    process.report_fd = report_read
    process.stops_within_seconds = grace_seconds + _STOP_MARGIN_SECONDS
    return process


def run(command: list[str], environment=None, cwd=None) -> tuple[int, str]:
    """(exit code, standard error) of `command`, run to its end under a supervisor that ends with this process,
    however this process ends; its standard output is discarded. A KeyboardInterrupt here (a stop signal)
    stops it and everything it started, then goes on."""
    environment = dict(children.child_environment() if environment is None else environment,
                       **{PARENT_PID_VARIABLE: str(os.getpid())})
    process = start(command, subprocess.DEVNULL, subprocess.PIPE, environment=environment, cwd=cwd, text=True)
    try:
        errors = process.stderr.read()  # to its end: the command and all it started have ended
        ended = children.reap(process, None)
    except BaseException:
        children.stop([process])
        raise
    finally:
        process.stderr.close()
    return ended.exit_code, errors


def _read_all(fd: int) -> bytes:
    # The supervisor has ended and no other process holds the pipe's other end: this reads to its end at once.
    chunks = []
    try:
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    except OSError:
        pass
    finally:
        os.close(fd)
    return b"".join(chunks)


# --- the supervisor process ----------------------------------------------------------------------------


def _set_child_subreaper() -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1)


def _reap_children(command_pid: int) -> tuple | None:
    """Reaps every child that has ended; (wait status, rusage) of the command if it was among them."""
    command = None
    while True:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return command
        if not pid:
            return command
        if pid == command_pid:
            command = (status, usage)


def _end_everything(command_pid: int, command_reaped: bool) -> tuple | None:
    """SIGKILL to every descendant until none is left (whatever they start meanwhile included); returns
    the command's (wait status, rusage) if it was reaped here."""
    command = None
    deadline = time.monotonic() + _KILL_SECONDS
    while time.monotonic() < deadline:
        if not (command_reaped or command):  # its group id cannot belong to another group until it is reaped
            with contextlib.suppress(OSError):
                os.killpg(command_pid, signal.SIGKILL)  # also where /proc cannot be read
        alive = tree.descendants(os.getpid())
        tree.signal_all(alive, signal.SIGKILL)
        command = _reap_children(command_pid) or command
        if not alive:
            return command
        signal.sigtimedwait([signal.SIGCHLD], 0.01)
    return command


def _report(report_fd: int, wait_status: int, usage) -> None:
    ending = {"exit_code": os.waitstatus_to_exitcode(wait_status), "user_seconds": usage.ru_utime,
              "system_seconds": usage.ru_stime, "peak_rss_kb": usage.ru_maxrss}
    with contextlib.suppress(OSError):  # nobody reads it any more: the parent is gone
        os.write(report_fd, json.dumps(ending).encode())
        os.close(report_fd)


def _end_as(exit_code: int) -> None:
    """Exit as the command did: with its status, or killed by its signal (without a core dump of our own)."""
    if exit_code >= 0:
        os._exit(exit_code)
    signal_number = -exit_code
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    with contextlib.suppress(OSError):  # SIGKILL and SIGSTOP have no handler to reset
        signal.signal(signal_number, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal_number])
    os.kill(os.getpid(), signal_number)
    os._exit(128 + signal_number)


def supervise(command: list[str], report_fd: int, grace_seconds: float) -> None:
    # Every signal that wakes us is blocked and waited for with sigtimedwait: no handler can be lost or
    # interrupt the bookkeeping. The command starts with the usual signal mask, in a group of its own.
    signal.pthread_sigmask(signal.SIG_BLOCK, _WAKE_ON)
    parent = int(os.environ.pop(PARENT_PID_VARIABLE, "") or os.getppid())
    _set_child_subreaper()
    set_parent_death_signal(PARENT_DIED)
    if os.getppid() != parent:  # the parent died before its death could be signalled to us
        os._exit(1)
    environment = dict(os.environ, **{PARENT_PID_VARIABLE: str(os.getpid())})
    os.set_inheritable(report_fd, False)  # the command must not hold the report open
    try:
        # The defaults subprocess restores for a child (Python ignores SIGPIPE), and an empty signal mask.
        command_pid = os.posix_spawnp(command[0], command, environment, setpgroup=0, setsigmask=(),
                                      setsigdef=(signal.SIGPIPE, signal.SIGXFSZ))
    except OSError as error:
        print(f"cannot start {command[0]}: {error.strerror}", file=sys.stderr, flush=True)
        os._exit(127)
    kill_at = None  # when a stop's grace period ends
    while True:
        ended = _reap_children(command_pid)
        if ended:
            break
        if os.getppid() != parent:  # the parent died: nothing of ours may outlive it
            _end_everything(command_pid, command_reaped=False)
            os._exit(1)
        now = time.monotonic()
        if kill_at is not None and now >= kill_at:
            ended = _end_everything(command_pid, command_reaped=False)
            if ended:
                break
            kill_at = now + _PARENT_LOOK_SECONDS  # the command is stuck in the kernel: look again soon
        wait = _PARENT_LOOK_SECONDS if kill_at is None else min(_PARENT_LOOK_SECONDS, max(0.0, kill_at - now))
        woken_by = signal.sigtimedwait(_WAKE_ON, wait)
        if woken_by is not None and woken_by.si_signo in STOPS and kill_at is None:
            with contextlib.suppress(OSError):
                os.killpg(command_pid, signal.SIGTERM)
            tree.signal_all(tree.descendants(os.getpid()), signal.SIGTERM)
            kill_at = time.monotonic() + grace_seconds
    wait_status, usage = ended
    _end_everything(command_pid, command_reaped=True)  # what the command left running
    _report(report_fd, wait_status, usage)
    _end_as(os.waitstatus_to_exitcode(wait_status))


def main(argv: list[str] | None = None) -> None:
    arguments = sys.argv[1:] if argv is None else argv
    split = arguments.index("--")
    options = dict(zip(arguments[:split:2], arguments[1:split:2]))
    supervise(arguments[split + 1 :], int(options["--report-fd"]), float(options["--grace"]))


if __name__ == "__main__":
    main()
