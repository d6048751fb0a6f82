"""Inside a block's forking process (`--process-per fork`): each trial of the block in a process of its own, forked
from this one, which has imported Python's, TensorFlow's, Keras' and the study's modules and built nothing.

Why: starting a fresh interpreter and importing TensorFlow and Keras is 7-10 s of every trial, most of a trial's time
outside its epochs (reports/benchmarks/trial_phases.txt); a forked child starts with all of it imported. What it
shares with its siblings is imported code only: no model, dataset, tf.data or Keras state, thread pool or traced
function exists before the fork, so no trial inherits another's warm state. Whether that moves a result is measured
side by side with fresh processes (benchmarks/process_per_block.py), not assumed.

Run as `python -m study.fork_server` by study.shared_process, which feeds it as it feeds a block's shared process
(study/shared_trials.py): one trial's spec per line on the standard input, {"finish": true} at the block's end; it
reports the same events on the same channel. For each spec it forks a child that runs the trial exactly as a trial's
own process does (study.trial.main: the timed fit, the evaluation, the pipeline pass, then - when asked - holding its
used iterator to probe the boundary at full age, in the background while the next trial runs), its standard error in
the trial's own log (the spec's `log`). Only one child runs its fit at a time: the runner sends the next spec once
the current trial has reported.

Each child writes its events to a pipe of its own, which this process passes on line by line, so that a held
trial's `boundary` line can never cut into the running trial's. A `boundary` reported during the block is kept until
the block's end, where the runner expects the block's probes (the `holding` event first, as a shared process
sends it). A child that dies without reporting is reported as the trial's `error`, with how it died.

One thread (select over the standard input and the children's pipes) forks the children: no lock of another thread
of this process can be held in a child.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import traceback

# What a trial imports, imported once here (everything heavy is in TensorFlow and Keras).
_MODULES = ("tensorflow", "keras", "inputs.registry", "inputs.corpus", "models", "study.trial", "study.timing",
            "study.boundary_probe", "study.trial_measurements", "study.config")


class _Child:
    def __init__(self, pid: int, spec: dict):
        self.pid, self.spec = pid, spec
        self.pending = b""  # a line not yet whole
        self.reported = False  # its `done` or `error` has been passed on
        self.holding_seconds = None  # from its `done`: it holds its used iterator this long


class ForkServer:
    def __init__(self, channel):
        from study import trial

        self.channel, self.prefix = channel, trial.PROTOCOL_PREFIX
        self.children: dict[int, _Child] = {}  # by the read end of its event pipe
        self.kept: list[str] = []  # `boundary` lines held back until the block's end
        self.finishing = False

    # --- forking ---------------------------------------------------------------------------------------------

    def fork(self, line: str) -> None:
        sys.stderr.flush()  # nothing of ours buffered to be written twice
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            self._be_the_trial(line, read_end, write_end)  # never returns
        os.close(write_end)
        self.children[read_end] = _Child(pid, json.loads(line))

    def _be_the_trial(self, line: str, read_end: int, write_end: int) -> None:
        """In the child: the trial, as its own process runs it (study.trial.main), its events on its own pipe."""
        code = 1
        try:
            server = os.getppid()
            os.setpgid(0, 0)  # a group of its own, which its workers join: ended as a whole, as a trial's own process
            for fd in (read_end, self.channel.fileno(), *self.children):
                os.close(fd)  # the runner's channel and the siblings' pipes are not the child's
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)  # the specs are the server's to read
            os.dup2(write_end, 1)  # study.trial.open_protocol_channel takes its channel from fd 1
            os.close(devnull)
            os.close(write_end)
            log = json.loads(line).get("log")
            if log:  # the trial's own log, as a trial in a fresh process has; else the block's
                log_fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                os.dup2(log_fd, 2)
                os.close(log_fd)  # sys.stderr writes to fd 2, now the log
            for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(number, signal.SIG_DFL)
            from processes import parent_death
            from study import trial

            parent_death.exit_with_parent(server, signal.SIGKILL, whole_group=True)
            code = trial.main([line])
        except BaseException:  # noqa: BLE001 - the child must never return into the server's loop
            traceback.print_exc()
        finally:
            sys.stderr.flush()
            os._exit(code)

    # --- passing events on -------------------------------------------------------------------------------------

    def _pass_on(self, child: _Child, line: bytes) -> None:
        text = line.decode("utf-8", errors="replace")
        if text.startswith(self.prefix):
            event = json.loads(text[len(self.prefix):])
            kind = event.get("event")
            if kind in ("done", "error"):
                child.reported = True
                child.holding_seconds = event.get("holding_seconds") if kind == "done" else None
            elif kind == "boundary" and not self.finishing:
                self.kept.append(text)
                return
            self.channel.write(text)
            self.channel.flush()
        else:  # a library's print on the child's fd 1 before the channel was set up: the log's
            sys.stderr.write(text)

    def read_child(self, fd: int) -> None:
        child = self.children[fd]
        data = os.read(fd, 65536)
        if data:
            *lines, child.pending = (child.pending + data).split(b"\n")
            for line in lines:
                self._pass_on(child, line + b"\n")
            return
        os.close(fd)
        del self.children[fd]
        if child.pending:
            self._pass_on(child, child.pending + b"\n")
        _, status = os.waitpid(child.pid, 0)
        if not child.reported:
            self._emit("error", error=_how_it_ended(os.waitstatus_to_exitcode(status)))

    def finish(self) -> None:
        """The block's end: which children hold a probe (`holding`, as a shared process reports it), then the
        `boundary` lines held back; later ones are passed on as they come."""
        self.finishing = True
        held = [{"strategy": child.spec["strategy"], "sweep_value": child.spec.get("sweep_value"),
                 "holding_seconds": child.holding_seconds}
                for child in self.children.values() if child.holding_seconds]
        held += [{"strategy": event["strategy"], "sweep_value": event.get("sweep_value"),
                  "holding_seconds": event.get("target_age_seconds")}
                 for event in (json.loads(line[len(self.prefix):]) for line in self.kept)]
        self._emit("holding", probes=held, errors=[])  # a probe that could not be built is in its trial's `done`
        for line in self.kept:
            self.channel.write(line)
        self.channel.flush()
        self.kept = []

    def _emit(self, event: str, **fields) -> None:
        from study import trial

        trial.emit(self.channel, event, **fields)

    def stop_children(self) -> None:
        for child in self.children.values():
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except OSError:
                pass

    # --- the loop ----------------------------------------------------------------------------------------------

    def serve(self) -> None:
        specs = b""
        while self.children or not self.finishing:
            watched = list(self.children) + ([] if self.finishing else [0])
            for fd in select.select(watched, [], [])[0]:
                if fd != 0:
                    self.read_child(fd)
                    continue
                data = os.read(0, 65536)
                if not data:  # the runner closed our input without finishing the block: it ends us
                    self.stop_children()
                    return
                *lines, specs = (specs + data).split(b"\n")
                for line in filter(None, (raw.strip() for raw in lines)):
                    if json.loads(line).get("finish"):
                        self.finish()
                    else:
                        self.fork(line.decode())


def _how_it_ended(exit_code: int) -> str:
    if exit_code < 0:
        name = signal.Signals(-exit_code).name
        return f"the trial's process was killed by {name}" + (" (out of memory?)" if name == "SIGKILL" else "")
    return f"the trial's process exited with status {exit_code} without reporting its results"


def main() -> int:
    from processes import lean_import, parent_death

    parent_death.exit_with_parent_from_environment(whole_group=True)  # as a trial's own process does (study/trial.py)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    lean_import.import_tensorflow_and_keras()  # as a trial's own process does
    import importlib

    from study import trial

    channel = trial.open_protocol_channel()
    for module in _MODULES:
        importlib.import_module(module)
    server = ForkServer(channel)
    server.serve()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
